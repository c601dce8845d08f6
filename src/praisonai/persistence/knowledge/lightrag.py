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
  its knowledge graph; without one, no model is called and LightRAG is told to skip
  that stage (its ``process_options`` flag ``"!"``), so the graph stays empty.
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
- LightRAG's JSON stores, GraphML graph and NanoVectorDB rewrite their whole file on
  each flush, and its pipeline flushes several times per document: the adapter defers those
  flushes to once per ``insert`` or ``delete`` call, made before it returns, so a
  batch costs about the same whatever the collection's size.

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
import os
import shutil
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .._files import open_lock_file, write_atomically
from .._values import dump_json, load_json
from ..errors import InvalidInputError, StoreError
from ._layers.checks import copy_document
from ._layers.store_base import HeldCollection, InProcessKnowledgeStore
from .base import Distance, KnowledgeDocument
from .config import LightRagKnowledgeConfig
from .filters import FilterNode, matches

__all__ = ["CodePointTokenizer", "LightRagKnowledgeStore"]

T = TypeVar("T")

_CATALOGUE = "praisonai_collections.json"
_SIDECAR = "praisonai_documents.json"
_FORMAT = "praisonai-lightrag"
# LightRAG's key-value and document-status stores (a whole JSON file) and its graph store (a whole
# GraphML file): the default local classes, each of which rewrites its file on every flush.
_FILE_STORES = {
    "full_docs": "Json",
    "text_chunks": "Json",
    "doc_status": "Json",
    "llm_response_cache": "Json",
    "full_entities": "Json",
    "full_relations": "Json",
    "entity_chunks": "Json",
    "relation_chunks": "Json",
    "chunk_entity_relation_graph": "NetworkX",
}
_VECTOR_STORES = ("chunks_vdb", "entities_vdb", "relationships_vdb")


class CodePointTokenizer:
    """One token per Unicode code point: exact, thread-safe, and needs no vocabulary download."""

    def encode(self, content: str) -> list[int]:
        return [ord(character) for character in content]

    def decode(self, tokens: list[int]) -> str:
        return "".join(chr(token) for token in tokens)


@dataclass(slots=True)
class _Collection(HeldCollection):
    rag: Any = None
    chunks: dict[str, int] = field(default_factory=dict)  # document id -> LightRAG chunks; filled on first use
    vectors: dict[str, list[float]] = field(default_factory=dict)  # chunk text -> caller's vector, while writing
    # The flushes of LightRAG's JSON stores (see _defer_flushes): each store's own, and those asked for
    # while a write defers them (None: not deferring).
    flushes: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    deferred: set[str] | None = None


class LightRagKnowledgeStore(InProcessKnowledgeStore[_Collection, LightRagKnowledgeConfig]):
    """Knowledge store on LightRAG; thread-safe (one lock, one event loop thread)."""

    backend = "lightrag"

    def __init__(self, config: LightRagKnowledgeConfig | None = None) -> None:
        self.config = config or LightRagKnowledgeConfig()
        self._lightrag = self._import_driver("lightrag")
        self._utils = self._import_driver("lightrag.utils")
        self._constants = self._import_driver("lightrag.constants")
        self._numpy = self._import_driver("numpy")
        super().__init__(self.config)
        with self._translating:
            self._root = Path(self.config.working_dir).expanduser()
            self._root.mkdir(parents=True, exist_ok=True)
            # LightRAG shares in-process state by workspace name alone, whatever the working_dir.
            self._suffix = hashlib.sha256(str(self._root.resolve()).encode("utf-8")).hexdigest()[:10]
            # LightRAG's JSON files are not safe for two writers.
            self._lock_fd: int | None = open_lock_file(
                self._root / "praisonai.lock", f"{self._root} is in use by another store", self.backend
            )
            try:
                self._collections: dict[str, _Collection] = self._load_catalogue()
            except BaseException:
                os.close(self._lock_fd)
                raise
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="praisonai-lightrag", daemon=True)
            self._thread.start()

    # -- engine primitives (called with the lock held) ------------------------

    def _supported_distances(self) -> tuple[Distance]:
        return ("cosine",)

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        shutil.rmtree(self._root / self._workspace(name), ignore_errors=True)  # leftovers of an interrupted delete
        self._collections[name] = _Collection(dimension, distance, metadata)
        self._save_catalogue()

    def _drop(self, name: str, target: _Collection) -> None:
        del self._collections[name]
        self._save_catalogue()
        if target.rag is not None:
            self._run(_drop_storages(target.rag))
        shutil.rmtree(self._root / self._workspace(name), ignore_errors=True)

    def _put(self, name: str, target: _Collection, documents: list[KnowledgeDocument], *, overwrite: bool) -> None:
        replacing = {document.id for document in documents if document.id in target.documents}
        self._check_indexable(name, target, documents, replacing=replacing)
        if replacing:
            self._discard(name, target, sorted(replacing))
        self._index(name, target, documents)

    def _search(
        self, name: str, target: _Collection, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        if not target.documents:
            return []
        rag = self._rag(name, target)
        # Every chunk: filters are evaluated here, and documents are ranked by their best chunk.
        chunks = self._run(rag.chunks_vdb.query("", top_k=self._chunk_count(target), query_embedding=query))
        best: dict[str, float] = {}
        for chunk in chunks:
            document_id = chunk.get("full_doc_id")
            score = float(chunk["distance"])
            if document_id in target.documents and (document_id not in best or score > best[document_id]):
                best[document_id] = 0.0 if math.isnan(score) else score
        results = []
        for document_id, score in sorted(best.items(), key=lambda item: -item[1]):
            document = target.documents[document_id]
            if node is not None and not matches(node, document.metadata):
                continue
            result = copy_document(document)
            result.score = score
            results.append(result)
            if len(results) == limit:
                break
        return results

    # -- LightRAG itself ----------------------------------------------------

    def lightrag(self, collection: str) -> Any:
        """The ``LightRAG`` instance of ``collection`` (its methods are async and belong to this store's loop)."""
        with self._held, self._guard:
            return self._rag(collection, self._require(collection))

    def rag_query(self, collection: str, question: str, **query_param: Any) -> Any:
        """LightRAG's answer to ``question`` over ``collection``; ``query_param`` goes to ``QueryParam``
        (``mode="mix"`` by default). Needs ``llm_model_func`` and ``embedding_func``."""
        with self._translating:
            if self.config.embedding_func is None or self.config.llm_model_func is None:
                raise StoreError("rag_query needs both llm_model_func and embedding_func")
        with self._held, self._guard:
            rag = self._rag(collection, self._require(collection))
            param = self._lightrag.QueryParam(**{"mode": "mix", **query_param})
            return self._run(rag.aquery(question, param=param))

    # -- lifecycle ----------------------------------------------------------

    def _release(self) -> None:
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
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

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
                    f"documents[{index}] ({document.id!r}) has no content; LightRAG cannot index empty text"
                )
            if text in seen:
                raise InvalidInputError(
                    f"documents[{index}] ({document.id!r}) has the same content as {seen[text]!r} in "
                    f"collection {collection!r}; LightRAG indexes each distinct content once"
                )
            seen[text] = document.id
            if self.config.embedding_func is None and len(tokenizer.encode(text)) > self.config.chunk_token_size:
                raise InvalidInputError(
                    f"documents[{index}] ({document.id!r}) is longer than one LightRAG chunk "
                    f"({self.config.chunk_token_size} tokens); pass embedding_func to embed its chunks"
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
            with self._flushing_once(target):
                self._run(self._ainsert(rag, [document.content for document in documents], ids))
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
            raise StoreError(f"LightRAG failed to process {len(failed)} document(s): {shown}")

    def _ainsert(self, rag: Any, contents: list[str], ids: list[str]) -> Awaitable[Any]:
        """``rag.ainsert``, minus the knowledge-graph stage when there is no model to build it.

        Without ``llm_model_func`` the default LLM extracts nothing, yet LightRAG still runs its whole
        extraction stage for every chunk: prompts built and tokenized, a call and a cache entry per
        chunk and gleaning pass, an empty merge, the graph file rewritten. LightRAG's per-document
        ``process_options`` flag ``"!"`` (skip entity/relation extraction) leaves the same graph (an
        empty one) and the same chunks, at under half the cost. An older LightRAG without that flag
        takes the ``ainsert`` path.
        """
        skip_graph = getattr(self._constants, "PROCESS_OPTION_SKIP_KG", None)
        if self.config.llm_model_func is not None or skip_graph is None:
            return rag.ainsert(contents, ids=ids)  # type: ignore[no-any-return]
        return _enqueue_and_process(rag, contents, ids, process_options=skip_graph)

    def _discard(self, collection: str, target: _Collection, ids: list[str]) -> None:
        rag = self._rag(collection, target)
        try:
            with self._flushing_once(target):
                for document_id in ids:
                    self._run(rag.adelete_by_doc_id(document_id))
                    del target.documents[document_id]
                    target.chunks.pop(document_id, None)
        finally:
            self._save_documents(collection, target)

    @contextlib.contextmanager
    def _flushing_once(self, target: _Collection) -> Iterator[None]:
        """Run a write with the JSON stores' flushes deferred, then flush each store that asked, once."""
        target.deferred = set()
        try:
            yield
        finally:
            asked, target.deferred = target.deferred, None
            self._run(_flush(target.flushes[name] for name in sorted(asked)))

    def _defer_flushes(self, rag: Any, target: _Collection) -> None:
        """Let :meth:`_flushing_once` defer the flushes of LightRAG's JSON and GraphML stores.

        Each flush rewrites the store's whole file, and LightRAG's pipeline flushes several times per
        document (the status store on every status change, the graph after every document, changed or
        not): a batch of ``n`` documents cost ``n`` times the collection's size in JSON and GraphML.
        Deferred, each store is written once per batch, after LightRAG finished it (what a crash loses is
        the batch in flight, which insert never acknowledged). Other storage classes are left alone.
        """
        for name, kind in _FILE_STORES.items():
            storage = getattr(rag, name, None)
            if storage is None or not type(storage).__name__.startswith(kind):
                continue
            own = storage.index_done_callback
            target.flushes[name] = own

            async def flush(name: str = name, own: Callable[[], Awaitable[None]] = own) -> None:
                if target.deferred is None:
                    await own()
                else:
                    target.deferred.add(name)

            storage.index_done_callback = flush
        # NanoVectorDB applies its pending rows in its flush, then saves its whole matrix: only the save
        # waits (the rows stay in its redo log until then), if this LightRAG has that step.
        for name in _VECTOR_STORES:
            store: Any = getattr(rag, name, None)
            save = getattr(store, "_save_to_disk_locked", None)
            if save is None:
                continue
            target.flushes[name] = store.index_done_callback

            async def deferred_save(committed: Any, name: str = name, save: Any = save) -> None:
                if target.deferred is None:
                    await save(committed)
                else:
                    target.deferred.add(name)

            store._save_to_disk_locked = deferred_save

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
        self._defer_flushes(rag, target)
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
            raise StoreError(f"cannot read {path}: {error}") from error
        return collections

    def _save_catalogue(self) -> None:
        data = {
            "format": _FORMAT,
            "collections": {
                name: {"dimension": target.dimension, "distance": target.distance, "metadata": target.metadata}
                for name, target in self._collections.items()
            },
        }
        write_atomically(self._root / _CATALOGUE, dump_json(data, what="catalogue"))

    def _save_documents(self, collection: str, target: _Collection) -> None:
        directory = self._root / self._workspace(collection)
        directory.mkdir(parents=True, exist_ok=True)
        documents = {"documents": target.stored_documents()}
        write_atomically(directory / _SIDECAR, dump_json(documents, what="documents"))


def _processed(status: dict[str, Any] | None) -> bool:
    state = None if status is None else status.get("status")
    return getattr(state, "value", state) == "processed"


async def _extract_nothing(prompt: str, system_prompt: str | None = None, **kwargs: Any) -> str:
    """The default LLM: an extraction with no entities and no relations, so no model is called."""
    return "<|COMPLETE|>"


async def _enqueue_and_process(rag: Any, contents: list[str], ids: list[str], *, process_options: str) -> None:
    """What ``LightRAG.ainsert`` does (enqueue, then run the pipeline), with ``process_options`` per document."""
    await rag.apipeline_enqueue_documents(contents, ids=ids, process_options=process_options)
    await rag.apipeline_process_enqueue_documents()


async def _flush(flushes: Iterable[Callable[[], Awaitable[None]]]) -> None:
    for flush in flushes:
        await flush()


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
