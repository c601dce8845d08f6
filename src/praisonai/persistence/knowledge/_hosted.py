"""The shared layer of the hosted vector backends (pinecone, weaviate, cassandra, mongodb_vector,
couchbase, singlestore_vector, upstash_vector, cosmosdb).

:class:`HostedVectorStore` does everything the contract asks that is not a call
to the engine: argument checks, the store lock, ``insert``'s existence check,
filter parsing and lowering, exact portable scores, ``delete``'s ids-and-filter
logic and the ``KnowledgeTransfer`` extras. A backend implements a dozen small
``_native_*`` primitives with its driver.

Every backend stores a document as one record with the same fields (see
:func:`document_record`):

- ``id``, ``content``, ``metadata`` (the exact metadata JSON, which is what is
  returned, so it round-trips exactly), ``content_hash``, ``created_at``,
  ``embedding`` (the caller's floats);
- ``ix``: filter tokens, a list of short strings drawn from ``[0-9a-z:=.f-]``:
  ``f<hex>:<kind>`` (the field holds a scalar of that kind) and
  ``f<hex>=<kind letter>:<canonical value>`` (it holds that value; strings as
  their SHA-256, numbers in a canonical form so ``1`` meets ``1.0`` but ``True``
  never meets ``1``). ``<hex>`` is the field name's UTF-8 in hex
  (:func:`~._filter_native.field_key`), so no caller text ever reaches a filter;
- ``n``: the number fields as floats, by ``f<hex>`` (ordering comparisons);
- ``c``: the string order chunks of :func:`~._filter_native.string_chunks`, by
  ``f<hex>_<j>`` (ordering comparisons on strings, as numbers).

A filter is lowered (:func:`~._filter_native.lower`) to equality atoms, which
become "``ix`` contains the token" / "does not contain it" (an absent field
contains no token, so ``$ne`` matches it), and range atoms on ``n`` and ``c``.
Each backend renders that tree in its engine's own filter language with bound
parameters where the engine has them (:func:`render_mql` for the Mongo-like
dialects, :class:`SqlTokens` for SQL-like ones).

Scores: the engine ranks; the reported ``score`` is computed exactly from the
stored embedding with :func:`~.base.similarity` (cosine similarity, dot product,
``1 / (1 + L2)``), so engine-specific score scales (Atlas's ``(1 + cos) / 2``,
Pinecone's squared euclidean, Cosmos DB's raw distance) never leak out.

``insert`` checks for existing ids and then writes, under the store's lock: two
processes inserting the same new id at the same moment can both succeed
(last write wins) on engines without an insert-if-absent batch.
"""

from __future__ import annotations

import math
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple

from .._values import dump_json, load_json
from ..errors import BackendUnavailableError, StoreError
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
    document_exists,
    parse_filters,
)
from ._filter_native import (
    ALWAYS,
    NEVER,
    All,
    Chunk,
    Eq,
    IsKind,
    Lowered,
    Ne,
    Range,
    field_key,
    index_metadata,
    lower,
    string_digest,
)
from ._filter_native import Any as AnyOf
from .base import DISTANCES, CollectionInfo, Distance, Filter, KnowledgeDocument, KnowledgeStore, similarity

__all__ = [
    "CHUNKS",
    "HostedVectorStore",
    "Settings",
    "SqlTokens",
    "document_from_record",
    "document_record",
    "kind_token",
    "number_key",
    "render_mql",
    "value_token",
]

CHUNKS = 16
"""String order chunks kept per field: ordering comparisons against strings of up to 90 UTF-8 bytes."""

RANGE_OPERATORS = frozenset({"$gt", "$gte", "$lt", "$lte"})


class Settings(NamedTuple):
    """How a collection was created."""

    dimension: int
    distance: Distance
    metadata: dict[str, Any] | None


# -- records ---------------------------------------------------------------------


def number_key(field: str) -> str:
    """The key of a field in ``ix`` tokens and in the ``n`` map: ``f`` + hex of its UTF-8."""
    return "f" + field_key(field)


def _canonical_number(value: int | float) -> str:
    if isinstance(value, int):
        as_float = float(value) if abs(value) < 2**1023 else math.inf
        return repr(as_float) if as_float == value else str(value)
    return repr(value)


def kind_token(field: str, kind: str) -> str:
    """The token saying that ``field`` holds a scalar of ``kind`` (string, number, bool, null)."""
    return f"{number_key(field)}:{kind}"


def value_token(field: str, kind: str, value: Any) -> str:
    """The token saying that ``field`` holds ``value`` (null: the kind token)."""
    key = number_key(field)
    if kind == "null":
        return f"{key}:null"
    if kind == "string":
        return f"{key}=s:{string_digest(value)}"
    if kind == "bool":
        return f"{key}=b:{'true' if value else 'false'}"
    return f"{key}=n:{_canonical_number(value)}"


def document_record(document: KnowledgeDocument, backend: str) -> dict[str, Any]:
    """The stored form of a (checked) document: see the module docstring."""
    tokens: list[str] = ["doc"]  # never empty: some engines drop empty lists
    numbers: dict[str, float] = {}
    chunks: dict[str, int] = {}
    for indexed in index_metadata(document.metadata, chunk_limit=CHUNKS):
        tokens.append(kind_token(indexed.name, indexed.kind))
        if indexed.kind != "null":
            tokens.append(value_token(indexed.name, indexed.kind, indexed.value))
        key = number_key(indexed.name)
        if indexed.kind == "number":
            assert isinstance(indexed.value, (int, float))
            numbers[key] = float(indexed.value) if abs(indexed.value) < 1e308 else math.copysign(1e308, indexed.value)
        for position, chunk in enumerate(indexed.chunks):
            chunks[f"{key}_{position}"] = chunk
    assert document.embedding is not None
    return {
        "id": document.id,
        "content": document.content,
        "metadata": dump_json(document.metadata, backend, "metadata"),
        "content_hash": document.content_hash,
        "created_at": document.created_at,
        "embedding": list(document.embedding),
        "ix": tokens,
        "n": numbers,
        "c": chunks,
    }


def document_from_record(record: Any) -> KnowledgeDocument:
    """A document from a record's fields (a mapping with at least the stored fields)."""
    return KnowledgeDocument(
        id=str(record["id"]),
        content=str(record["content"]),
        embedding=[float(x) for x in record["embedding"]],
        metadata=load_json(record["metadata"]),
        content_hash=record.get("content_hash"),
        created_at=float(record["created_at"]),
    )


# -- filter renderers --------------------------------------------------------------


def render_mql(
    node: Lowered,
    *,
    tokens: str = "ix",
    number: Callable[[str], str] = lambda key: f"n.{key}",
    chunk: Callable[[str], str] = lambda key: f"c.{key}",
) -> dict[str, Any]:
    """A lowered filter as a MongoDB-style query document (MongoDB, Atlas, Pinecone).

    Equality atoms test membership of the token list with ``$in`` / ``$nin``;
    ranges compare the number and chunk fields (absent on other kinds, so they
    do not match). ``number`` / ``chunk`` map a key to its field path.
    """
    if isinstance(node, All):
        return {"$and": [render_mql(part, tokens=tokens, number=number, chunk=chunk) for part in node.parts]}
    if isinstance(node, AnyOf):
        return {"$or": [render_mql(part, tokens=tokens, number=number, chunk=chunk) for part in node.parts]}
    if isinstance(node, Eq):
        return {tokens: {"$in": [value_token(node.field, node.kind, node.value)]}}
    if isinstance(node, Ne):
        return {tokens: {"$nin": [value_token(node.field, node.kind, node.value)]}}
    if isinstance(node, IsKind):
        return {tokens: {"$in": [kind_token(node.field, node.kind)]}}
    if isinstance(node, Range):
        return {number(number_key(node.field)): {f"${node.op}": node.value}}
    if isinstance(node, Chunk):
        return {chunk(f"{number_key(node.field)}_{node.index}"): {f"${node.op}": node.value}}
    raise AssertionError(f"unexpected filter node {node!r}")


class SqlTokens:
    """A lowered filter as a SQL-like boolean expression with bound parameters.

    A dialect supplies four spellings: a bound parameter for a value, "the
    token list contains this parameter", "the number under this key" and "the
    chunk under this key" (both only meaningful where they exist: every range
    atom first checks the field's kind token, so a missing value is never
    compared).
    """

    true = "true"
    false = "false"

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def param(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return self.placeholder(name)

    @abstractmethod
    def placeholder(self, name: str) -> str: ...

    @abstractmethod
    def contains(self, token_param: str) -> str: ...

    @abstractmethod
    def number(self, key_param: str) -> str: ...

    @abstractmethod
    def chunk(self, key_param: str) -> str: ...

    def render(self, node: Lowered) -> str:
        if isinstance(node, All):
            return "(" + " AND ".join(self.render(part) for part in node.parts) + ")"
        if isinstance(node, AnyOf):
            return "(" + " OR ".join(self.render(part) for part in node.parts) + ")"
        if isinstance(node, Eq):
            return self.contains(self.param(value_token(node.field, node.kind, node.value)))
        if isinstance(node, Ne):
            return f"(NOT {self.contains(self.param(value_token(node.field, node.kind, node.value)))})"
        if isinstance(node, IsKind):
            return self.contains(self.param(kind_token(node.field, node.kind)))
        ops = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "="}
        if isinstance(node, Range):
            guard = self.contains(self.param(kind_token(node.field, "number")))
            value = self.param(float(node.value))
            return f"({guard} AND {self.number(self.param(number_key(node.field)))} {ops[node.op]} {value})"
        if isinstance(node, Chunk):
            guard = self.contains(self.param(kind_token(node.field, "string")))
            key = self.param(f"{number_key(node.field)}_{node.index}")
            # A chunk beyond the stored string's end is absent: check presence first.
            present = self.present(key)
            return f"({guard} AND {present} AND {self.chunk(key)} {ops[node.op]} {self.param(node.value)})"
        raise AssertionError(f"unexpected filter node {node!r}")

    def present(self, key_param: str) -> str:
        """The chunk under ``key_param`` exists (default: it compares to itself)."""
        return f"{self.chunk(key_param)} = {self.chunk(key_param)}"


def decimal_literal(value: float | int) -> str:
    """A finite number as a plain decimal literal (no exponent), exact."""
    return format(Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value), "f")


# -- the store -------------------------------------------------------------------


class HostedVectorStore(KnowledgeStore):
    """The contract on top of a backend's ``_native_*`` primitives (called under the store's lock)."""

    backend: ClassVar[str] = "hosted"
    engine: ClassVar[str] = "the engine"
    unsupported_filters: ClassVar[frozenset[str]] = frozenset()
    supported_distances: ClassVar[tuple[Distance, ...]] = DISTANCES

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False

    # -- primitives --------------------------------------------------------------

    @abstractmethod
    def _native_create(self, name: str, settings: Settings) -> bool:
        """Create the collection; False if it already exists."""

    @abstractmethod
    def _native_drop(self, name: str) -> bool: ...

    @abstractmethod
    def _native_settings(self, name: str) -> Settings | None: ...

    @abstractmethod
    def _native_names(self) -> list[str]: ...

    @abstractmethod
    def _native_existing(self, name: str, settings: Settings, ids: list[str]) -> set[str]: ...

    @abstractmethod
    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        """Write (replace) the records."""

    @abstractmethod
    def _native_get(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]: ...

    @abstractmethod
    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        """The ``limit`` nearest documents matching ``node`` (None: all), best first."""

    @abstractmethod
    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        """The ids of the documents matching ``node`` (among ``ids`` when given)."""

    def _native_delete_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> int:
        """Delete the documents matching ``node`` (among ``ids`` when given); return how many."""
        doomed = self._native_matching(name, settings, node, ids)
        if doomed:
            self._native_remove(name, settings, doomed)
        return len(doomed)

    @abstractmethod
    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None: ...

    @abstractmethod
    def _native_count(self, name: str, settings: Settings) -> int: ...

    @abstractmethod
    def _native_scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]: ...

    @abstractmethod
    def _native_close(self) -> None: ...

    def _is_unavailable(self, error: BaseException) -> bool:
        """Whether ``error`` means the engine cannot be reached."""
        names = {type(item).__name__ for item in _chain(error)}
        return bool(
            names
            & {
                "ConnectError",
                "ConnectTimeout",
                "ConnectionError",
                "ConnectionRefusedError",
                "ServerSelectionTimeoutError",
                "NoHostAvailable",
                "UnambiguousTimeoutException",
                "ServiceUnavailableException",
                "WeaviateConnectionError",
            }
        )

    # -- collections ----------------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        check_collection_name(name, self.backend)
        check_dimension(dimension, self.backend)
        check_distance(distance, self.backend, self.supported_distances)
        settings = Settings(dimension, distance, check_collection_metadata(metadata, self.backend))
        with self._call():
            if self._native_settings(name) is not None or not self._native_create(name, settings):
                raise collection_exists(name, self.backend)

    def delete_collection(self, name: str) -> bool:
        check_collection_name(name, self.backend)
        with self._call():
            if self._native_settings(name) is None:
                return False
            return self._native_drop(name)

    def collection_exists(self, name: str) -> bool:
        check_collection_name(name, self.backend)
        with self._call():
            return self._native_settings(name) is not None

    def list_collections(self) -> list[str]:
        with self._call():
            return sorted(self._native_names())

    def describe_collection(self, name: str) -> CollectionInfo:
        """The collection's dimension, distance and metadata (see ``KnowledgeTransfer``)."""
        with self._call():
            settings = self._require(name)
        return CollectionInfo(name, settings.dimension, settings.distance, settings.metadata)

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        """Every document, embeddings included, ``batch_size`` at a time (see ``KnowledgeTransfer``)."""
        size: object = batch_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError("batch_size must be a positive int")
        with self._call():
            settings = self._require(collection)
        pages = self._native_scan(collection, settings, batch_size)
        while True:
            with self._call():
                page = next(pages, None)
            if page is None:
                return
            if page:
                yield page

    # -- documents -----------------------------------------------------------------

    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self._write(collection, documents, overwrite=False)

    def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self._write(collection, documents, overwrite=True)

    def _write(self, collection: str, documents: Sequence[KnowledgeDocument], *, overwrite: bool) -> list[str]:
        with self._call():
            settings = self._require(collection)
            prepared = check_documents(documents, settings.dimension, self.backend)
            if not prepared:
                return []
            ids = [document.id for document in prepared]
            if not overwrite:
                taken = self._native_existing(collection, settings, ids)
                if taken:
                    raise document_exists(collection, taken, self.backend)
            self._native_put(collection, settings, [document_record(d, self.backend) for d in prepared])
            return ids

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
        with self._call():
            settings = self._require(collection)
            query = check_embedding(query_embedding, settings.dimension, self.backend, "query_embedding")
            node = self._lower(filters)
            if node == NEVER:
                return []
            found = self._native_query(collection, settings, query, limit, None if node == ALWAYS else node)
        results: list[KnowledgeDocument] = []
        for document in found[:limit]:
            assert document.embedding is not None
            document.score = similarity(settings.distance, query, document.embedding)
            if threshold is None or document.score >= threshold:
                results.append(document)
        results.sort(key=lambda document: -(document.score or 0.0))
        return results

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        wanted = check_document_ids(ids, self.backend)
        with self._call():
            settings = self._require(collection)
            if not wanted:
                return []
            found = self._native_get(collection, settings, list(dict.fromkeys(wanted)))
        return [found[i] for i in wanted if i in found]

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        wanted, parsed = check_delete_args(ids, filters, self.backend, self.unsupported_filters)
        with self._call():
            settings = self._require(collection)
            if wanted is not None:
                wanted = list(dict.fromkeys(wanted))
                if not wanted:
                    return 0
            node = None if parsed is None else self._lower(filters)
            if node == NEVER:
                return 0
            if node is None or node == ALWAYS:
                assert wanted is not None
                doomed = sorted(self._native_existing(collection, settings, wanted))
                if doomed:
                    self._native_remove(collection, settings, doomed)
                return len(doomed)
            return self._native_delete_matching(collection, settings, node, wanted)

    def count(self, collection: str) -> int:
        with self._call():
            settings = self._require(collection)
            return self._native_count(collection, settings)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._native_close()

    # -- helpers -------------------------------------------------------------------

    @contextmanager
    def _call(self) -> Iterator[None]:
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed", backend=self.backend)
            try:
                yield
            except StoreError:
                raise
            except Exception as error:
                if self._is_unavailable(error):
                    raise BackendUnavailableError(
                        f"cannot reach {self.engine}: {type(error).__name__}", backend=self.backend
                    ) from error
                raise

    def _require(self, collection: str) -> Settings:
        check_collection_name(collection, self.backend)
        settings = self._native_settings(collection)
        if settings is None:
            raise collection_not_found(collection, self.backend)
        return settings

    def _lower(self, filters: Filter | None) -> Lowered:
        node = parse_filters(filters, self.backend, self.unsupported_filters)
        if node is None:
            return ALWAYS
        return lower(node, self.backend, chunk_limit=CHUNKS)


def settings_json(settings: Settings, backend: str) -> str:
    """A collection's settings as JSON text (for engines that keep them in a catalogue)."""
    return dump_json(
        {"dimension": settings.dimension, "distance": settings.distance, "metadata": settings.metadata}, backend
    )


def settings_from_json(text: str) -> Settings:
    data = load_json(text)
    return Settings(int(data["dimension"]), data["distance"], data["metadata"])


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
