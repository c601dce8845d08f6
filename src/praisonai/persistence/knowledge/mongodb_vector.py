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

import asyncio
import functools
import inspect
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

from .._sansio import Operation, drive, drive_async, throw_in_everything
from ._filters.native import Lowered
from ._filters.tokens import render_mql
from ._layers.hosted_store import AsyncHostedVectorStore, HostedVectorStore, Settings
from ._layers.records import RANGE_OPERATORS, document_from_record
from ._layers.store_base import read_pages
from .base import KnowledgeDocument
from .config import MongoVectorKnowledgeConfig

__all__ = ["AsyncMongoVectorKnowledgeStore", "MongoVectorKnowledgeStore"]

R = TypeVar("R")

_SIMILARITY = {"cosine": "cosine", "dot": "dotProduct", "euclidean": "euclidean"}
_FIELDS = ("id", "content", "metadata", "content_hash", "created_at", "embedding", "ix")


class _OnCollection(NamedTuple):
    """A request: ``method(*args, **kwargs)`` on the database's collection ``collection``; with
    ``listed``, the documents of the cursor it returns."""

    collection: str
    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] | None = None
    listed: bool = False


def _run(database: Any, request: _OnCollection) -> Any:
    """The sync store's ``execute``: ``request`` on a pymongo ``Database``."""
    result = getattr(database[request.collection], request.method)(*request.args, **(request.kwargs or {}))
    return result.to_list() if request.listed else result


async def _run_async(database: Any, request: _OnCollection) -> Any:
    """The async store's, on an ``AsyncDatabase`` (whose ``find`` returns its cursor at once)."""
    result = getattr(database[request.collection], request.method)(*request.args, **(request.kwargs or {}))
    if inspect.isawaitable(result):
        result = await result
    return await result.to_list() if request.listed else result


class _MongoSteps:
    """The mongodb_vector primitives as steps of collection calls (:mod:`.._sansio`): one copy for
    the sync store (``MongoClient``) and the async one (``AsyncMongoClient``), whose collections
    have the same methods."""

    config: MongoVectorKnowledgeConfig
    _errors: Any
    _operations: Any

    def _client_options(self) -> dict[str, Any]:
        config = self.config
        options: dict[str, Any] = {"serverSelectionTimeoutMS": config.server_selection_timeout_ms}
        if config.username is not None:
            options["username"] = config.username
        if config.password is not None:
            options["password"] = config.password.get_secret_value()
        return options

    def _catalogue(self) -> str:
        return f"{self.config.collection_prefix}collections"

    def _data(self, name: str) -> str:
        return f"{self.config.collection_prefix}{name}"

    # -- the steps ---------------------------------------------------------------------

    def _find_steps(self, name: str) -> Operation[_OnCollection, Settings | None]:
        entry = yield _OnCollection(self._catalogue(), "find_one", ({"_id": name},))
        return None if entry is None else Settings.from_json(entry["settings"])

    def _ids_steps(self, collection: str, query: Mapping[str, Any]) -> Operation[_OnCollection, list[str]]:
        """The ``_id`` of each document of ``collection`` matching ``query``."""
        found = yield _OnCollection(collection, "find", (query, {"_id": 1}), listed=True)
        return [str(doc["_id"]) for doc in found]

    def _native_create_steps(self, name: str, settings: Settings) -> Operation[_OnCollection, bool]:
        try:
            yield _OnCollection(self._catalogue(), "insert_one", ({"_id": name, "settings": settings.to_json()},))
        except self._errors.DuplicateKeyError:
            return False
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
        model = self._operations.SearchIndexModel(
            definition=definition, name=self.config.index_name, type="vectorSearch"
        )
        yield _OnCollection(self._data(name), "create_search_index", (model,))
        return True

    def _native_drop_steps(self, name: str) -> Operation[_OnCollection, bool]:
        yield _OnCollection(self._data(name), "drop")
        return bool((yield _OnCollection(self._catalogue(), "delete_one", ({"_id": name},))).deleted_count)

    def _native_put_steps(self, name: str, records: list[dict[str, Any]]) -> Operation[_OnCollection, None]:
        replace = self._operations.ReplaceOne
        requests = [
            replace({"_id": r["id"]}, {"_id": r["id"], **{key: r[key] for key in _FIELDS}}, upsert=True)
            for r in records
        ]
        yield _OnCollection(self._data(name), "bulk_write", (requests,), {"ordered": True})

    def _fetch_steps(self, name: str, ids: list[str]) -> Operation[_OnCollection, dict[str, KnowledgeDocument]]:
        found = yield _OnCollection(self._data(name), "find", ({"_id": {"$in": ids}}, {"ix": 0}), listed=True)
        return {str(doc["_id"]): document_from_record(doc) for doc in found}

    def _native_query_steps(
        self, name: str, vector: list[float], limit: int, node: Lowered | None
    ) -> Operation[_OnCollection, list[KnowledgeDocument]]:
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
        found = yield _OnCollection(self._data(name), "aggregate", (pipeline,), listed=True)
        return [document_from_record(doc) for doc in found]

    def _native_matching_steps(
        self, name: str, node: Lowered, ids: list[str] | None
    ) -> Operation[_OnCollection, list[str]]:
        query = render_mql(node)
        if ids is not None:
            query = {"$and": [query, {"_id": {"$in": ids}}]}
        return (yield from self._ids_steps(self._data(name), query))

    def _native_remove_steps(self, name: str, ids: list[str]) -> Operation[_OnCollection, None]:
        yield _OnCollection(self._data(name), "delete_many", ({"_id": {"$in": ids}},))

    def _count_steps(self, name: str) -> Operation[_OnCollection, int]:
        return int((yield _OnCollection(self._data(name), "count_documents", ({},))))

    def _page_steps(self, name: str, after: str | None, size: int) -> Operation[_OnCollection, list[dict[str, Any]]]:
        """Up to ``size`` documents in ``_id`` order, after ``after``."""
        query = {} if after is None else {"_id": {"$gt": after}}
        page: list[dict[str, Any]] = yield _OnCollection(
            self._data(name), "find", (query, {"ix": 0}), {"sort": [("_id", 1)], "limit": size}, listed=True
        )
        return page


class MongoVectorKnowledgeStore(_MongoSteps, HostedVectorStore[MongoVectorKnowledgeConfig]):
    """A KnowledgeStore on MongoDB Atlas Vector Search."""

    engine = "MongoDB"
    unsupported_filters = RANGE_OPERATORS

    def __init__(self, config: MongoVectorKnowledgeConfig) -> None:
        super().__init__(config)
        pymongo = self._import_driver("pymongo")
        self._operations = self._import_driver("pymongo.operations")
        self._errors = self._import_driver("pymongo.errors")
        with self._translating:
            self._client: Any = pymongo.MongoClient(config.url, **self._client_options())
            self._db: Any = self._client[config.database]

    # -- primitives: the steps of _MongoSteps -----------------------------------------

    def _engine(self, steps: Operation[_OnCollection, R]) -> R:
        return drive(steps, functools.partial(_run, self._db), throw_in_everything)

    def _native_create(self, name: str, settings: Settings) -> bool:
        return self._engine(self._native_create_steps(name, settings))

    def _native_drop(self, name: str) -> bool:
        return self._engine(self._native_drop_steps(name))

    def _find(self, name: str) -> Settings | None:
        return self._engine(self._find_steps(name))

    def _names(self) -> list[str]:
        return self._engine(self._ids_steps(self._catalogue(), {}))

    def _taken(self, name: str, settings: Settings, ids: list[str]) -> list[str]:
        return self._engine(self._ids_steps(self._data(name), {"_id": {"$in": ids}}))

    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        self._engine(self._native_put_steps(name, records))

    def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        return self._engine(self._fetch_steps(name, ids))

    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        return self._engine(self._native_query_steps(name, vector, limit, node))

    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        return self._engine(self._native_matching_steps(name, node, ids))

    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        self._engine(self._native_remove_steps(name, ids))

    def _count(self, name: str, settings: Settings) -> int:
        return self._engine(self._count_steps(name))

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        def page(last: str | None) -> list[dict[str, Any]]:
            return self._engine(self._page_steps(name, last, batch_size))

        pages = read_pages(page, None, lambda _, docs: str(docs[-1]["_id"]))
        return ([document_from_record(doc) for doc in docs] for docs in pages)

    def _release(self) -> None:
        self._client.close()


class AsyncMongoVectorKnowledgeStore(_MongoSteps, AsyncHostedVectorStore[MongoVectorKnowledgeConfig]):
    """An AsyncKnowledgeStore on MongoDB Atlas Vector Search through pymongo's ``AsyncMongoClient``:
    the sync store's steps, awaited.

    The client opens on the first call, and anew in another event loop (a second
    ``asyncio.run``): a client belongs to its loop. A cancelled call stops at an ``await``;
    each write is one MongoDB command (``bulk_write`` of replacements, ``delete_many``).
    """

    engine = "MongoDB"
    unsupported_filters = RANGE_OPERATORS

    def __init__(self, config: MongoVectorKnowledgeConfig) -> None:
        super().__init__(config)
        self._pymongo: Any = self._import_driver("pymongo")
        self._operations = self._import_driver("pymongo.operations")
        self._errors = self._import_driver("pymongo.errors")
        self._client: Any = None
        self._db: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def _open_database(self) -> Any:
        """A new client's database (tests wrap it)."""
        self._client = self._pymongo.AsyncMongoClient(self.config.url, **self._client_options())
        return self._client[self.config.database]

    async def _engine(self, steps: Operation[_OnCollection, R]) -> R:
        loop = asyncio.get_running_loop()
        if self._db is None or self._client_loop is not loop:
            # The old client's sockets close with it; awaiting its close() would need its loop.
            self._db, self._client_loop = self._open_database(), loop
        return await drive_async(steps, functools.partial(_run_async, self._db), throw_in_everything)

    async def _native_create(self, name: str, settings: Settings) -> bool:
        return await self._engine(self._native_create_steps(name, settings))

    async def _native_drop(self, name: str) -> bool:
        return await self._engine(self._native_drop_steps(name))

    async def _find(self, name: str) -> Settings | None:
        return await self._engine(self._find_steps(name))

    async def _names(self) -> list[str]:
        return await self._engine(self._ids_steps(self._catalogue(), {}))

    async def _taken(self, name: str, settings: Settings, ids: list[str]) -> list[str]:
        return await self._engine(self._ids_steps(self._data(name), {"_id": {"$in": ids}}))

    async def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        await self._engine(self._native_put_steps(name, records))

    async def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        return await self._engine(self._fetch_steps(name, ids))

    async def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        return await self._engine(self._native_query_steps(name, vector, limit, node))

    async def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        return await self._engine(self._native_matching_steps(name, node, ids))

    async def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        await self._engine(self._native_remove_steps(name, ids))

    async def _count(self, name: str, settings: Settings) -> int:
        return await self._engine(self._count_steps(name))

    async def _all_ids(self, name: str, settings: Settings) -> list[str]:
        return await self._engine(self._ids_steps(self._data(name), {}))

    async def _release(self) -> None:
        client, self._client, self._db = self._client, None, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            await client.close()


MongoDBVectorKnowledgeStore = MongoVectorKnowledgeStore
"""PraisonAI 4.7.19's name of :class:`MongoVectorKnowledgeStore`."""
