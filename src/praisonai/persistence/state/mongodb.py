"""MongoDB state store.

Engine: MongoDB 4.4+ (and servers that speak its wire protocol).
Driver: pymongo (``pip install "praisonai-persistence[mongodb]"``).
URL forms: ``mongodb://[user:password@]host[:port][,host...][/database][?options]``
and ``mongodb+srv://...``; the user and password are moved out of the URL into
secret fields.
Test tier: emulator. The tests run the real pymongo driver over the wire
against SecantusDB, a MongoDB-compatible server on WiredTiger started on
loopback; MongoDB's own server is not installable on the test machines.

The document layout and statements are in ``_mongo_documents`` (shared
with ``async_mongodb``); the semantics are ``_document_store``'s.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailableError, StoreError
from . import _mongo_documents as _mongo
from ._document_store import DocumentStateStore, Item, Token
from .config import MongoStateConfig

if TYPE_CHECKING:
    from pymongo.collection import Collection

__all__ = ["MongoStateStore"]


class MongoStateStore(DocumentStateStore):
    """State as one MongoDB document per key, with a TTL index on ``expires_at``."""

    backend = "mongodb"

    def __init__(self, config: MongoStateConfig) -> None:
        super().__init__(config.key_prefix)
        self.config = config
        pymongo = self._import_driver("pymongo")
        self._errors = pymongo.errors
        self._replace_one = pymongo.ReplaceOne
        self._client = pymongo.MongoClient(config.url, **_mongo.client_options(config))
        self._collection: Collection[dict[str, Any]] = self._client[config.database][config.collection]
        if config.create_indexes:
            try:
                with self._translating:
                    self._collection.create_index("expires_at", name=_mongo.TTL_INDEX, expireAfterSeconds=0)
            except BaseException:
                self._client.close()
                raise

    def _translate_error(self, error: Exception) -> Exception | None:
        errors = self._errors
        if isinstance(error, (errors.ServerSelectionTimeoutError, errors.AutoReconnect, errors.ConnectionFailure)):
            return BackendUnavailableError(f"cannot reach MongoDB: {error}")
        return None

    def _load(self, key: str) -> tuple[Item, Token] | None:
        document = self._collection.find_one(_mongo.key_filter(key))
        return None if document is None else _mongo.from_document(document)

    def _create(self, key: str, item: Item) -> bool:
        try:
            self._collection.insert_one(_mongo.to_document(key, item))
        except self._errors.DuplicateKeyError:
            return False
        return True

    def _replace(self, key: str, item: Item, token: Token) -> bool:
        result = self._collection.replace_one(_mongo.version_filter(key, token), _mongo.to_document(key, item))
        return result.matched_count == 1

    def _remove(self, key: str, token: Token) -> bool:
        return bool(self._collection.delete_one(_mongo.version_filter(key, token)).deleted_count == 1)

    def _put(self, key: str, item: Item) -> None:
        document = _mongo.to_document(key, item)
        for _attempt in range(3):
            try:
                self._collection.replace_one(_mongo.key_filter(key), document, upsert=True)
                return
            except self._errors.DuplicateKeyError:
                pass  # two upserts of a new _id can race; the loser retries and replaces
        raise StoreError(f"key {key!r}: concurrent upserts kept colliding")

    def _scan(self, prefix: str) -> Iterable[tuple[str, float | None]]:
        cursor = self._collection.find(_mongo.scan_filter(prefix, time.time()), _mongo.PROJECTION_FOR_SCAN)
        return [(document["_id"], _mongo.epoch_of(document)) for document in cursor]

    def _load_many(self, keys: list[str]) -> dict[str, Item]:
        documents = list(self._collection.find({"_id": {"$in": keys}}))
        return {document["_id"]: _mongo.from_document(document)[0] for document in documents}

    def _put_many(self, items: list[tuple[str, Item]]) -> None:
        requests = [
            self._replace_one(_mongo.key_filter(key), _mongo.to_document(key, item), upsert=True) for key, item in items
        ]
        self._collection.bulk_write(requests, ordered=False)

    def _shutdown(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"MongoStateStore({self.config.database}.{self.config.collection})"
