"""MongoDB Atlas Vector Search knowledge store, through pymongo.

Engine: MongoDB Atlas (or MongoDB 8.2+ Community with ``mongot``). Driver: ``pymongo``
(extra ``mongodb``, shared with the ``mongodb`` state store).
URL forms: ``mongodb+srv://user:password@cluster.example.net/database``, ``mongodb://...``
(the user and password move to SecretStr fields).
Test tier: fake, in part. Everything except ``$vectorSearch`` and the search-index
commands runs through pymongo against SecantusDB (a MongoDB wire-protocol server,
in process): catalogue, writes, ``get``, ``count``, filter deletes (the same filter
document, evaluated by SecantusDB as MQL). ``$vectorSearch`` and
``create_search_index`` are answered by a shim around the pymongo collection
(tests/support/hosted_fakes.py) that evaluates the stage's ``filter`` with SecantusDB's
``find`` and ranks by brute force. Atlas's ANN, its own filter evaluation and auth are
not exercised.

Layout: a catalogue collection ``<prefix>collections`` (``_id`` = collection name, the
settings JSON) and one MongoDB collection ``<prefix><name>`` per collection with a
``vectorSearch`` index named ``index_name`` on ``embedding`` (the collection's
similarity) with ``ix`` as its only filter path. ``_id`` is the document id.

Filters: Atlas Vector Search can filter only on paths declared in the index, and
metadata keys are open-ended, so every equality becomes membership of the ``ix``
token list (``$in`` / ``$nin``, see :mod:`._layers.records`). Ordering comparisons
(``$gt $gte $lt $lte``) would need a declared path per field and raise
UnsupportedFilterError. Search indexes build asynchronously on Atlas: a collection
is searchable once its index is ready (seconds).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._filters.native import Lowered
from ._filters.tokens import render_mql
from ._layers.hosted_store import HostedVectorStore, Settings
from ._layers.records import RANGE_OPERATORS, document_from_record
from .base import KnowledgeDocument
from .config import MongoVectorKnowledgeConfig

__all__ = ["MongoVectorKnowledgeStore"]

_SIMILARITY = {"cosine": "cosine", "dot": "dotProduct", "euclidean": "euclidean"}
_FIELDS = ("id", "content", "metadata", "content_hash", "created_at", "embedding", "ix")


class MongoVectorKnowledgeStore(HostedVectorStore[MongoVectorKnowledgeConfig]):
    """A KnowledgeStore on MongoDB Atlas Vector Search."""

    engine = "MongoDB"
    unsupported_filters = RANGE_OPERATORS

    def __init__(self, config: MongoVectorKnowledgeConfig) -> None:
        super().__init__(config)
        pymongo = self._import_driver("pymongo")
        self._operations: Any = self._import_driver("pymongo.operations")
        self._errors: Any = self._import_driver("pymongo.errors")
        options: dict[str, Any] = {"serverSelectionTimeoutMS": config.server_selection_timeout_ms}
        if config.username is not None:
            options["username"] = config.username
        if config.password is not None:
            options["password"] = config.password.get_secret_value()
        with self._translating:
            self._client: Any = pymongo.MongoClient(config.url, **options)
            self._db: Any = self._client[config.database]

    def _catalogue(self) -> Any:
        return self._db[f"{self.config.collection_prefix}collections"]

    def _data(self, name: str) -> Any:
        return self._db[f"{self.config.collection_prefix}{name}"]

    # -- primitives -------------------------------------------------------------------

    def _native_create(self, name: str, settings: Settings) -> bool:
        try:
            self._catalogue().insert_one({"_id": name, "settings": settings.to_json()})
        except self._errors.DuplicateKeyError:
            return False
        data = self._data(name)
        definition = {
            "fields": [
                {
                    "type": "vector",
                    "path": "embedding",
                    "numDimensions": settings.dimension,
                    "similarity": _SIMILARITY[settings.distance],
                },
                {"type": "filter", "path": "ix"},
            ]
        }
        data.create_search_index(
            self._operations.SearchIndexModel(definition=definition, name=self.config.index_name, type="vectorSearch")
        )
        return True

    def _native_drop(self, name: str) -> bool:
        self._data(name).drop()
        return bool(self._catalogue().delete_one({"_id": name}).deleted_count)

    def _find(self, name: str) -> Settings | None:
        entry = self._catalogue().find_one({"_id": name})
        return None if entry is None else Settings.from_json(entry["settings"])

    def _names(self) -> list[str]:
        return [str(entry["_id"]) for entry in self._catalogue().find({}, {"_id": 1})]

    def _taken(self, name: str, settings: Settings, ids: list[str]) -> set[str]:
        return {str(doc["_id"]) for doc in self._data(name).find({"_id": {"$in": ids}}, {"_id": 1})}

    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        replace = self._operations.ReplaceOne
        requests = [
            replace({"_id": r["id"]}, {"_id": r["id"], **{key: r[key] for key in _FIELDS}}, upsert=True)
            for r in records
        ]
        self._data(name).bulk_write(requests, ordered=True)

    def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        return {
            str(doc["_id"]): document_from_record(doc)
            for doc in self._data(name).find({"_id": {"$in": ids}}, {"ix": 0})
        }

    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        stage: dict[str, Any] = {
            "index": self.config.index_name,
            "path": "embedding",
            "queryVector": vector,
            "limit": limit,
        }
        if self.config.exact:
            stage["exact"] = True
        else:
            stage["numCandidates"] = min(10000, max(limit, limit * self.config.num_candidates_factor))
        if node is not None:
            stage["filter"] = render_mql(node)
        pipeline = [{"$vectorSearch": stage}, {"$project": {"ix": 0, "score": {"$meta": "vectorSearchScore"}}}]
        return [document_from_record(doc) for doc in self._data(name).aggregate(pipeline)]

    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        query = render_mql(node)
        if ids is not None:
            query = {"$and": [query, {"_id": {"$in": ids}}]}
        return [str(doc["_id"]) for doc in self._data(name).find(query, {"_id": 1})]

    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        self._data(name).delete_many({"_id": {"$in": ids}})

    def _count(self, name: str, settings: Settings) -> int:
        return int(self._data(name).count_documents({}))

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        last: str | None = None
        while True:
            query = {} if last is None else {"_id": {"$gt": last}}
            page = list(self._data(name).find(query, {"ix": 0}).sort("_id", 1).limit(batch_size))
            if not page:
                return
            last = str(page[-1]["_id"])
            yield [document_from_record(doc) for doc in page]

    def _release(self) -> None:
        self._client.close()


MongoDBVectorKnowledgeStore = MongoVectorKnowledgeStore
"""PraisonAI 4.7.19's name of :class:`MongoVectorKnowledgeStore`."""
