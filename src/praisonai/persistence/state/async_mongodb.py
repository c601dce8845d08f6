"""MongoDB state store for asyncio, on pymongo's native async client.

Engine: MongoDB 4.4+ (and servers that speak its wire protocol).
Driver: pymongo's ``AsyncMongoClient`` (``pip install "praisonai-persistence[mongodb]"``).
Motor is deprecated in favour of it; the aliases ``motor`` and
``mongodb_async`` name this store.
URL forms: as ``mongodb``.
Test tier: emulator (SecantusDB on loopback, as ``mongodb``).

The client is created on the first call, inside the running event loop, and again
(the old one dropped) when the store is used from another loop: a client belongs to
its loop, and a second ``asyncio.run`` must find the store working. Each primitive is
one single-document command, so a cancelled call leaves nothing open. The layout,
statements and primitives are ``_mongo_documents``'s, identical to the sync store's.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .._sansio import Call, drive_async, throw_in_everything
from . import _mongo_documents as _mongo
from ._document_store import AsyncDocumentStateStore, Item, Token
from .config import AsyncMongoStateConfig

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient
    from pymongo.asynchronous.collection import AsyncCollection

__all__ = ["AsyncMongoStateStore"]


class AsyncMongoStateStore(_mongo.MongoPrimitives, AsyncDocumentStateStore[AsyncMongoStateConfig]):
    """State as one MongoDB document per key, through ``AsyncMongoClient``."""

    def __init__(self, config: AsyncMongoStateConfig) -> None:
        super().__init__(config, config.key_prefix)
        self._pymongo = self._import_pymongo()
        self._client: AsyncMongoClient[dict[str, Any]] | None = None
        self._collection_handle: AsyncCollection[dict[str, Any]] | None = None
        self._connecting: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _collection(self) -> AsyncCollection[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # Another event loop (the first one may be closed): its client and lock cannot serve
            # this one. The old client's sockets close with it; awaiting its close() would need its loop.
            self._client, self._collection_handle, self._connecting = None, None, asyncio.Lock()
            self._loop = loop
        if self._collection_handle is not None:
            return self._collection_handle
        assert self._connecting is not None
        async with self._connecting:  # concurrent first calls open one client, not several
            if self._collection_handle is None:
                client: AsyncMongoClient[dict[str, Any]] = self._pymongo.AsyncMongoClient(
                    self.config.url, **_mongo.client_options(self.config)
                )
                collection = client[self.config.database][self.config.collection]
                try:
                    if self.config.create_indexes:
                        await collection.create_index("expires_at", name=_mongo.TTL_INDEX, expireAfterSeconds=0)
                except BaseException:
                    await client.close()
                    raise
                self._client, self._collection_handle = client, collection
        return self._collection_handle

    async def _collection_request(self, call: Call) -> Any:
        collection = await self._collection()
        if call.method == "find_all":
            return await collection.find(*call.args).to_list()
        return await getattr(collection, call.method)(*call.args)

    async def _on_collection(self, operation: _mongo.CollectionOperation[_mongo.R]) -> _mongo.R:
        return await drive_async(operation, self._collection_request, throw_in_everything)

    async def _load(self, key: str) -> tuple[Item, Token] | None:
        return await self._on_collection(self._load_document(key))

    async def _create(self, key: str, item: Item) -> bool:
        return await self._on_collection(self._create_document(key, item))

    async def _replace(self, key: str, item: Item, token: Token) -> bool:
        return await self._on_collection(self._replace_document(key, item, token))

    async def _remove(self, key: str, token: Token) -> bool:
        return await self._on_collection(self._remove_document(key, token))

    async def _put(self, key: str, item: Item) -> None:
        await self._on_collection(self._put_document(key, item))

    async def _scan(self, prefix: str) -> list[tuple[str, float | None]]:
        return await self._on_collection(self._scan_documents(prefix))

    async def _load_many(self, keys: list[str]) -> dict[str, Item]:
        return await self._on_collection(self._load_documents(keys))

    async def _put_many(self, items: list[tuple[str, Item]]) -> None:
        await self._on_collection(self._put_documents(items))

    async def _shutdown(self) -> None:
        client, self._client, self._collection_handle, self._connecting = self._client, None, None, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.close()

    def __repr__(self) -> str:
        return f"AsyncMongoStateStore({self.config.database}.{self.config.collection})"


AsyncMongoDBStateStore = AsyncMongoStateStore
"""PraisonAI 4.7.19's name of :class:`AsyncMongoStateStore`."""
