"""Chroma knowledge store: chromadb's embedded persistent client, or its HTTP client.

Engine: Chroma. Driver: ``chromadb`` (extra ``chroma``).
URL forms: a directory, ``chroma:///relative/dir``, ``chroma:////absolute/dir`` (embedded);
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
float32 and searches an HNSW index, which is approximate on large collections.
``insert`` checks and writes under the store's lock; against a server, a second
writer can race between the check and the write (Chroma's ``add`` silently
ignores existing ids, so the check is needed).
"""

from __future__ import annotations

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


def _native_name(name: str) -> str:
    return name if _NATIVE_NAME.match(name) else f"k.{name}.k"


def _portable_name(native: str) -> str:
    return native[2:-2] if native.startswith("k.") and native.endswith(".k") else native


class ChromaKnowledgeStore(KnowledgeStoreBase[OpenedCollection, ChromaKnowledgeConfig]):
    """A KnowledgeStore on Chroma (embedded persistent client or HTTP client)."""

    backend = "chroma"

    def __init__(self, config: ChromaKnowledgeConfig) -> None:
        super().__init__(config)
        chromadb = self._import_driver("chromadb")
        settings = chromadb.Settings(anonymized_telemetry=False)
        local = config.local_path
        with self._translating:
            if local is not None:
                self._client: Any = chromadb.PersistentClient(
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
        taken: list[str] = target.native.get(ids=ids, include=[])["ids"]
        return taken

    def _put(self, name: str, target: OpenedCollection, documents: list[KnowledgeDocument], *, overwrite: bool) -> None:
        write = target.native.upsert if overwrite else target.native.add
        step = max(1, int(self._client.get_max_batch_size()))
        for start in range(0, len(documents), step):
            batch = documents[start : start + step]
            write(
                ids=[document.id for document in batch],
                embeddings=[document.embedding for document in batch],
                documents=[document.content for document in batch],
                metadatas=[self._metadata(document) for document in batch],
            )

    def _search(
        self, name: str, target: OpenedCollection, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        where = self._where(node)
        if where is nodes.NEVER:
            return []
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

    def _fetch(self, name: str, target: OpenedCollection, ids: list[str]) -> dict[str, KnowledgeDocument]:
        page = target.native.get(ids=ids, include=_INCLUDE)
        return {document.id: document for document in self._documents(page)}

    def _remove(self, name: str, target: OpenedCollection, ids: list[str] | None, node: FilterNode | None) -> int:
        where = self._where(node)
        if where is nodes.NEVER:
            return 0
        selection: dict[str, Any] = {"include": []}
        if ids is not None:
            selection["ids"] = ids
        if where is not None:
            selection["where"] = where
        doomed = target.native.get(**selection)["ids"]
        if doomed:
            target.native.delete(ids=doomed)
        return len(doomed)

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
