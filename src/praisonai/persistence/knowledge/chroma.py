"""Chroma knowledge store: chromadb's embedded persistent client, or its HTTP client.

Engine: Chroma. Driver: ``chromadb`` (extra ``chroma``).
URL forms: a directory, ``chroma:///relative/dir``, ``chroma:////absolute/dir`` (embedded;
``:memory:``, or PraisonAI's ``persistent=False``, for chroma's in-memory client, shared in the process);
``http[s]://host:8000`` or ``chroma://host:8000`` with ``?tenant=&database=`` and ``token``
(server).
Test tier: server, and embedded: the contract suite runs on ``PersistentClient`` and on
``HttpClient`` against chroma's own server (``chroma run``) on loopback.

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
(a vector near the origin can strand most documents in Chroma's L2 graph). A filter bound that
is not a whole number is rewritten so that integers in metadata compare exactly (Chroma
truncates it against them); an upsert removes the metadata keys the new document dropped.
``insert`` checks and writes under the store's lock; against a server, a second
writer can race between the check and the write (Chroma's ``add`` silently
ignores existing ids, so the check is needed).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from .._closing import close_client
from .._values import dump_json, load_json
from ..errors import BackendUnavailableError
from ._filters import native as nodes
from ._filters.native import index_metadata, int64_or_float, render
from ._layers.store_base import KnowledgeStoreBase, OpenedCollection, raised_by, score_of_distance
from .base import Distance, KnowledgeDocument
from .config import ChromaKnowledgeConfig
from .filters import FilterNode

__all__ = ["ChromaKnowledgeStore"]

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
"""Euclidean collections up to this many documents are searched exactly (see ``_exact_euclidean``)."""


def _native_name(name: str) -> str:
    return name if _NATIVE_NAME.match(name) else f"k.{name}.k"


def _portable_name(native: str) -> str:
    return native[2:-2] if native.startswith("k.") and native.endswith(".k") else native


class ChromaKnowledgeStore(KnowledgeStoreBase[OpenedCollection, ChromaKnowledgeConfig]):
    """A KnowledgeStore on Chroma (embedded persistent client or HTTP client)."""

    backend = "chroma"
    exact_filter_numbers = 2**53  # numbers are indexed as 64-bit floats

    def __init__(self, config: ChromaKnowledgeConfig) -> None:
        super().__init__(config)
        chromadb = self._import_driver("chromadb")
        settings = chromadb.Settings(anonymized_telemetry=False)
        local = config.local_path
        with self._translating:
            if local == ":memory:":
                self._client: Any = chromadb.EphemeralClient(
                    settings=settings, tenant=config.tenant, database=config.database
                )
            elif local is not None:
                self._client = chromadb.PersistentClient(
                    path=local, settings=settings, tenant=config.tenant, database=config.database
                )
            else:
                assert config.host is not None
                headers = {"X-Chroma-Token": config.token.get_secret_value()} if config.token is not None else None
                self._client = chromadb.HttpClient(
                    host=config.host,
                    port=config.port,
                    ssl=config.ssl,
                    headers=headers,
                    settings=settings,
                    tenant=config.tenant,
                    database=config.database,
                )

    # -- engine primitives (called with the lock held) ---------------------------

    def _find(self, name: str) -> OpenedCollection | None:
        errors = self._import_driver("chromadb.errors")
        try:
            collection = self._client.get_collection(_native_name(name), embedding_function=None)
        except (errors.NotFoundError, ValueError):
            return None
        stored = collection.metadata or {}
        if _DIMENSION not in stored:
            return None
        return OpenedCollection(
            collection, int(stored[_DIMENSION]), stored[_DISTANCE], load_json(stored[_COLLECTION_METADATA])
        )

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        self._client.create_collection(
            _native_name(name),
            embedding_function=None,
            metadata={
                "hnsw:space": _SPACE[distance],
                _DIMENSION: dimension,
                _DISTANCE: distance,
                _COLLECTION_METADATA: dump_json(metadata),
            },
        )

    def _drop(self, name: str, target: OpenedCollection) -> None:
        self._client.delete_collection(_native_name(name))

    def _names(self) -> list[str]:
        found = self._client.list_collections()
        return [_portable_name(collection.name) for collection in found if _DIMENSION in (collection.metadata or {})]

    def _taken(self, name: str, target: OpenedCollection, ids: list[str]) -> list[str]:
        taken: list[str] = []
        for start in range(0, len(ids), _IDS_PER_CALL):  # one call per id list hit SQLite's variable limit
            taken += target.native.get(ids=ids[start : start + _IDS_PER_CALL], include=[])["ids"]
        return taken

    def _put(self, name: str, target: OpenedCollection, documents: list[KnowledgeDocument], *, overwrite: bool) -> None:
        write = target.native.upsert if overwrite else target.native.add
        step = max(1, int(self._client.get_max_batch_size()))
        for start in range(0, len(documents), step):
            batch = documents[start : start + step]
            metadatas = [self._metadata(document) for document in batch]
            if overwrite:
                # Chroma's upsert merges metadata into the stored one: a key the new document no
                # longer has would stay (and match filters). None removes it.
                stored = target.native.get(ids=[document.id for document in batch], include=["metadatas"])
                previous = dict(zip(stored["ids"], stored["metadatas"] or [], strict=True))
                for document, metadata in zip(batch, metadatas, strict=True):
                    for key in previous.get(document.id) or {}:
                        metadata.setdefault(key, None)
            write(
                ids=[document.id for document in batch],
                embeddings=[document.embedding for document in batch],
                documents=[document.content for document in batch],
                metadatas=metadatas,
            )

    def _search(
        self, name: str, target: OpenedCollection, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        where = self._where(node)
        if where is nodes.NEVER:
            return []
        if target.distance == "euclidean" and target.native.count() <= EXACT_EUCLIDEAN_BELOW:
            return self._exact_euclidean(target, query, limit, where)
        found = target.native.query(
            query_embeddings=[query],
            n_results=limit,
            where=where,
            include=[*_INCLUDE, "distances"],
        )
        page = {key: (None if value is None else value[0]) for key, value in found.items() if key != "included"}
        results = []
        for document, raw in zip(self._documents(page), page["distances"] or [], strict=True):
            document.score = score_of_distance(target.distance, float(raw))
            results.append(document)
        return results

    def _exact_euclidean(
        self, target: OpenedCollection, query: list[float], limit: int, where: Any
    ) -> list[KnowledgeDocument]:
        """Brute force over the stored vectors: Chroma's L2 HNSW graph can strand most documents behind
        one vector near the origin (issue 15: recall 0.41; 0.2 on 2,000 unit vectors, whatever the
        index settings), so collections up to :data:`EXACT_EUCLIDEAN_BELOW` are searched exactly."""
        import numpy

        native, ids, pages, offset = target.native, [], [], 0
        selection: dict[str, Any] = (
            {"include": ["embeddings"]} if where is None else {"include": ["embeddings"], "where": where}
        )
        while True:
            page = native.get(limit=_EXACT_PAGE, offset=offset, **selection)
            if not page["ids"]:
                break
            ids.extend(page["ids"])
            pages.append(numpy.asarray(page["embeddings"], dtype=numpy.float64))
            offset += len(page["ids"])
        if not ids:
            return []
        distances = numpy.sqrt(((numpy.concatenate(pages) - numpy.asarray(query)) ** 2).sum(axis=1))
        order = [int(index) for index in numpy.argsort(distances, kind="stable")[:limit]]
        found = self._fetch("", target, [ids[index] for index in order])
        results = []
        for index in order:
            document = found[ids[index]]
            document.score = 1.0 / (1.0 + float(distances[index]))
            results.append(document)
        return results

    def _fetch(self, name: str, target: OpenedCollection, ids: list[str]) -> dict[str, KnowledgeDocument]:
        found: dict[str, KnowledgeDocument] = {}
        for start in range(0, len(ids), _IDS_PER_CALL):
            page = target.native.get(ids=ids[start : start + _IDS_PER_CALL], include=_INCLUDE)
            found.update((document.id, document) for document in self._documents(page))
        return found

    def _remove(self, name: str, target: OpenedCollection, ids: list[str] | None, node: FilterNode | None) -> int:
        where = self._where(node)
        if where is nodes.NEVER:
            return 0
        selection: dict[str, Any] = {"include": []}
        if where is not None:
            selection["where"] = where
        batches = [None] if ids is None else [ids[at : at + _IDS_PER_CALL] for at in range(0, len(ids), _IDS_PER_CALL)]
        deleted = 0
        for batch in batches:
            doomed = target.native.get(**selection, **({} if batch is None else {"ids": batch}))["ids"]
            for start in range(0, len(doomed), _IDS_PER_CALL):
                target.native.delete(ids=doomed[start : start + _IDS_PER_CALL])
            deleted += len(doomed)
        return deleted

    def _count(self, name: str, target: OpenedCollection) -> int:
        return int(target.native.count())

    def _scan(self, name: str, target: OpenedCollection, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        native, offset = target.native, 0
        while True:
            documents = self._documents(native.get(limit=batch_size, offset=offset, include=_INCLUDE))
            if not documents:
                return
            yield documents
            offset += len(documents)
            native = self._require(name).native

    def _release(self) -> None:
        close_client(self._client)

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
