"""Chroma knowledge store: chromadb's embedded persistent client, or its HTTP client (sync and asyncio).

Engine: Chroma. Driver: ``chromadb`` (extra ``chroma``).
URL forms: a directory, ``chroma:///relative/dir``, ``chroma:////absolute/dir`` (embedded;
``:memory:``, or PraisonAI's ``persistent=False``, for chroma's in-memory client, shared in the process);
``http[s]://host:8000`` or ``chroma://host:8000`` with ``?tenant=&database=`` and ``token``
(server).
Test tier: server, and embedded: the contract suite runs on ``PersistentClient`` and on
``HttpClient`` against chroma's own server (``chroma run``) on loopback; the async suite on
``AsyncHttpClient`` against the same server.

``ChromaKnowledgeStore`` and ``AsyncChromaKnowledgeStore`` (``async_chroma``) run one copy of
the engine steps (``_ChromaSteps``, sans-IO: :mod:`.._sansio`) on chromadb's sync client and on
its ``AsyncHttpClient``; the async store on an embedded directory (chroma has no async embedded
client) runs each step's calls on the sync client in a worker thread.

Embeddings are always passed to Chroma; collections are created and opened with
``embedding_function=None`` and no text is ever sent to be embedded, so Chroma
never loads (or downloads) an embedding model. Telemetry is turned off.

Layout: one Chroma collection per collection, with the portable settings in the
collection's metadata (``hnsw:space`` is ``cosine``, ``ip`` or ``l2``). Chroma
names need 3+ characters starting and ending with a letter or digit, so a name
that is not already such a name is stored as ``k.<name>.k`` (portable names
have no ``.``, so this never collides). Only collections created by this
backend are listed. Each document's Chroma metadata holds the exact metadata
JSON, the hash and the creation time, plus the typed index of
:mod:`._filters.native` (keys ``t:``, ``s:``, ``n:``, ``b:``, ``c<j>:`` followed by the
field name) that filters are translated onto: Chroma's ``where`` compares
numbers across int and float, keeps bools apart, and lets ``$ne`` match an absent
key, as the portable language needs.

Scores: Chroma returns distances: cosine ``1 - similarity``, ip ``1 - dot``, l2 the
*squared* L2 distance; they are turned into the portable scores. Chroma stores
float32 and searches an HNSW index, which is approximate on large collections;
euclidean collections up to :data:`EXACT_EUCLIDEAN_BELOW` documents are searched exactly
(a vector near the origin can strand most documents in Chroma's L2 graph), and so is any search
the graph answers with fewer than ``limit`` documents while more match (hundreds of equal
vectors can leave some unreachable). A filter bound that
is not a whole number is rewritten so that integers in metadata compare exactly (Chroma
truncates it against them); an upsert removes the metadata keys the new document dropped.
``insert`` checks and writes under the store's lock; against a server, a second
writer can race between the check and the write (Chroma's ``add`` silently
ignores existing ids, so the check is needed).
"""

from __future__ import annotations

import asyncio
import math
import re
from typing import Any, ClassVar, TypeVar

from .._closing import close_client
from .._sansio import Call, Operation, call_on, drive, throw_in_everything
from .._values import dump_json, load_json
from ..errors import BackendUnavailableError
from ._filters import native as nodes
from ._filters.native import index_metadata, int64_or_float, render
from ._layers.async_store_base import AsyncEmbeddedOrServerStore
from ._layers.contract import EngineStepsPrimitives
from ._layers.store_base import OffsetPagedStore, OpenedCollection, raised_by, score_of_distance
from .base import Distance, KnowledgeDocument
from .config import ChromaKnowledgeConfig
from .filters import FilterNode

__all__ = ["AsyncChromaKnowledgeStore", "ChromaKnowledgeStore"]

R = TypeVar("R")

_SPACE = {"cosine": "cosine", "dot": "ip", "euclidean": "l2"}
_CHUNKS = 32
_NATIVE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,510}[A-Za-z0-9]$")
# Keys of the collection's and the documents' Chroma metadata that belong to this backend.
_DIMENSION = "praisonai:dimension"
_DISTANCE = "praisonai:distance"
_COLLECTION_METADATA = "praisonai:metadata"
_METADATA = "praisonai:metadata"
_HASH = "praisonai:content_hash"
_CREATED = "praisonai:created_at"
_UNREACHABLE = frozenset({"ConnectError", "ConnectTimeout", "ConnectionError", "ConnectionRefusedError"})
_UNREACHABLE_TEXTS = ("Could not connect to a Chroma server",)
_INCLUDE = ["documents", "metadatas", "embeddings"]
_EXACT_PAGE = 5000
_IDS_PER_CALL = 1000
EXACT_EUCLIDEAN_BELOW = 20_000
"""Euclidean collections up to this many documents are searched exactly (see ``_exact_steps``)."""


def _distances(distance: Distance, vectors: Any, query: Any) -> Any:
    """Chroma's distance from ``query`` to each row of ``vectors`` (cosine ``1 - similarity``, ip
    ``1 - dot``, l2 squared): a zero vector's cosine similarity is 0.0, as in the reference."""
    import numpy

    if distance == "euclidean":
        return ((vectors - query) ** 2).sum(axis=1)
    dots = vectors @ query
    if distance == "dot":
        return 1.0 - dots
    norms = numpy.linalg.norm(vectors, axis=1) * numpy.linalg.norm(query)
    return 1.0 - numpy.divide(dots, norms, out=numpy.zeros_like(dots), where=norms > 0)


def _native_name(name: str) -> str:
    return name if _NATIVE_NAME.match(name) else f"k.{name}.k"


def _portable_name(native: str) -> str:
    return native[2:-2] if native.startswith("k.") and native.endswith(".k") else native


def _embedded_client(chromadb: Any, config: ChromaKnowledgeConfig) -> Any:
    """chromadb's in-memory or persistent client for ``config`` (which names a directory or ``:memory:``)."""
    settings = chromadb.Settings(anonymized_telemetry=False)
    if config.local_path == ":memory:":
        return chromadb.EphemeralClient(settings=settings, tenant=config.tenant, database=config.database)
    return chromadb.PersistentClient(
        path=config.local_path, settings=settings, tenant=config.tenant, database=config.database
    )


def _server_options(chromadb: Any, config: ChromaKnowledgeConfig) -> dict[str, Any]:
    """The keyword arguments of ``HttpClient`` / ``AsyncHttpClient`` for the configured server."""
    assert config.host is not None
    headers = {"X-Chroma-Token": config.token.get_secret_value()} if config.token is not None else None
    return {
        "host": config.host,
        "port": config.port,
        "ssl": config.ssl,
        "headers": headers,
        "settings": chromadb.Settings(anonymized_telemetry=False),
        "tenant": config.tenant,
        "database": config.database,
    }


class _ChromaSteps(EngineStepsPrimitives):
    """Chroma's engine primitives as steps of client calls (:mod:`.._sansio`), and the mapping of
    documents and filters: one copy for the sync store (chromadb's ``Client``) and the async one
    (``AsyncClientAPI``), whose client and collection methods have the same names and arguments.
    Collection calls go to the collection handle of ``_find`` (``Call(..., on=target.native)``)."""

    config: ChromaKnowledgeConfig
    _not_found: type[Exception]  # chromadb.errors.NotFoundError
    exact_filter_numbers: ClassVar[int | None] = 2**53  # numbers are indexed as 64-bit floats

    def _find_steps(self, name: str) -> Operation[Call, OpenedCollection | None]:
        try:
            collection = yield Call("get_collection", (_native_name(name),), {"embedding_function": None})
        except (self._not_found, ValueError):
            return None
        stored = collection.metadata or {}
        if _DIMENSION not in stored:
            return None
        return OpenedCollection(
            collection, int(stored[_DIMENSION]), stored[_DISTANCE], load_json(stored[_COLLECTION_METADATA])
        )

    def _create_steps(
        self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None
    ) -> Operation[Call, None]:
        yield Call(
            "create_collection",
            (_native_name(name),),
            {
                "embedding_function": None,
                "metadata": {
                    "hnsw:space": _SPACE[distance],
                    _DIMENSION: dimension,
                    _DISTANCE: distance,
                    _COLLECTION_METADATA: dump_json(metadata),
                },
            },
        )

    def _drop_steps(self, name: str, target: OpenedCollection) -> Operation[Call, None]:
        yield Call("delete_collection", (_native_name(name),))

    def _names_steps(self) -> Operation[Call, list[str]]:
        found = yield Call("list_collections")
        return [_portable_name(collection.name) for collection in found if _DIMENSION in (collection.metadata or {})]

    def _taken_steps(self, name: str, target: OpenedCollection, ids: list[str]) -> Operation[Call, list[str]]:
        taken: list[str] = []
        for start in range(0, len(ids), _IDS_PER_CALL):  # one call per id list hit SQLite's variable limit
            page = yield Call("get", (), {"ids": ids[start : start + _IDS_PER_CALL], "include": []}, on=target.native)
            taken += page["ids"]
        return taken

    def _put_steps(
        self, name: str, target: OpenedCollection, documents: list[KnowledgeDocument], *, overwrite: bool
    ) -> Operation[Call, None]:
        write = "upsert" if overwrite else "add"
        step = max(1, int((yield Call("get_max_batch_size"))))
        for start in range(0, len(documents), step):
            batch = documents[start : start + step]
            metadatas = [self._metadata(document) for document in batch]
            if overwrite:
                # Chroma's upsert merges metadata into the stored one: a key the new document no
                # longer has would stay (and match filters). None removes it.
                stored = yield Call(
                    "get", (), {"ids": [document.id for document in batch], "include": ["metadatas"]}, on=target.native
                )
                previous = dict(zip(stored["ids"], stored["metadatas"] or [], strict=True))
                for document, metadata in zip(batch, metadatas, strict=True):
                    for key in previous.get(document.id) or {}:
                        metadata.setdefault(key, None)
            yield Call(
                write,
                (),
                {
                    "ids": [document.id for document in batch],
                    "embeddings": [document.embedding for document in batch],
                    "documents": [document.content for document in batch],
                    "metadatas": metadatas,
                },
                on=target.native,
            )

    def _search_steps(
        self, name: str, target: OpenedCollection, query: list[float], limit: int, node: FilterNode | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        where = self._where(node)
        if where is nodes.NEVER:
            return []
        if target.distance == "euclidean" and (yield Call("count", on=target.native)) <= EXACT_EUCLIDEAN_BELOW:
            return (yield from self._exact_steps(name, target, query, limit, where))
        found = yield Call(
            "query",
            (),
            {"query_embeddings": [query], "n_results": limit, "where": where, "include": [*_INCLUDE, "distances"]},
            on=target.native,
        )
        page = {key: (None if value is None else value[0]) for key, value in found.items() if key != "included"}
        results = []
        for document, raw in zip(self._documents(page), page["distances"] or [], strict=True):
            document.score = score_of_distance(target.distance, float(raw))
            results.append(document)
        if len(results) < limit:
            # The HNSW graph can leave documents unreachable (hundreds of equal vectors do it), so a
            # search short of ``limit`` while more documents match is answered exactly: the limit is filled.
            # One id past the results tells whether more match (not every matching id fetched).
            if where is None:
                matching = yield Call("count", on=target.native)
            else:
                selection = {"where": where, "include": [], "limit": len(results) + 1}
                matching = len((yield Call("get", (), selection, on=target.native))["ids"])
            if matching > len(results):
                return (yield from self._exact_steps(name, target, query, limit, where))
        return results

    def _exact_steps(
        self, name: str, target: OpenedCollection, query: list[float], limit: int, where: Any
    ) -> Operation[Call, list[KnowledgeDocument]]:
        """Brute force over the stored vectors, with Chroma's distances and so the same scores.

        Used where the HNSW graph cannot be trusted: Chroma's L2 graph can strand most documents behind
        one vector near the origin (issue 15: recall 0.41; 0.2 on 2,000 unit vectors, whatever the
        index settings), so euclidean collections up to :data:`EXACT_EUCLIDEAN_BELOW` are searched
        exactly; and any search the graph answered short of its limit while more documents match."""
        import numpy

        ids, pages, offset = [], [], 0
        selection: dict[str, Any] = (
            {"include": ["embeddings"]} if where is None else {"include": ["embeddings"], "where": where}
        )
        while True:
            page = yield Call("get", (), {"limit": _EXACT_PAGE, "offset": offset, **selection}, on=target.native)
            if not page["ids"]:
                break
            ids.extend(page["ids"])
            pages.append(numpy.asarray(page["embeddings"], dtype=numpy.float64))
            offset += len(page["ids"])
        if not ids:
            return []
        distances = _distances(target.distance, numpy.concatenate(pages), numpy.asarray(query, dtype=numpy.float64))
        order = [int(index) for index in numpy.argsort(distances, kind="stable")[:limit]]
        found = yield from self._fetch_steps(name, target, [ids[index] for index in order])
        results = []
        for index in order:
            document = found[ids[index]]
            document.score = score_of_distance(target.distance, float(distances[index]))
            results.append(document)
        return results

    def _fetch_steps(
        self, name: str, target: OpenedCollection, ids: list[str]
    ) -> Operation[Call, dict[str, KnowledgeDocument]]:
        found: dict[str, KnowledgeDocument] = {}
        for start in range(0, len(ids), _IDS_PER_CALL):
            page = yield Call(
                "get", (), {"ids": ids[start : start + _IDS_PER_CALL], "include": _INCLUDE}, on=target.native
            )
            found.update((document.id, document) for document in self._documents(page))
        return found

    def _remove_steps(
        self, name: str, target: OpenedCollection, ids: list[str] | None, node: FilterNode | None
    ) -> Operation[Call, int]:
        where = self._where(node)
        if where is nodes.NEVER:
            return 0
        selection: dict[str, Any] = {"include": []}
        if where is not None:
            selection["where"] = where
        batches = [None] if ids is None else [ids[at : at + _IDS_PER_CALL] for at in range(0, len(ids), _IDS_PER_CALL)]
        deleted = 0
        for batch in batches:
            found = yield Call("get", (), {**selection, **({} if batch is None else {"ids": batch})}, on=target.native)
            doomed = found["ids"]
            for start in range(0, len(doomed), _IDS_PER_CALL):
                yield Call("delete", (), {"ids": doomed[start : start + _IDS_PER_CALL]}, on=target.native)
            deleted += len(doomed)
        return deleted

    def _count_steps(self, name: str, target: OpenedCollection) -> Operation[Call, int]:
        return int((yield Call("count", on=target.native)))

    def _page_steps(
        self, target: OpenedCollection, offset: int, limit: int
    ) -> Operation[Call, list[KnowledgeDocument]]:
        page = yield Call("get", (), {"limit": limit, "offset": offset, "include": _INCLUDE}, on=target.native)
        return self._documents(page)

    def _translate_error(self, error: Exception) -> Exception | None:
        if self.config.local_path is None and raised_by(error, _UNREACHABLE, _UNREACHABLE_TEXTS):
            config = self.config
            return BackendUnavailableError(
                f"cannot reach the Chroma server at {config.host}:{config.port}: {type(error).__name__}"
            )
        return None

    # -- helpers ---------------------------------------------------------------

    def _metadata(self, document: KnowledgeDocument) -> dict[str, Any]:
        stored: dict[str, Any] = {
            _METADATA: dump_json(document.metadata, what="metadata"),
            _CREATED: document.created_at,
        }
        if document.content_hash is not None:
            stored[_HASH] = document.content_hash
        for indexed in index_metadata(document.metadata, chunk_limit=_CHUNKS):
            stored[f"t:{indexed.name}"] = indexed.kind
            if indexed.kind == "number":
                assert isinstance(indexed.value, (int, float))
                stored[f"n:{indexed.name}"] = int64_or_float(indexed.value)
            elif indexed.kind != "null":
                stored[f"{indexed.kind[0]}:{indexed.name}"] = indexed.value
            for position, chunk in enumerate(indexed.chunks):
                stored[f"c{position}:{indexed.name}"] = chunk
        return stored

    def _documents(self, page: dict[str, Any]) -> list[KnowledgeDocument]:
        documents = []
        embeddings = page.get("embeddings")
        for index, document_id in enumerate(page["ids"]):
            stored = page["metadatas"][index] or {}
            documents.append(
                KnowledgeDocument(
                    id=document_id,
                    content=page["documents"][index] or "",
                    embedding=None if embeddings is None else [float(x) for x in embeddings[index]],
                    metadata=load_json(stored[_METADATA]),
                    content_hash=stored.get(_HASH),
                    created_at=float(stored[_CREATED]),
                )
            )
        return documents

    def _where(self, node: FilterNode | None) -> Any:
        return render(node, _render, chunk_limit=_CHUNKS)


class ChromaKnowledgeStore(_ChromaSteps, OffsetPagedStore[OpenedCollection, ChromaKnowledgeConfig]):
    """A KnowledgeStore on Chroma (embedded persistent client or HTTP client)."""

    backend = "chroma"

    def __init__(self, config: ChromaKnowledgeConfig) -> None:
        super().__init__(config)
        chromadb = self._import_driver("chromadb")
        self._not_found = self._import_driver("chromadb.errors").NotFoundError
        with self._translating:
            if config.local_path is not None:
                self._client: Any = _embedded_client(chromadb, config)
            else:
                self._client = chromadb.HttpClient(**_server_options(chromadb, config))

    # -- engine primitives (called with the lock held): the steps of _ChromaSteps ------

    def _engine(self, steps: Operation[Call, R]) -> R:
        return drive(steps, call_on(self._client), throw_in_everything)

    def _release(self) -> None:
        close_client(self._client)


class AsyncChromaKnowledgeStore(_ChromaSteps, AsyncEmbeddedOrServerStore[OpenedCollection, ChromaKnowledgeConfig]):
    """An AsyncKnowledgeStore on Chroma: the sync store's steps, awaited on chromadb's ``AsyncHttpClient``.

    The server's client opens on the first call. chromadb's async client keeps one HTTP connection
    pool per event loop; this store keeps its own pools (not chromadb's process-wide table, keyed by
    a loop's hash, which a later loop can reuse) and drops those of a loop it has left. Closing
    closes the running loop's pool.

    On an embedded directory (or ``:memory:``) chroma has no async client: each step runs on the
    sync client in a worker thread, one at a time (a cancelled step finishes in its thread first).
    """

    backend = "async_chroma"

    def __init__(self, config: ChromaKnowledgeConfig) -> None:
        super().__init__(config)
        self._chromadb: Any = self._import_driver("chromadb")
        self._not_found = self._import_driver("chromadb.errors").NotFoundError
        if config.local_path is not None:
            with self._translating:
                self._client = _embedded_client(self._chromadb, config)

    @property
    def _embedded(self) -> bool:
        return self.config.local_path is not None

    async def _server_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None:
            client = await self._chromadb.AsyncHttpClient(**_server_options(self._chromadb, self.config))
            server: Any = getattr(client, "_server", None)
            if isinstance(getattr(server, "_clients", None), dict):
                server._clients = {}  # this store's pools, by loop (see the class docstring)
            self._client = client
        elif self._client_loop is not loop:
            pools = getattr(getattr(self._client, "_server", None), "_clients", None)
            if isinstance(pools, dict):
                pools.clear()  # bound to the loop this store was used from last, which it has left
        self._client_loop = loop
        return self._client

    async def _close_server_client(self, client: Any) -> None:
        cleanup = getattr(getattr(client, "_server", None), "_cleanup", None)
        if cleanup is not None:
            await cleanup()  # closes this store's pools (see _server_client)


def _render(node: nodes.Lowered) -> dict[str, Any]:
    if isinstance(node, (nodes.All, nodes.Any)):
        parts = [_render(part) for part in node.parts]
        return {"$and" if isinstance(node, nodes.All) else "$or": parts}
    if (
        isinstance(node, (nodes.Eq, nodes.Ne, nodes.Range))
        and isinstance(node.value, float)
        and not node.value.is_integer()
    ):
        return _fractional(node)
    if isinstance(node, (nodes.Eq, nodes.Ne)):
        operator = "$eq" if isinstance(node, nodes.Eq) else "$ne"
        if node.kind == "null":
            return {f"t:{node.field}": {operator: "null"}}
        value = int64_or_float(node.value) if node.kind == "number" else node.value  # type: ignore[arg-type]
        return {f"{node.kind[0]}:{node.field}": {operator: value}}
    if isinstance(node, nodes.IsKind):
        return {f"t:{node.field}": {"$eq": node.kind}}
    if isinstance(node, nodes.Range):
        return {f"n:{node.field}": {f"${node.op}": int64_or_float(node.value)}}
    if isinstance(node, nodes.Chunk):
        return {f"c{node.index}:{node.field}": {f"${node.op}": node.value}}
    assert not isinstance(node, nodes.StrRange), "lowered with chunks"
    raise AssertionError(f"unexpected filter node {node!r}")


def _fractional(node: nodes.Eq | nodes.Ne | nodes.Range) -> dict[str, Any]:
    """A comparison with a number that is not a whole one, right for integers too.

    Chroma compares an integer in metadata with a float bound truncated (``4 >= 4.5`` holds), so
    the bound is used only between its neighbouring whole numbers, where no integer lies; beyond
    them whole bounds, which Chroma compares exactly with both kinds, decide.
    """
    value = float(node.value)  # type: ignore[arg-type]  # a float: see _render
    key = f"n:{node.field}"
    below, above = math.floor(value), math.ceil(value)
    between = [{key: {"$gt": below}}, {key: {"$lt": above}}]
    if isinstance(node, nodes.Eq):
        return {"$and": [*between, {key: {"$eq": value}}]}
    if isinstance(node, nodes.Ne):  # absent, another kind, any integer, or another float
        outside = [{key: {"$lte": below}}, {key: {"$gte": above}}, {key: {"$ne": value}}]
        return {"$or": [{f"t:{node.field}": {"$ne": "number"}}, *outside]}
    whole = {key: {"$gte": above}} if node.op in ("gt", "gte") else {key: {"$lte": below}}
    return {"$or": [{"$and": [*between, {key: {f"${node.op}": value}}]}, whole]}
