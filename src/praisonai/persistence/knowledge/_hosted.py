"""The shared layer of the hosted vector backends (pinecone, weaviate, cassandra, mongodb_vector,
couchbase, singlestore_vector, upstash_vector, cosmosdb).

:class:`HostedVectorStore` is a :class:`~._store.KnowledgeStoreBase` (argument
checks, the store lock, ``insert``'s existence check, the ``KnowledgeTransfer``
extras, engine errors) that adds what the hosted engines share: the record
layout below, filter lowering, exact portable scores, and ``delete``'s
ids-and-filter logic. A backend implements the base's lookups and a few
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
from abc import abstractmethod
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

from .._values import dump_json, load_json
from ..errors import BackendUnavailableError
from ._common import collection_exists, collection_not_found
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
from ._store import CollectionSettings as Settings
from ._store import KnowledgeStoreBase, error_chain
from .base import Distance, KnowledgeDocument, similarity
from .filters import FilterNode

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

_SCAN_BATCH = 1000
"""Documents read per page when a filter that matches everything is deleted."""


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


class HostedVectorStore(KnowledgeStoreBase[Settings]):
    """:class:`~._store.KnowledgeStoreBase` on a hosted engine: records, lowered filters, exact scores.

    A backend implements the base's ``_find`` ``_names`` ``_taken`` ``_fetch`` ``_count`` ``_scan``
    ``_release`` (its collection handle is the :class:`Settings`), and the ``_native_*`` primitives
    below, which take what this layer translates: records instead of documents, lowered filters
    instead of parsed ones, no scores. All are called with the store's lock held.
    """

    engine: ClassVar[str] = "the engine"

    # -- primitives --------------------------------------------------------------

    @abstractmethod
    def _native_create(self, name: str, settings: Settings) -> bool:
        """Create the collection; False if it already exists."""

    @abstractmethod
    def _native_drop(self, name: str) -> bool:
        """Drop the collection; False if it was gone already."""

    @abstractmethod
    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        """Write (replace) the records."""

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

    def _is_unavailable(self, error: BaseException) -> bool:
        """Whether ``error`` means the engine cannot be reached."""
        chain = list(error_chain(error))
        names = {type(item).__name__ for item in chain}
        # MySQL-protocol clients (singlestoredb): 2003 can't connect, 2006 gone away, 2013/2055 lost connection.
        codes = {getattr(item, "errno", None) for item in chain} | {
            item.args[0] for item in chain if item.args and isinstance(item.args[0], int)
        }
        return bool(codes & {2003, 2006, 2013, 2055}) or bool(
            names
            & {
                "ConnectError",
                "ConnectTimeout",
                "ConnectionError",
                "ConnectionRefusedError",
                "ServerSelectionTimeoutError",
                "NoHostAvailable",
                "UnambiguousTimeoutException",
                "UnAmbiguousTimeoutException",  # the couchbase SDK's spelling
                "ServiceUnavailableException",
                "ServiceRequestError",  # azure-core: the request could not be sent
                "WeaviateConnectionError",
                "WeaviateStartUpError",
            }
        )

    # -- KnowledgeStoreBase hooks on the primitives ---------------------------------

    def _engine_error(self, error: Exception) -> Exception | None:
        if self._is_unavailable(error):
            return BackendUnavailableError(f"cannot reach {self.engine}: {type(error).__name__}", backend=self.backend)
        return None

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        if not self._native_create(name, Settings(dimension, distance, metadata)):
            raise collection_exists(name, self.backend)

    def _drop(self, name: str, target: Settings) -> None:
        if not self._native_drop(name):
            raise collection_not_found(name, self.backend)

    def _put(self, name: str, target: Settings, documents: list[KnowledgeDocument], *, overwrite: bool) -> None:
        # insert's existence check (_taken) has run already; every engine's write replaces.
        self._native_put(name, target, [document_record(document, self.backend) for document in documents])

    def _search(
        self, name: str, target: Settings, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        lowered = self._lower(node)
        if lowered == NEVER:
            return []
        found = self._native_query(name, target, query, limit, None if lowered == ALWAYS else lowered)[:limit]
        for document in found:
            assert document.embedding is not None
            document.score = similarity(target.distance, query, document.embedding)
        found.sort(key=lambda document: -(document.score or 0.0))
        return found

    def _remove(self, name: str, target: Settings, ids: list[str] | None, node: FilterNode | None) -> int:
        lowered = self._lower(node)
        if lowered == NEVER:
            return 0
        if lowered != ALWAYS:
            return self._native_delete_matching(name, target, lowered, ids)
        if ids is None:  # a filter every document matches, such as {"tag": {"$nin": []}}
            doomed = [document.id for page in self._scan(name, target, _SCAN_BATCH) for document in page]
        else:
            doomed = sorted(self._taken(name, target, ids))
        if doomed:
            self._native_remove(name, target, doomed)
        return len(doomed)

    def _lower(self, node: FilterNode | None) -> Lowered:
        return ALWAYS if node is None else lower(node, self.backend, chunk_limit=CHUNKS)
