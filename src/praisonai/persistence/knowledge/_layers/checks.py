"""Argument checks shared by every knowledge backend.

Every built-in knowledge store runs its arguments through these helpers before
it talks to its engine, so that all backends reject the same inputs with the
same errors (:class:`InvalidInputError`, a ``ValueError``, unless noted):

- collection names: :func:`check_collection_name` (``^[A-Za-z_][A-Za-z0-9_-]{0,62}$``);
- dimensions: :func:`check_dimension` (an ``int`` from 1 to :data:`MAX_DIMENSION`);
- distances: :func:`check_distance` (``cosine``, ``dot``, ``euclidean``, narrowed
  to what the backend supports);
- documents: :func:`check_documents` (returns validated copies with fresh ids
  filled in; the caller's objects are never modified);
- embeddings and queries: :func:`check_embedding`;
- ``search`` arguments: :func:`check_search_limit`, :func:`check_score_threshold`;
- filters: :func:`parse_filters` (the portable language of
  :mod:`praisonai.persistence.knowledge.filters`), with
  :func:`check_filter_support` raising :class:`UnsupportedFilterError` for
  operators the engine cannot express, so a filter is never dropped;
- ``get`` / ``delete`` arguments: :func:`check_document_ids`, :func:`check_delete_args`;
- error builders with consistent messages: :func:`collection_not_found`,
  :func:`collection_exists`, :func:`document_exists`.

They raise without naming the backend: every store calls them under its call
guard, which stamps its name on the error. Pure Python; imports no driver and
no pydantic.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, cast

from ..._values import MAX_ID_LENGTH, check_id, check_limit, check_text, dump_json, load_json, new_id
from ...errors import AlreadyExistsError, EngineError, InvalidInputError, NotFoundError, UnsupportedFilterError
from ..base import DISTANCES, Distance, Filter, KnowledgeDocument
from ..filters import And, Comparison, FilterNode, parse_filter

__all__ = [
    "COLLECTION_NAME_PATTERN",
    "FILTER_OPERATORS",
    "MAX_DIMENSION",
    "MAX_ID_LENGTH",
    "check_collection_metadata",
    "check_collection_name",
    "check_delete_args",
    "check_dimension",
    "check_distance",
    "check_document_ids",
    "check_documents",
    "check_embedding",
    "check_float32",
    "check_filter_numbers",
    "check_filter_support",
    "check_metadata",
    "check_score_threshold",
    "check_search_limit",
    "collection_exists",
    "collection_not_found",
    "copy_document",
    "document_exists",
    "filter_operators",
    "fresh_id",
    "parse_filters",
]

COLLECTION_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,62}$")
"""A collection name: a letter or ``_``, then up to 62 letters, digits, ``_`` or ``-``."""

FLOAT32_MAX = 3.4028234663852886e38
"""The largest finite float32: engines that store embeddings as float32 refuse values beyond it."""

MAX_FILTER_INT = 10**4300
"""Filter integers must be smaller in magnitude (Python's int/str conversion limit; JSON cannot carry more)."""

MAX_DIMENSION = 65536
"""The largest embedding dimension a collection may declare."""

FILTER_OPERATORS: frozenset[str] = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$and", "$or"})
"""Every operator of the portable filter language (plain equality parses to ``$eq``)."""


def fresh_id() -> str:
    """A new document id (a random UUID4 string), as ``KnowledgeDocument`` assigns by default."""
    return new_id()


# -- collections ---------------------------------------------------------------


def check_collection_name(name: object, what: str = "collection") -> str:
    """Return ``name`` if it matches :data:`COLLECTION_NAME_PATTERN`, else raise InvalidInputError.

    The pattern is safe to interpolate as a table, index or namespace name in
    every engine we support (after the backend adds its own prefix or quoting).
    """
    if not isinstance(name, str):
        raise InvalidInputError(f"{what} name must be a str, not {type(name).__name__}")
    if not COLLECTION_NAME_PATTERN.match(name):
        raise InvalidInputError(
            f"{what} name {name!r:.80} is invalid: use a letter or _ followed by up to 62 letters, digits, _ or -"
        )
    return name


def check_dimension(dimension: object) -> int:
    """Return ``dimension`` if it is an ``int`` (not bool) from 1 to :data:`MAX_DIMENSION`."""
    if isinstance(dimension, bool) or not isinstance(dimension, int):
        raise InvalidInputError(f"dimension must be an int, not {type(dimension).__name__}")
    if not 1 <= dimension <= MAX_DIMENSION:
        raise InvalidInputError(f"dimension must be 1 to {MAX_DIMENSION}, got {dimension}")
    return dimension


def check_distance(distance: object, supported: Collection[str] = DISTANCES) -> Distance:
    """Return ``distance`` if it is one of ``cosine``, ``dot``, ``euclidean`` and in ``supported``.

    A name outside the portable three and a portable name the engine lacks both
    raise :class:`InvalidInputError`; the message says which.
    """
    if not isinstance(distance, str) or distance not in DISTANCES:
        raise InvalidInputError(f"distance must be one of {', '.join(DISTANCES)}, got {distance!r:.40}")
    if distance not in supported:
        raise InvalidInputError(
            f"distance {distance!r} is not supported by this backend; use one of {', '.join(sorted(supported))}"
        )
    return distance


def check_collection_metadata(metadata: object) -> dict[str, Any] | None:
    """A collection's metadata: ``None`` or a JSON-serializable dict; returned as a deep copy."""
    return check_metadata(metadata, "collection metadata")


def collection_not_found(name: str) -> NotFoundError:
    """The error to raise when an operation names a collection that does not exist."""
    return NotFoundError(f"collection {name!r} does not exist")


def collection_exists(name: str) -> AlreadyExistsError:
    """The error to raise when ``create_collection`` names an existing collection."""
    return AlreadyExistsError(f"collection {name!r} already exists")


def document_exists(collection: str, ids: Iterable[str]) -> AlreadyExistsError:
    """The error to raise when ``insert`` meets ids already in the collection (nothing is stored)."""
    shown = sorted(ids)
    listed = ", ".join(repr(i) for i in shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
    return AlreadyExistsError(
        f"document id(s) {listed} already exist in collection {collection!r}; nothing was inserted "
        "(use upsert to replace)"
    )


def partly_stored(collection: str, count: int, error: BaseException, cleanup: BaseException) -> EngineError:
    """The error to raise when an insert written in parts failed part-way and the parts already
    written could not be deleted again: not ``BackendUnavailableError``, whose retry would meet them."""
    return EngineError(
        f"insert into collection {collection!r} stopped ({type(error).__name__}: {error}) and up to "
        f"{count} of its documents, already stored, could not be removed ({type(cleanup).__name__}); "
        "get them to see which, or upsert the same documents to complete it"
    )


# -- documents -----------------------------------------------------------------


def check_embedding(embedding: object, dimension: int, what: str = "embedding") -> list[float]:
    """Return ``embedding`` as a new ``list[float]`` of length ``dimension``.

    Accepts any sized iterable of real numbers (lists, tuples, numpy arrays);
    rejects ``None``, strings, bools, NaN and infinities.
    """
    if embedding is None:
        raise InvalidInputError(f"{what} is missing (every document needs an embedding)")
    if isinstance(embedding, (str, bytes, bytearray, Mapping)) or not hasattr(embedding, "__len__"):
        raise InvalidInputError(f"{what} must be a list of floats, not {type(embedding).__name__}")
    items = cast("Sequence[object]", embedding)
    if len(items) != dimension:
        raise InvalidInputError(f"{what} has dimension {len(items)}; the collection's dimension is {dimension}")
    # The usual case, a list of finite floats, is checked at C speed (the loop below costs about
    # 0.5 µs per value: a 384-dimension document spent ~0.2 ms here); anything else takes the loop.
    if set(map(type, items)) == {float}:
        floats = cast("list[float]", list(items))
        if all(map(math.isfinite, floats)):
            return floats
    values: list[float] = []
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise InvalidInputError(f"{what}[{index}] must be a number, not {type(item).__name__}")
        value = float(item)
        if not math.isfinite(value):
            raise InvalidInputError(f"{what}[{index}] is {value!r}; values must be finite")
        values.append(value)
    return values


def check_float32(embedding: Sequence[float], what: str = "embedding") -> None:
    """Refuse values a float32 cannot hold (they would become infinities), for engines storing float32."""
    for index, value in enumerate(embedding):
        if not -FLOAT32_MAX <= value <= FLOAT32_MAX:
            raise InvalidInputError(
                f"{what}[{index}] is {value!r}, beyond the float32 range (±{FLOAT32_MAX:.4g}) this backend stores"
            )


def check_metadata(metadata: object, what: str = "metadata") -> dict[str, Any] | None:
    """``None`` or a JSON-serializable dict with str keys; returned as a deep copy.

    Raises :class:`InvalidInputError` for a non-dict and
    :class:`~praisonai.persistence.errors.NotJSONSerializableError` (a
    ``TypeError``) for values that would not round-trip exactly.
    """
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidInputError(f"{what} must be a dict or None, not {type(metadata).__name__}")
    try:
        text = dump_json(metadata, what=what)
    except ValueError as error:
        if isinstance(error, InvalidInputError):
            raise
        # An integer of more digits than Python converts to text (10**5000): JSON cannot carry it.
        raise InvalidInputError(f"{what} holds a number too large to store ({error})") from error
    copied: dict[str, Any] = load_json(text)
    return copied


def copy_document(document: KnowledgeDocument) -> KnowledgeDocument:
    """A copy of ``document`` sharing no mutable state with it (embedding and metadata copied)."""
    return KnowledgeDocument(
        id=document.id,
        content=document.content,
        embedding=None if document.embedding is None else list(document.embedding),
        metadata=None if document.metadata is None else load_json(dump_json(document.metadata)),
        content_hash=document.content_hash,
        created_at=document.created_at,
        score=document.score,
    )


def check_documents(documents: object, dimension: int) -> list[KnowledgeDocument]:
    """Validate the documents of one ``insert`` / ``upsert`` call and return prepared copies.

    Each copy has: the caller's id, or a fresh one where the id is ``""``; the
    embedding as ``list[float]`` of the collection's ``dimension``; metadata
    deep-copied (JSON only); ``score`` cleared. Two documents with the same id
    in one call raise :class:`InvalidInputError`. The caller's objects are not
    modified. Order is kept, so the ids of the result are the ids to return.
    """
    if isinstance(documents, (str, bytes, Mapping, KnowledgeDocument)) or not isinstance(documents, Iterable):
        raise InvalidInputError(f"documents must be a list of KnowledgeDocument, not {type(documents).__name__}")
    prepared: list[KnowledgeDocument] = []
    seen: set[str] = set()
    for index, document in enumerate(documents):
        if not isinstance(document, KnowledgeDocument):
            raise InvalidInputError(f"documents[{index}] must be a KnowledgeDocument, not {type(document).__name__}")
        document_id = fresh_id() if document.id == "" else check_id(document.id, what=f"documents[{index}].id")
        if document_id in seen:
            raise InvalidInputError(f"document id {document_id!r} appears twice in one call")
        seen.add(document_id)
        check_text(document.content, what=f"documents[{index}].content")
        created_at: object = document.created_at
        if isinstance(created_at, bool) or not isinstance(created_at, (int, float)) or not math.isfinite(created_at):
            raise InvalidInputError(f"documents[{index}].created_at must be a finite number")
        prepared.append(
            KnowledgeDocument(
                id=document_id,
                content=document.content,
                embedding=check_embedding(document.embedding, dimension, f"documents[{index}].embedding"),
                metadata=check_metadata(document.metadata, f"documents[{index}].metadata"),
                content_hash=document.content_hash,
                created_at=float(created_at),
            )
        )
    return prepared


def check_document_ids(ids: object, what: str = "ids") -> list[str]:
    """A list (or tuple) of valid document ids; a bare string is refused, not split into characters."""
    if isinstance(ids, (str, bytes, Mapping)) or not isinstance(ids, Iterable):
        raise InvalidInputError(f"{what} must be a list of str, not {type(ids).__name__}")
    return [check_id(value, what=f"{what}[{index}]") for index, value in enumerate(ids)]


# -- search and delete ---------------------------------------------------------


def check_search_limit(limit: object) -> int:
    """``search``'s ``limit``: an int >= 1."""
    return check_limit(limit, what="limit", allow_zero=False)


def check_score_threshold(score_threshold: object) -> float | None:
    """``None`` or a finite number; results keep scores ``>=`` it."""
    if score_threshold is None:
        return None
    value = float(score_threshold) if isinstance(score_threshold, (int, float, numbers.Real)) else math.nan
    if isinstance(score_threshold, bool) or not math.isfinite(value):
        raise InvalidInputError(f"score_threshold must be a finite number, got {score_threshold!r:.40}")
    return value


def parse_filters(filters: Filter | None, unsupported: Collection[str] = frozenset()) -> FilterNode | None:
    """Parse a portable filter (``None`` stays ``None``).

    Raises :class:`InvalidInputError` if it is malformed, and
    :class:`UnsupportedFilterError` if it uses an operator in ``unsupported``.
    """
    if filters is None:
        return None
    node = parse_filter(filters, None)
    if unsupported:
        check_filter_support(node, unsupported)
    return node


def filter_operators(node: FilterNode) -> set[str]:
    """Every operator a parsed filter uses, ``$and`` / ``$or`` included."""
    if isinstance(node, Comparison):
        return {node.op}
    found: set[str] = {"$and" if isinstance(node, And) else "$or"}
    for clause in node.clauses:
        found |= filter_operators(clause)
    return found


def check_filter_numbers(
    node: FilterNode, exact_below: int | None = None, ranges_below: int | None = None, floats_below: int | None = None
) -> None:
    """Refuse filter numbers the engine would compare inexactly, with :class:`InvalidInputError`.

    Every backend refuses integers of :data:`MAX_FILTER_INT` or more. ``exact_below``: engines that
    index numbers as 64-bit floats (``2**53``) round stored integers beyond it, so a comparison with a
    value of that magnitude may be wrong; ``ranges_below`` applies only to ordering operators (engines
    whose equality is exact, through tokens, but whose ranges compare floats); ``floats_below`` only to
    float values (PostgreSQL ``jsonb`` holds a float as its shortest decimal and an integer exactly, so
    ``2.0**63`` would not meet ``2**63``).
    """
    if not isinstance(node, Comparison):
        for clause in node.clauses:
            check_filter_numbers(clause, exact_below, ranges_below, floats_below)
        return
    bound = exact_below
    if node.op in ("$gt", "$gte", "$lt", "$lte") and ranges_below is not None:
        bound = ranges_below if bound is None else min(bound, ranges_below)
    for value in node.value if isinstance(node.value, tuple) else (node.value,):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if isinstance(value, int) and abs(value) >= MAX_FILTER_INT:
            raise InvalidInputError(f"filter value for {node.field!r} is an integer too large to compare")
        if isinstance(value, float) and floats_below is not None:
            bound = floats_below if bound is None else min(bound, floats_below)
        if bound is not None and (isinstance(value, int) or math.isfinite(value)) and abs(value) >= bound:
            raise InvalidInputError(
                f"filter value for {node.field!r} is at or beyond ±2**{bound.bit_length() - 1}: this backend "
                "cannot compare numbers of that size exactly (see its docs); store such ids as strings"
            )


def check_filter_support(node: FilterNode, unsupported: Collection[str]) -> None:
    """Raise :class:`UnsupportedFilterError` naming the operators of ``node`` found in ``unsupported``.

    Note that a filter with two top-level fields parses to ``$and``.
    """
    used = filter_operators(node) & set(unsupported)
    if used:
        raise UnsupportedFilterError(
            f"filter operator(s) {', '.join(sorted(used))} cannot be expressed by this backend; "
            "the filter was not applied"
        )


def check_delete_args(
    ids: object, filters: Filter | None, unsupported: Collection[str] = frozenset()
) -> tuple[list[str] | None, FilterNode | None]:
    """Validate ``delete``'s arguments: ``(ids, parsed filter)``.

    Neither given raises :class:`InvalidInputError` (``delete`` never means
    "delete everything"). Both given mean the documents matching both.
    ``ids=[]`` is valid and deletes nothing.
    """
    if ids is None and filters is None:
        raise InvalidInputError(
            "delete needs ids, filters or both; it never deletes a whole collection (use delete_collection)"
        )
    checked = None if ids is None else check_document_ids(ids)
    return checked, parse_filters(filters, unsupported)
