"""LightRAG: collections as LightRAG workspaces; search over LightRAG's own chunk vectors.

Engine: LightRAG (``lightrag-hku``), a graph-RAG system, on its default local
storage (JSON key-value stores, NanoVectorDB vectors, a NetworkX graph) under
``working_dir``. Driver: ``pip install "praisonai-persistence[lightrag]"``. No
URL: pass ``working_dir=`` and optionally ``llm_model_func=``,
``embedding_func=``, ``tokenizer=``, ``lightrag_options=``.

Test tier: embedded (LightRAG in process on its local storage, with injected
embedding, LLM and tokenizer functions; nothing is downloaded). LightRAG's other
storage backends (``lightrag_options={"vector_storage": ...}``) are not exercised.

How the contract maps onto LightRAG, and where it does not:

- Each collection is a LightRAG instance with its own workspace,
  ``<name>.<hash of working_dir>`` (LightRAG shares in-process state by workspace
  name, so two working directories must never use the same one); the collection
  catalogue is ``praisonai_collections.json`` in ``working_dir``.
- ``insert`` hands the documents to ``LightRAG.ainsert`` with their ids. LightRAG
  chunks them and embeds the chunks through this adapter's embedding function,
  which returns the caller's vector for a document that fits one chunk (the
  usual case) and sends any other text (chunks of long documents, entity
  descriptions, text queries) to ``embedding_func``; without one, a document
  longer than a chunk is refused. With ``llm_model_func`` LightRAG also builds
  its knowledge graph; the default extracts nothing and calls no model.
- ``search`` queries LightRAG's chunk vector store (``chunks_vdb``) with the
  query vector; a document scores as its best chunk. NanoVectorDB ranks by
  cosine similarity only, so ``cosine`` is the one distance.
- LightRAG keeps no metadata, no exact copy of the content (it strips it) and
  no retrievable embedding, so this adapter keeps them in a sidecar file per
  collection (``praisonai_documents.json`` in its workspace directory), from which
  ``get`` reads and filters are evaluated exactly (every operator is supported).
- LightRAG indexes each distinct content once and cannot index empty content:
  a document whose content is empty, or equal to another document's in the
  collection, is refused with :class:`InvalidInputError`.
- ``insert`` and ``upsert`` are not atomic across documents: LightRAG processes
  them one by one; a document LightRAG fails to process is removed again and the
  error raised.

:meth:`LightRagKnowledgeStore.rag_query` runs LightRAG's own retrieval-augmented
answer over a collection (it needs ``llm_model_func`` and ``embedding_func``).
All work runs on one private event loop thread, because LightRAG's locks are
bound to the loop that created them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import math
import shutil
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from .._loading import import_driver
from .._values import check_limit, dump_json, load_json
from ..errors import InvalidInputError, StoreError
from ._common import (
    check_collection_metadata,
    check_collection_name,
    check_delete_args,
    check_dimension,
    check_distance,
    check_document_ids,
    check_documents,
    check_embedding,
    check_score_threshold,
    check_search_limit,
    collection_exists,
    collection_not_found,
    copy_document,
    document_exists,
    parse_filters,
)
from .base import CollectionInfo, Distance, Filter, KnowledgeDocument, KnowledgeStore
from .config import LightRagKnowledgeConfig
from .filters import matches
from .memory import _write_atomically

__all__ = ["CodePointTokenizer", "LightRagKnowledgeStore"]

T = TypeVar("T")

_CATALOGUE = "praisonai_collections.json"
_SIDECAR = "praisonai_documents.json"
_FORMAT = "praisonai-lightrag"


class CodePointTokenizer:
    """One token per Unicode code point: exact, thread-safe, and needs no vocabulary download."""

    def encode(self, content: str) -> list[int]:
        return [ord(character) for character in content]

    def decode(self, tokens: list[int]) -> str:
        return "".join(chr(token) for token in tokens)


@dataclass(slots=True)
class _Collection:
    dimension: int
    distance: Distance
    metadata: dict[str, Any] | None
    documents: dict[str, KnowledgeDocument] = field(default_factory=dict)
    rag: Any = None
    chunks: dict[str, int] = field(default_factory=dict)  # document id -> LightRAG chunks; filled on first use
    vectors: dict[str, list[float]] = field(default_factory=dict)  # chunk text -> caller's vector, while writing


class LightRagKnowledgeStore(KnowledgeStore):
    """Knowledge store on LightRAG; thread-safe (one lock, one event loop thread)."""

    backend = "lightrag"

    def __init__(self, config: LightRagKnowledgeConfig | None = None) -> None:
        self.config = config or LightRagKnowledgeConfig()
        self._lightrag = import_driver("lightrag", backend=self.backend, extra="lightrag")
        self._utils = import_driver("lightrag.utils", backend=self.backend, extra="lightrag")
        self._numpy = import_driver("numpy", backend=self.backend, extra="lightrag")
        self._lock = threading.RLock()
        self._closed = False
        self._root = Path(self.config.working_dir).expanduser()
        self._root.mkdir(parents=True, exist_ok=True)
        # LightRAG shares in-process state by workspace name alone, whatever the working_dir.
        self._suffix = hashlib.sha256(str(self._root.resolve()).encode("utf-8")).hexdigest()[:10]
        self._lock_file: IO[str] | None = _lock_directory(self._root, self.backend)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="praisonai-lightrag", daemon=True)
        self._thread.start()
        self._collections: dict[str, _Collection] = self._load_catalogue()

    # -- collections --------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        name = check_collection_name(name, self.backend)
        dimension = check_dimension(dimension, self.backend)
        distance = check_distance(distance, self.backend, supported=("cosine",))
        copied = check_collection_metadata(metadata, self.backend)
        with self._lock:
            self._check_open()
            if name in self._collections:
                raise collection_exists(name, self.backend)
            shutil.rmtree(self._root / self._workspace(name), ignore_errors=True)  # leftovers of an interrupted delete
            self._collections[name] = _Collection(dimension, distance, copied)
            self._save_catalogue()

    def delete_collection(self, name: str) -> bool:
        name = check_collection_name(name, self.backend)
        with self._lock:
            self._check_open()
            target = self._collections.pop(name, None)
            if target is None:
                return False
            self._save_catalogue()
            if target.rag is not None:
                self._run(_drop_storages(target.rag))
            shutil.rmtree(self._root / self._workspace(name), ignore_errors=True)
            return True

    def collection_exists(self, name: str) -> bool:
        name = check_collection_name(name, self.backend)
        with self._lock:
            self._check_open()
            return name in self._collections

    def list_collections(self) -> list[str]:
        with self._lock:
            self._check_open()
            return sorted(self._collections)

    # -- documents ----------------------------------------------------------

    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        with self._lock:
            target = self._collection(collection)
            prepared = check_documents(documents, target.dimension, self.backend)
            taken = [document.id for document in prepared if document.id in target.documents]
            if taken:
                raise document_exists(collection, taken, self.backend)
            self._check_indexable(collection, target, prepared, replacing=set())
            self._index(collection, target, prepared)
            return [document.id for document in prepared]

    def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        with self._lock:
            target = self._collection(collection)
            prepared = check_documents(documents, target.dimension, self.backend)
            replacing = {document.id for document in prepared if document.id in target.documents}
            self._check_indexable(collection, target, prepared, replacing=replacing)
            if replacing:
                self._remove(collection, target, sorted(replacing))
            self._index(collection, target, prepared)
            return [document.id for document in prepared]

    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        limit = check_search_limit(limit, self.backend)
        threshold = check_score_threshold(score_threshold, self.backend)
        node = parse_filters(filters, self.backend)
        with self._lock:
            target = self._collection(collection)
            query = check_embedding(query_embedding, target.dimension, self.backend, "query_embedding")
            if not target.documents:
                return []
            rag = self._rag(collection, target)
            # Every chunk: filters are evaluated here, and documents are ranked by their best chunk.
            chunks = self._run(rag.chunks_vdb.query("", top_k=self._chunk_count(target), query_embedding=query))
            best: dict[str, float] = {}
            for chunk in chunks:
                document_id = chunk.get("full_doc_id")
                score = float(chunk["distance"])
                if document_id in target.documents and (document_id not in best or score > best[document_id]):
                    best[document_id] = 0.0 if math.isnan(score) else score
            ranked = sorted(best.items(), key=lambda item: -item[1])
            results = []
            for document_id, score in ranked:
                document = target.documents[document_id]
                if node is not None and not matches(node, document.metadata):
                    continue
                if threshold is not None and score < threshold:
                    break
                result = copy_document(document)
                result.score = score
                results.append(result)
                if len(results) == limit:
                    break
            return results

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        wanted = check_document_ids(ids, self.backend)
        with self._lock:
            target = self._collection(collection)
            return [
                copy_document(target.documents[document_id])
                for document_id in dict.fromkeys(wanted)
                if document_id in target.documents
            ]

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        wanted, node = check_delete_args(ids, filters, self.backend)
        with self._lock:
            target = self._collection(collection)
            candidates = target.documents if wanted is None else dict.fromkeys(wanted)
            doomed = [
                document_id
                for document_id in candidates
                if document_id in target.documents
                and (node is None or matches(node, target.documents[document_id].metadata))
            ]
            if doomed:
                self._remove(collection, target, doomed)
            return len(doomed)

    def count(self, collection: str) -> int:
        with self._lock:
            return len(self._collection(collection).documents)

    # -- KnowledgeTransfer extras (for migrate / export) --------------------

    def describe_collection(self, name: str) -> CollectionInfo:
        with self._lock:
            target = self._collection(name)
            return CollectionInfo(
                name, target.dimension, target.distance, check_collection_metadata(target.metadata, self.backend)
            )

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        size = check_limit(batch_size, self.backend, "batch_size", allow_zero=False)
        with self._lock:
            ids = list(self._collection(collection).documents)
        for start in range(0, len(ids), size):
            with self._lock:
                documents = self._collection(collection).documents
                batch = [copy_document(documents[i]) for i in ids[start : start + size] if i in documents]
            if batch:
                yield batch

    # -- LightRAG itself ----------------------------------------------------

    def lightrag(self, collection: str) -> Any:
        """The ``LightRAG`` instance of ``collection`` (its methods are async and belong to this store's loop)."""
        with self._lock:
            return self._rag(collection, self._collection(collection))

    def rag_query(self, collection: str, question: str, **query_param: Any) -> Any:
        """LightRAG's answer to ``question`` over ``collection``; ``query_param`` goes to ``QueryParam``
        (``mode="mix"`` by default). Needs ``llm_model_func`` and ``embedding_func``."""
        if self.config.embedding_func is None or self.config.llm_model_func is None:
            raise StoreError("rag_query needs both llm_model_func and embedding_func", backend=self.backend)
        with self._lock:
            rag = self._rag(collection, self._collection(collection))
            param = self._lightrag.QueryParam(**{"mode": "mix", **query_param})
            return self._run(rag.aquery(question, param=param))

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                for target in self._collections.values():
                    if target.rag is not None:
                        rag, target.rag = target.rag, None
                        self._run(rag.finalize_storages())
            finally:
                with contextlib.suppress(Exception):
                    self._run(_cancel_pending())
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join()
                self._loop.close()
                if self._lock_file is not None:
                    self._lock_file.close()
                    self._lock_file = None

    def __repr__(self) -> str:
        return f"LightRagKnowledgeStore(working_dir={self.config.working_dir!r})"

    # -- internals (called with the lock held) ------------------------------

    def _check_indexable(
        self, collection: str, target: _Collection, documents: list[KnowledgeDocument], *, replacing: set[str]
    ) -> None:
        """Refuse, before anything is written, what LightRAG would silently drop or cannot embed."""
        seen = {
            document.content.strip(): document_id
            for document_id, document in target.documents.items()
            if document_id not in replacing
        }
        tokenizer = self._tokenizer()
        for index, document in enumerate(documents):
            text = document.content.strip()
            if not text:
                raise InvalidInputError(
                    f"documents[{index}] ({document.id!r}) has no content; LightRAG cannot index empty text",
                    backend=self.backend,
                )
            if text in seen:
                raise InvalidInputError(
                    f"documents[{index}] ({document.id!r}) has the same content as {seen[text]!r} in "
                    f"collection {collection!r}; LightRAG indexes each distinct content once",
                    backend=self.backend,
                )
            seen[text] = document.id
            if self.config.embedding_func is None and len(tokenizer.encode(text)) > self.config.chunk_token_size:
                raise InvalidInputError(
                    f"documents[{index}] ({document.id!r}) is longer than one LightRAG chunk "
                    f"({self.config.chunk_token_size} tokens); pass embedding_func to embed its chunks",
                    backend=self.backend,
                )

    def _index(self, collection: str, target: _Collection, documents: list[KnowledgeDocument]) -> None:
        if not documents:
            return
        rag = self._rag(collection, target)
        for document in documents:
            assert document.embedding is not None
            target.vectors[document.content.strip()] = document.embedding
        ids = [document.id for document in documents]
        try:
            self._run(rag.ainsert([document.content for document in documents], ids=ids))
        finally:
            target.vectors.clear()
        statuses = dict(zip(ids, self._run(rag.doc_status.get_by_ids(ids)), strict=True))
        failed = {
            document_id: (status or {}).get("error_msg") or "not processed"
            for document_id, status in statuses.items()
            if not _processed(status)
        }
        for document in documents:
            if document.id not in failed:
                target.documents[document.id] = document
                target.chunks[document.id] = int(statuses[document.id].get("chunks_count") or 1)
        self._save_documents(collection, target)
        if failed:
            for document_id in failed:
                with contextlib.suppress(Exception):
                    self._run(rag.adelete_by_doc_id(document_id))
            shown = "; ".join(f"{key!r}: {value}" for key, value in list(failed.items())[:3])
            raise StoreError(f"LightRAG failed to process {len(failed)} document(s): {shown}", backend=self.backend)

    def _remove(self, collection: str, target: _Collection, ids: list[str]) -> None:
        rag = self._rag(collection, target)
        for document_id in ids:
            self._run(rag.adelete_by_doc_id(document_id))
            del target.documents[document_id]
            target.chunks.pop(document_id, None)
        self._save_documents(collection, target)

    def _workspace(self, collection: str) -> str:
        """The LightRAG workspace (and subdirectory) of ``collection``: unique per working_dir within a process."""
        return f"{collection}.{self._suffix}"

    def _chunk_count(self, target: _Collection) -> int:
        """How many chunks the collection's documents have (asked of LightRAG once per opened collection)."""
        missing = [document_id for document_id in target.documents if document_id not in target.chunks]
        if missing:
            statuses = self._run(target.rag.doc_status.get_by_ids(missing))
            for document_id, status in zip(missing, statuses, strict=True):
                target.chunks[document_id] = int((status or {}).get("chunks_count") or 1)
        return max(1, sum(target.chunks[document_id] for document_id in target.documents))

    def _tokenizer(self) -> Any:
        given = self.config.tokenizer
        if given is None:
            return CodePointTokenizer()
        return given

    def _rag(self, collection: str, target: _Collection) -> Any:
        if target.rag is not None:
            return target.rag
        tokenizer = self.config.tokenizer
        if tokenizer is None or not isinstance(tokenizer, self._utils.Tokenizer):
            tokenizer = self._utils.Tokenizer("praisonai-codepoints", tokenizer or CodePointTokenizer())
        embedding = self._utils.EmbeddingFunc(
            embedding_dim=target.dimension, max_token_size=self.config.chunk_token_size, func=self._embedder(target)
        )
        options = dict(self.config.lightrag_options)
        vector_options = {"cosine_better_than_threshold": -2.0, **options.pop("vector_db_storage_cls_kwargs", {})}
        rag = self._lightrag.LightRAG(
            working_dir=str(self._root),
            workspace=self._workspace(collection),
            embedding_func=embedding,
            llm_model_func=self.config.llm_model_func or _extract_nothing,
            tokenizer=tokenizer,
            chunk_token_size=self.config.chunk_token_size,
            chunk_overlap_token_size=self.config.chunk_overlap_token_size,
            vector_db_storage_cls_kwargs=vector_options,
            **options,
        )
        self._run(rag.initialize_storages())
        target.rag = rag
        return rag

    def _embedder(self, target: _Collection) -> Callable[..., Awaitable[Any]]:
        fallback = self.config.embedding_func
        numpy = self._numpy

        async def embed(texts: list[str], **kwargs: Any) -> Any:
            vectors: list[Any] = []
            unknown = [text for text in texts if text.strip() not in target.vectors]
            extra: Any = []
            if unknown:
                if fallback is None:
                    raise RuntimeError(
                        f"LightRAG asked to embed {len(unknown)} text(s) that are not a whole document's content "
                        "(entity descriptions, chunks of a long document, a text query); pass embedding_func"
                    )
                extra = iter(await fallback(unknown))
            for text in texts:
                known = target.vectors.get(text.strip())
                vectors.append(known if known is not None else next(extra))
            return numpy.asarray(vectors, dtype=numpy.float32)

        return embed

    def _run(self, coroutine: Awaitable[T]) -> T:
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]
        return future.result()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed", backend=self.backend)

    def _collection(self, name: str) -> _Collection:
        self._check_open()
        check_collection_name(name, self.backend)
        target = self._collections.get(name)
        if target is None:
            raise collection_not_found(name, self.backend)
        return target

    # -- files --------------------------------------------------------------

    def _load_catalogue(self) -> dict[str, _Collection]:
        path = self._root / _CATALOGUE
        if not path.exists():
            return {}
        try:
            data = load_json(path.read_bytes())
            if data.get("format") != _FORMAT:
                raise ValueError("not a praisonai LightRAG catalogue")
            collections = {}
            for name, raw in data["collections"].items():
                target = _Collection(raw["dimension"], raw["distance"], raw["metadata"])
                sidecar = self._root / self._workspace(name) / _SIDECAR
                if sidecar.exists():
                    for item in load_json(sidecar.read_bytes())["documents"]:
                        target.documents[item["id"]] = KnowledgeDocument(**item)
                collections[name] = target
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StoreError(f"cannot read {path}: {error}", backend=self.backend) from error
        return collections

    def _save_catalogue(self) -> None:
        data = {
            "format": _FORMAT,
            "collections": {
                name: {"dimension": target.dimension, "distance": target.distance, "metadata": target.metadata}
                for name, target in self._collections.items()
            },
        }
        _write_atomically(self._root / _CATALOGUE, dump_json(data, self.backend, "catalogue"))

    def _save_documents(self, collection: str, target: _Collection) -> None:
        directory = self._root / self._workspace(collection)
        directory.mkdir(parents=True, exist_ok=True)
        documents = [
            {
                "id": document.id,
                "content": document.content,
                "embedding": document.embedding,
                "metadata": document.metadata,
                "content_hash": document.content_hash,
                "created_at": document.created_at,
            }
            for document in target.documents.values()
        ]
        _write_atomically(directory / _SIDECAR, dump_json({"documents": documents}, self.backend, "documents"))


def _processed(status: dict[str, Any] | None) -> bool:
    state = None if status is None else status.get("status")
    return getattr(state, "value", state) == "processed"


def _lock_directory(directory: Path, backend: str) -> IO[str]:
    """Hold ``<directory>/praisonai.lock`` exclusively: LightRAG's JSON files are not safe for two writers."""
    lock_file = open(directory / "praisonai.lock", "a", encoding="utf-8")  # noqa: SIM115 - held while open
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks
        return lock_file
    try:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        raise StoreError(f"{directory} is in use by another store", backend=backend) from None
    return lock_file


async def _extract_nothing(prompt: str, system_prompt: str | None = None, **kwargs: Any) -> str:
    """The default LLM: an extraction with no entities and no relations, so no model is called."""
    return "<|COMPLETE|>"


async def _cancel_pending() -> None:
    """Stop LightRAG's background workers so the loop can close cleanly."""
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


async def _drop_storages(rag: Any) -> None:
    for name in (
        "full_docs",
        "text_chunks",
        "doc_status",
        "chunks_vdb",
        "entities_vdb",
        "relationships_vdb",
        "chunk_entity_relation_graph",
        "llm_response_cache",
        "full_entities",
        "full_relations",
        "entity_chunks",
        "relation_chunks",
    ):
        storage = getattr(rag, name, None)
        if storage is not None:
            with contextlib.suppress(Exception):
                await storage.drop()
    await rag.finalize_storages()
