"""Reading the knowledge collections PraisonAI 4.7 wrote to chroma, lancedb and qdrant, as a migrate source.

PraisonAI's layouts differ from our stores' (see ``docs/migrating-data-from-praisonai.md``), so
its folders are read by :class:`PraisonAIKnowledgeSource`, which has just what
:func:`~praisonai.persistence.transfer.migrate` reads from a knowledge source
(``list_collections``, ``collection_exists``, ``count``, ``describe_collection``,
``iter_documents``, ``close``)::

    from praisonai.persistence.migrate import migrate
    from praisonai.persistence.registry import KNOWLEDGE_STORES
    from praisonai.persistence.transfer.praisonai import open_praisonai_knowledge

    migrate("knowledge", open_praisonai_knowledge("qdrant", "./qdrant"),
            KNOWLEDGE_STORES.create("chroma", path="./chroma-new"))

On the command line the source is ``praisonai-chroma:PATH``, ``praisonai-lancedb:PATH`` or
``praisonai-qdrant:PATH``, PATH being the folder or a server URL (PraisonAI's qdrant store
always used a server: ``praisonai-qdrant:http://localhost:6333``). What is kept: ids, content,
``content_hash``, ``created_at``, embeddings and metadata, as PraisonAI stored them:

- chroma: the metadata PraisonAI stored beside ``content_hash`` and ``created_at``; the
  collection's distance from ``hnsw:space`` and the rest of its metadata.
- lancedb: PraisonAI wrote no metadata column, so documents have none; PraisonAI ignored
  the distance, and its searches used lancedb's default, so collections are ``euclidean``.
- qdrant: the point id is a batch position; the real id is the payload's ``doc_id``. When
  PraisonAI's inserts left two points with one ``doc_id``, the lowest point id wins, the
  one PraisonAI's ``get`` returns. Qdrant stores cosine vectors normalised: those are copied.

A folder is opened read-only in intent, but the engines may write to it (locks,
compaction): migrate from a copy when in doubt.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .._catalogue import BY_KIND_AND_NAME
from .._loading import import_driver
from ..errors import InvalidInputError, NotFoundError
from ..knowledge.base import CollectionInfo, Distance, KnowledgeDocument
from ..url import mask_secrets_in_text
from .jsonl import batches

__all__ = ["ENGINES", "PraisonAIKnowledgeSource", "open_praisonai_knowledge"]

Engine = Literal["chroma", "lancedb", "qdrant"]
ENGINES: tuple[Engine, ...] = ("chroma", "lancedb", "qdrant")
_RESERVED = ("content_hash", "created_at")
_CHROMA_SPACES: dict[str, Distance] = {"cosine": "cosine", "l2": "euclidean", "ip": "dot"}
_QDRANT_DISTANCES: dict[str, Distance] = {"cosine": "cosine", "euclid": "euclidean", "dot": "dot"}


def open_praisonai_knowledge(engine: str, location: str | Path, **client_options: Any) -> PraisonAIKnowledgeSource:
    """The collections PraisonAI 4.7 wrote with its ``<engine>`` knowledge store.

    ``location`` is the folder given to PraisonAI or, for a server, its URL (chroma and
    qdrant: ``http(s)://host:port``; lancedb: any URI ``lancedb.connect`` takes).
    ``client_options`` go to the engine's client (qdrant's ``api_key``, say).
    """
    if engine not in ENGINES:
        raise InvalidInputError(f"PraisonAI knowledge engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if "://" not in str(location):
        folder = Path(location).expanduser()
        if not folder.is_dir():
            raise NotFoundError(f"praisonai-{engine}: {str(folder)!r} is not a folder")
        location = folder
    return PraisonAIKnowledgeSource(engine, location, client_options)


def _document(doc_id: str, content: str, embedding: Any, fields: dict[str, Any]) -> KnowledgeDocument:
    metadata = {key: value for key, value in fields.items() if key not in _RESERVED}
    created_at = fields.get("created_at")
    return KnowledgeDocument(
        id=str(doc_id),
        content=content or "",
        embedding=None if embedding is None else [float(x) for x in embedding],
        metadata=metadata or None,
        content_hash=fields.get("content_hash") or None,
        created_at=float(created_at) if isinstance(created_at, (int, float)) else 0.0,
    )


class PraisonAIKnowledgeSource:
    """A read-only knowledge source over what PraisonAI 4.7 wrote (a folder or a server); a ``migrate`` source."""

    def __init__(self, engine: Engine, location: str | Path, client_options: dict[str, Any] | None = None) -> None:
        self.engine = engine
        self.backend = f"praisonai-{engine}"
        self.location = mask_secrets_in_text(str(location))
        options = client_options or {}
        remote = isinstance(location, str)
        extra = BY_KIND_AND_NAME[("knowledge", engine)].extra  # our backend of the same engine installs its driver
        if engine == "chroma":
            chromadb = import_driver("chromadb", backend=self.backend, extra=extra)
            settings = chromadb.config.Settings(anonymized_telemetry=False)
            if remote:
                url = urlsplit(str(location))
                self._client: Any = chromadb.HttpClient(
                    host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https", settings=settings, **options
                )
            else:
                self._client = chromadb.PersistentClient(path=str(location), settings=settings, **options)
        elif engine == "lancedb":
            lancedb = import_driver("lancedb", backend=self.backend, extra=extra)
            self._client = lancedb.connect(str(location), **options)
        else:
            qdrant = import_driver("qdrant_client", backend=self.backend, extra=extra)
            where = {"url": location} if remote else {"path": str(location)}
            self._client = qdrant.QdrantClient(**where, **options)

    # -- what migrate reads -------------------------------------------------------------

    def list_collections(self) -> list[str]:
        if self.engine == "chroma":
            return sorted(collection.name for collection in self._client.list_collections())
        if self.engine == "lancedb":
            with warnings.catch_warnings():  # table_names() is deprecated; its successor's shape varies by version
                warnings.simplefilter("ignore", DeprecationWarning)
                return sorted(self._client.table_names())
        return sorted(collection.name for collection in self._client.get_collections().collections)

    def collection_exists(self, name: str) -> bool:
        return name in self.list_collections()

    def count(self, name: str) -> int:
        return sum(len(batch) for batch in self.iter_documents(name, 1000, embeddings=False))

    def describe_collection(self, name: str) -> CollectionInfo:
        self._check(name)
        if self.engine == "chroma":
            collection = self._client.get_collection(name)
            metadata = dict(collection.metadata or {})
            distance = _CHROMA_SPACES.get(str(metadata.pop("hnsw:space", "l2")), "euclidean")
            sample = collection.get(limit=1, include=["embeddings"])["embeddings"]
            dimension = len(sample[0]) if sample is not None and len(sample) else 0
            return CollectionInfo(name, dimension, distance, metadata or None)
        if self.engine == "lancedb":
            vector = self._client.open_table(name).schema.field("vector").type
            return CollectionInfo(name, int(vector.list_size), "euclidean", None)
        params = self._client.get_collection(name).config.params.vectors
        found = _QDRANT_DISTANCES.get(str(getattr(params.distance, "value", params.distance)).lower())
        if found is None:
            raise InvalidInputError(f"{self.backend}: collection {name!r} uses distance {params.distance}, not ours")
        return CollectionInfo(name, int(params.size), found, None)

    def iter_documents(
        self, name: str, batch_size: int = 1000, *, embeddings: bool = True
    ) -> Iterator[list[KnowledgeDocument]]:
        """Every document once (the first of a repeated id), ``batch_size`` at a time."""
        self._check(name)
        seen: set[str] = set()

        def first_of_each_id(document: KnowledgeDocument) -> bool:
            fresh = document.id not in seen
            seen.add(document.id)
            return fresh

        yield from batches(filter(first_of_each_id, self._documents(name, batch_size, embeddings)), batch_size)

    def close(self) -> None:
        if self.engine == "qdrant":
            self._client.close()

    # -- the engines --------------------------------------------------------------------

    def _check(self, name: str) -> None:
        if not self.collection_exists(name):
            raise NotFoundError(f"{self.backend}: no collection {name!r} in {self.location!r}")

    def _documents(self, name: str, batch_size: int, embeddings: bool) -> Iterator[KnowledgeDocument]:
        if self.engine == "chroma":
            collection = self._client.get_collection(name)
            include = ["documents", "metadatas", *(["embeddings"] if embeddings else [])]
            offset = 0
            while True:
                page = collection.get(offset=offset, limit=batch_size, include=include)
                vectors = page["embeddings"] if embeddings else None
                for index, doc_id in enumerate(page["ids"]):
                    fields = dict(page["metadatas"][index] or {})
                    vector = None if vectors is None else vectors[index]
                    yield _document(doc_id, page["documents"][index], vector, fields)
                if len(page["ids"]) < batch_size:
                    return
                offset += batch_size
        elif self.engine == "lancedb":
            table = self._client.open_table(name).to_arrow()
            for start in range(0, table.num_rows, batch_size):
                for row in table.slice(start, batch_size).to_pylist():
                    vector = row["vector"] if embeddings else None
                    fields = {key: row.get(key) for key in _RESERVED}  # no metadata column: nothing else
                    yield _document(row["id"], row["content"], vector, fields)
        else:
            offset = None
            while True:
                points, offset = self._client.scroll(
                    name, limit=batch_size, offset=offset, with_payload=True, with_vectors=embeddings
                )
                for point in points:
                    payload = dict(point.payload or {})
                    doc_id = payload.pop("doc_id", point.id)
                    content = payload.pop("content", "")
                    yield _document(doc_id, content, point.vector if embeddings else None, payload)
                if offset is None:
                    return
