"""MongoDB state store for asyncio, on pymongo's native async client.

Engine: MongoDB 4.4+ (and servers that speak its wire protocol).
Driver: pymongo's ``AsyncMongoClient`` (``pip install "praisonai-persistence[mongodb]"``).
Motor is deprecated in favour of it; the aliases ``motor`` and
``mongodb_async`` name this store.
URL forms: as ``mongodb``.
Test tier: emulator (SecantusDB on loopback, as ``mongodb``).

The client is created on the first call, inside the running event loop. The
layout and statements are ``_mongo_documents``'s, identical to the sync store's.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailableError, StoreError
from . import _mongo_documents as _mongo
from ._document_store import AsyncDocumentStateStore, Item, Token
from .config import AsyncMongoStateConfig

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient
    from pymongo.asynchronous.collection import AsyncCollection

__all__ = ["AsyncMongoStateStore"]


class AsyncMongoStateStore(AsyncDocumentStateStore):
    """State as one MongoDB document per key, through ``AsyncMongoClient``."""

    backend = "async_mongodb"

    def __init__(self, config: AsyncMongoStateConfig) -> None:
        super().__init__(config.key_prefix)
        self.config = config
        self._pymongo = self._import_driver("pymongo")
        self._errors = self._pymongo.errors
        self._client: AsyncMongoClient[dict[str, Any]] | None = None
        self._collection_handle: AsyncCollection[dict[str, Any]] | None = None
        self._connecting: asyncio.Lock | None = None

    async def _collection(self) -> AsyncCollection[dict[str, Any]]:
        if self._collection_handle is not None:
            return self._collection_handle
        if self._connecting is None:  # made here, inside the running loop
            self._connecting = asyncio.Lock()
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

    def _translate_error(self, error: Exception) -> Exception | None:
        errors = self._errors
        if isinstance(error, (errors.ServerSelectionTimeoutError, errors.AutoReconnect, errors.ConnectionFailure)):
            return BackendUnavailableError(f"cannot reach MongoDB: {error}")
        return None

    async def _load(self, key: str) -> tuple[Item, Token] | None:
        collection = await self._collection()
        document = await collection.find_one(_mongo.key_filter(key))
        return None if document is None else _mongo.from_document(document)

    async def _create(self, key: str, item: Item) -> bool:
        collection = await self._collection()
        try:
            await collection.insert_one(_mongo.to_document(key, item))
        except self._errors.DuplicateKeyError:
            return False
        return True

    async def _replace(self, key: str, item: Item, token: Token) -> bool:
        collection = await self._collection()
        result = await collection.replace_one(_mongo.version_filter(key, token), _mongo.to_document(key, item))
        return result.matched_count == 1

    async def _remove(self, key: str, token: Token) -> bool:
        collection = await self._collection()
        result = await collection.delete_one(_mongo.version_filter(key, token))
        return result.deleted_count == 1

    async def _put(self, key: str, item: Item) -> None:
        collection = await self._collection()
        document = _mongo.to_document(key, item)
        for _attempt in range(3):
            try:
                await collection.replace_one(_mongo.key_filter(key), document, upsert=True)
                return
            except self._errors.DuplicateKeyError:
                pass  # two upserts of a new _id can race; the loser retries and replaces
        raise StoreError(f"key {key!r}: concurrent upserts kept colliding")

    async def _scan(self, prefix: str) -> list[tuple[str, float | None]]:
        collection = await self._collection()
        cursor = collection.find(_mongo.scan_filter(prefix, time.time()), _mongo.PROJECTION_FOR_SCAN)
        return [(document["_id"], _mongo.epoch_of(document)) for document in await cursor.to_list()]

    async def _load_many(self, keys: list[str]) -> dict[str, Item]:
        collection = await self._collection()
        documents = await collection.find({"_id": {"$in": keys}}).to_list()
        return {document["_id"]: _mongo.from_document(document)[0] for document in documents}

    async def _put_many(self, items: list[tuple[str, Item]]) -> None:
        collection = await self._collection()
        requests = [
            self._pymongo.ReplaceOne(_mongo.key_filter(key), _mongo.to_document(key, item), upsert=True)
            for key, item in items
        ]
        await collection.bulk_write(requests, ordered=False)

    async def _shutdown(self) -> None:
        client, self._client, self._collection_handle, self._connecting = self._client, None, None, None
        if client is not None:
            await client.close()

    def __repr__(self) -> str:
        return f"AsyncMongoStateStore({self.config.database}.{self.config.collection})"
