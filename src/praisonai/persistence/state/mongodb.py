"""MongoDB state store.

Engine: MongoDB 4.4+ (and servers that speak its wire protocol).
Driver: pymongo (``pip install "praisonai-persistence[mongodb]"``).
URL forms: ``mongodb://[user:password@]host[:port][,host...][/database][?options]``
and ``mongodb+srv://...``; the user and password are moved out of the URL into
secret fields.
Test tier: emulator. The tests run the real pymongo driver over the wire
against SecantusDB, a MongoDB-compatible server on WiredTiger started on
loopback; MongoDB's own server is not installable on the test machines.

The document layout and statements are in ``_mongo_documents``, and so are the
primitives (shared with ``async_mongodb``); the semantics are ``_document_store``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .._sansio import Call, drive, throw_in_everything
from . import _mongo_documents as _mongo
from ._document_store import DocumentStateStore, Item, Token
from .config import MongoStateConfig

if TYPE_CHECKING:
    from pymongo.collection import Collection

__all__ = ["MongoStateStore"]


class MongoStateStore(_mongo.MongoPrimitives, DocumentStateStore[MongoStateConfig]):
    """State as one MongoDB document per key, with a TTL index on ``expires_at``."""

    def __init__(self, config: MongoStateConfig) -> None:
        super().__init__(config, config.key_prefix)
        pymongo = self._import_pymongo()
        with self._translating:
            self._client = pymongo.MongoClient(config.url, **_mongo.client_options(config))
            self._collection: Collection[dict[str, Any]] = self._client[config.database][config.collection]
            if config.create_indexes:
                try:
                    self._collection.create_index("expires_at", name=_mongo.TTL_INDEX, expireAfterSeconds=0)
                except BaseException:
                    self._client.close()
                    raise

    def _collection_request(self, call: Call) -> Any:
        if call.method == "find_all":
            return list(self._collection.find(*call.args))
        return getattr(self._collection, call.method)(*call.args)

    def _on_collection(self, operation: _mongo.CollectionOperation[_mongo.R]) -> _mongo.R:
        return drive(operation, self._collection_request, throw_in_everything)

    def _load(self, key: str) -> tuple[Item, Token] | None:
        return self._on_collection(self._load_document(key))

    def _create(self, key: str, item: Item) -> bool:
        return self._on_collection(self._create_document(key, item))

    def _replace(self, key: str, item: Item, token: Token) -> bool:
        return self._on_collection(self._replace_document(key, item, token))

    def _remove(self, key: str, token: Token) -> bool:
        return self._on_collection(self._remove_document(key, token))

    def _put(self, key: str, item: Item) -> None:
        self._on_collection(self._put_document(key, item))

    def _scan(self, prefix: str) -> Iterable[tuple[str, float | None]]:
        return self._on_collection(self._scan_documents(prefix))

    def _load_many(self, keys: list[str]) -> dict[str, Item]:
        return self._on_collection(self._load_documents(keys))

    def _put_many(self, items: list[tuple[str, Item]]) -> None:
        self._on_collection(self._put_documents(items))

    def _shutdown(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"MongoStateStore({self.config.database}.{self.config.collection})"


MongoDBStateStore = MongoStateStore
"""PraisonAI 4.7.19's name of :class:`MongoStateStore`."""
