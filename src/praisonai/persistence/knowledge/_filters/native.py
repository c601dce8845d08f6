"""The portable filter language lowered for vector engines that have no SQL.

``qdrant``, ``chroma``, ``lancedb``, ``milvus`` and ``redis`` filter on a
*typed index* of each document's metadata, written next to the full metadata
JSON (which is what ``get`` and ``search`` return, so it round-trips exactly).
For every top-level field whose value is a JSON scalar, the index holds:

- the value's kind (``string``, ``number``, ``bool``, ``null``), under the kind key;
- the value itself under a key of that kind only, so ``True`` never meets ``1``
  and ``"1"`` never meets ``1``, whatever the engine's own coercions are;
- for strings, on engines that cannot order strings (:func:`string_chunks`),
  the UTF-8 bytes as a few integers that order exactly like the string does.

Lists and objects are not indexed: no scalar comparison matches them, and
``$ne`` / ``$nin`` (which match absent fields) match them too, as
:func:`~praisonai.persistence.knowledge.filters.matches` does.

:func:`lower` turns a parsed filter into a tree of :class:`All`, :class:`Any`
and atoms with no negation except the :class:`Ne` atom, which every engine can
express with "absent matches" semantics. ``$in`` becomes an ``Any`` of ``Eq``,
``$nin`` an ``All`` of ``Ne``. Constant parts (NaN, infinities, empty ``$in``)
fold away; a filter that can match nothing lowers to :data:`NEVER`, one that
matches everything to :data:`ALWAYS`. :func:`evaluate` is the reference
evaluation of a lowered tree on an index, used by the tests to check the
lowering against :func:`~praisonai.persistence.knowledge.filters.matches`.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any as AnyType
from typing import Literal, TypeAlias, TypeVar

from ...errors import UnsupportedFilterError
from ..filters import And, Comparison, FilterNode, Or

__all__ = [
    "ALWAYS",
    "CHUNK_SYMBOLS",
    "NEVER",
    "All",
    "Any",
    "Atom",
    "Chunk",
    "Eq",
    "IndexedField",
    "IsKind",
    "Kind",
    "Lowered",
    "Ne",
    "Range",
    "StrRange",
    "as_float",
    "evaluate",
    "field_key",
    "flat_index",
    "index_metadata",
    "int64_or_float",
    "kind_of",
    "lower",
    "render",
    "simplify",
    "string_chunks",
    "string_digest",
]

Kind: TypeAlias = Literal["string", "number", "bool", "null"]
RangeOp: TypeAlias = Literal["gt", "gte", "lt", "lte"]
ChunkOp: TypeAlias = Literal["eq", "gt", "lt"]
Value: TypeAlias = str | int | float | bool | None
T = TypeVar("T")

CHUNK_SYMBOLS = 6
"""UTF-8 bytes per chunk: each byte is a base-257 digit (byte + 1; 0 pads), so a
chunk stays below 257**6 < 2**53 and is exact as a double in every engine."""
_BASE = 257
_INT64 = 2**63
_FLOAT_MAX = int(sys.float_info.max)


def field_key(name: str) -> str:
    """A field name as an engine key: lowercase hex of its UTF-8, so any name is safe anywhere."""
    return name.encode("utf-8", "surrogatepass").hex()


def as_float(value: int | float) -> float:
    """``value`` as a float; an integer beyond the float range as the largest float of its sign."""
    if isinstance(value, int) and abs(value) > _FLOAT_MAX:
        return sys.float_info.max if value > 0 else -sys.float_info.max
    return float(value)


def int64_or_float(value: int | float) -> int | float:
    """``value`` as engines that keep integers in 64 bits store and compare it: larger integers as floats
    (stored and queried alike, so they still meet each other), beyond the float range the largest float
    of that sign (filters never compare with such numbers: they are refused at 2**53)."""
    return as_float(value) if isinstance(value, int) and not -_INT64 <= value < _INT64 else value


def string_digest(value: str) -> str:
    """A string as a fixed-alphabet token, for engines whose equality must not see caller text."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def string_chunks(value: str, limit: int) -> list[int]:
    """The chunks of ``value``, then a ``0`` terminator, at most ``limit`` numbers in all.

    Chunk ``j`` holds bytes ``6j .. 6j+5`` of the UTF-8 (surrogates passed through),
    each as ``byte + 1`` in base 257, padded with zeros. Comparing two strings'
    chunk lists position by position, as integers, orders them exactly like
    Python orders the strings (UTF-8 byte order is code point order). The
    terminator marks where a string ends, so ``""`` still has a chunk ``0``.
    """
    data = value.encode("utf-8", "surrogatepass")
    chunks: list[int] = []
    for start in range(0, len(data), CHUNK_SYMBOLS):
        number = 0
        piece = data[start : start + CHUNK_SYMBOLS]
        for byte in piece:
            number = number * _BASE + byte + 1
        number *= _BASE ** (CHUNK_SYMBOLS - len(piece))
        chunks.append(number)
    chunks.append(0)
    return chunks[:limit]


@dataclass(frozen=True, slots=True)
class IndexedField:
    """One indexed metadata field: its name, the engine key, its kind and value, and (strings) chunks."""

    name: str
    key: str
    kind: Kind
    value: Value
    chunks: tuple[int, ...] = ()


def index_metadata(metadata: Mapping[str, AnyType] | None, *, chunk_limit: int = 0) -> list[IndexedField]:
    """The typed index of ``metadata``: its scalar top-level fields (lists and objects are skipped).

    ``chunk_limit`` > 0 adds the string chunks (see :func:`string_chunks`).
    """
    fields: list[IndexedField] = []
    for name, value in (metadata or {}).items():
        kind = kind_of(value)
        if kind is None or not name:
            continue
        chunks = tuple(string_chunks(value, chunk_limit)) if chunk_limit and isinstance(value, str) else ()
        fields.append(IndexedField(name, field_key(name), kind, value, chunks))
    return fields


def _same(value: AnyType) -> AnyType:
    return value


def flat_index(
    metadata: Mapping[str, AnyType] | None,
    *,
    chunk_limit: int,
    number: Callable[[int | float], AnyType] = _same,
    flag: Callable[[bool], AnyType] = _same,
    chunk: Callable[[int], AnyType] = _same,
) -> dict[str, AnyType]:
    """The typed index of ``metadata`` as flat keys, for engines that index flat fields (Milvus, Redis):
    ``t_<key>`` the kind, ``s_<key>`` a string's digest, ``n_<key>`` a number, ``b_<key>`` a bool and
    ``c_<key>_<j>`` the string chunks; ``number``, ``flag`` and ``chunk`` spell values the engine's way."""
    flat: dict[str, AnyType] = {}
    for indexed in index_metadata(metadata, chunk_limit=chunk_limit):
        key, value = indexed.key, indexed.value
        flat[f"t_{key}"] = indexed.kind
        if isinstance(value, str):
            flat[f"s_{key}"] = string_digest(value)
        elif isinstance(value, bool):
            flat[f"b_{key}"] = flag(value)
        elif value is not None:
            flat[f"n_{key}"] = number(value)
        for position, piece in enumerate(indexed.chunks):
            flat[f"c_{key}_{position}"] = chunk(piece)
    return flat


def kind_of(value: object) -> Kind | None:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


# -- the lowered tree ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Eq:
    """The field holds a value of ``kind`` equal to ``value`` (``null``: the field is JSON null)."""

    field: str
    kind: Kind
    value: Value


@dataclass(frozen=True, slots=True)
class Ne:
    """Not :class:`Eq`: also true when the field is absent, of another kind, or a list/object."""

    field: str
    kind: Kind
    value: Value


@dataclass(frozen=True, slots=True)
class IsKind:
    """The field holds a scalar of ``kind``."""

    field: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class Range:
    """The field holds a number and ``number <op> value`` (``value`` finite, never bool)."""

    field: str
    op: RangeOp
    value: int | float


@dataclass(frozen=True, slots=True)
class StrRange:
    """The field holds a string and ``string <op> value``: for engines that order strings natively."""

    field: str
    op: RangeOp
    value: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """The field holds a string whose chunk ``index`` exists and compares ``<op> value``."""

    field: str
    index: int
    op: ChunkOp
    value: int


@dataclass(frozen=True, slots=True)
class All:
    parts: tuple[Lowered, ...]


@dataclass(frozen=True, slots=True)
class Any:
    parts: tuple[Lowered, ...]


Atom: TypeAlias = Eq | Ne | IsKind | Range | StrRange | Chunk
Lowered: TypeAlias = Atom | All | Any

ALWAYS = All(())
"""The lowered filter that matches every document."""
NEVER = Any(())
"""The lowered filter that matches no document."""


def lower(node: FilterNode, *, chunk_limit: int | None = None) -> Lowered:
    """Lower a parsed filter; string ordering uses :class:`StrRange`, or chunks if ``chunk_limit`` is set.

    With chunks, comparing against a string needs that string's chunks plus
    one more to fit in ``chunk_limit``; a longer one raises
    :class:`UnsupportedFilterError` (the filter is never dropped).
    """
    return simplify(_lower(node, chunk_limit))


def _lower(node: FilterNode, chunk_limit: int | None) -> Lowered:
    if isinstance(node, And):
        return All(tuple(_lower(part, chunk_limit) for part in node.clauses))
    if isinstance(node, Or):
        return Any(tuple(_lower(part, chunk_limit) for part in node.clauses))
    return _comparison(node, chunk_limit)


def _comparison(node: Comparison, chunk_limit: int | None) -> Lowered:
    field, op, value = node.field, node.op, node.value
    if op == "$in":
        assert isinstance(value, tuple)
        return Any(tuple(_equal(field, item) for item in value))
    if op == "$nin":
        assert isinstance(value, tuple)
        return All(tuple(_not_equal(field, item) for item in value))
    assert not isinstance(value, tuple)
    if op == "$eq":
        return _equal(field, value)
    if op == "$ne":
        return _not_equal(field, value)
    range_op: RangeOp = op[1:]  # type: ignore[assignment]
    if isinstance(value, str):
        if chunk_limit is None:
            return StrRange(field, range_op, value)
        return _string_range(field, range_op, value, chunk_limit)
    assert isinstance(value, (int, float))
    assert not isinstance(value, bool)
    return _number_range(field, range_op, value)


def _equal(field: str, value: Value) -> Lowered:
    kind = kind_of(value)
    assert kind is not None
    if isinstance(value, float) and not math.isfinite(value):
        return NEVER  # no stored number is NaN or infinite
    return Eq(field, kind, value)


def _not_equal(field: str, value: Value) -> Lowered:
    kind = kind_of(value)
    assert kind is not None
    if isinstance(value, float) and not math.isfinite(value):
        return ALWAYS
    return Ne(field, kind, value)


def _number_range(field: str, op: RangeOp, value: int | float) -> Lowered:
    if isinstance(value, float) and math.isnan(value):
        return NEVER
    if isinstance(value, float) and math.isinf(value):
        # Every stored number is finite: it is below +inf and above -inf.
        below = value > 0
        return IsKind(field, "number") if (op in ("lt", "lte")) == below else NEVER
    return Range(field, op, value)


def _string_range(field: str, op: RangeOp, value: str, chunk_limit: int) -> Lowered:
    chunks = string_chunks(value, chunk_limit + 1)[:-1]  # without the terminator
    if len(chunks) + 1 > chunk_limit:
        raise UnsupportedFilterError(
            f"ordering comparison of {field!r} against a string longer than "
            f"{(chunk_limit - 1) * CHUNK_SYMBOLS} UTF-8 bytes cannot be expressed by this backend"
        )
    strict = _chunks_compare(field, chunks, "gt" if op in ("gt", "gte") else "lt")
    if op in ("gte", "lte"):
        return Any((strict, Eq(field, "string", value)))
    return strict


def _chunks_compare(field: str, chunks: list[int], op: ChunkOp) -> Lowered:
    # Lexicographic order as a flat OR (some engines limit nesting depth): the stored
    # string differs first at chunk j, in the direction of ``op``. For "gt", equal
    # chunks throughout mean greater exactly when the stored string goes on (its
    # chunk after them is > 0, not the terminator); for "lt" they mean not less.
    terms: list[Lowered] = []
    for index, chunk in enumerate(chunks):
        prefix = tuple(Chunk(field, before, "eq", chunks[before]) for before in range(index))
        terms.append(All((*prefix, Chunk(field, index, op, chunk))))
    if op == "gt":
        prefix = tuple(Chunk(field, before, "eq", chunks[before]) for before in range(len(chunks)))
        terms.append(All((*prefix, Chunk(field, len(chunks), "gt", 0))))
    return Any(tuple(terms))


def simplify(node: Lowered, known: Callable[[Atom], bool | None] | None = None) -> Lowered:
    """Fold constants: flatten nested All/Any, drop ALWAYS from All and NEVER from Any.

    ``known`` may decide an atom in advance (True/False) - an engine whose
    schema lacks a field knows every atom on it - or return None to keep it.
    """
    if isinstance(node, (All, Any)):
        is_all = isinstance(node, All)
        parts: list[Lowered] = []
        for part in node.parts:
            folded = simplify(part, known)
            if folded == (NEVER if is_all else ALWAYS):
                return folded
            if folded == (ALWAYS if is_all else NEVER):
                continue
            if type(folded) is type(node):
                parts.extend(folded.parts)
            else:
                parts.append(folded)
        if len(parts) == 1:
            return parts[0]
        return All(tuple(parts)) if is_all else Any(tuple(parts))
    if known is not None:
        decided = known(node)
        if decided is not None:
            return ALWAYS if decided else NEVER
    return node


def render(
    node: FilterNode | None,
    native: Callable[[Lowered], T],
    *,
    chunk_limit: int | None = None,
    known: Callable[[Atom], bool | None] | None = None,
) -> T | Lowered | None:
    """A parsed filter in an engine's own form: ``native(lowered)``, or None when every document
    matches (no filter to send), or :data:`NEVER` when none can (no need to ask the engine)."""
    if node is None:
        return None
    lowered = lower(node, chunk_limit=chunk_limit)
    if known is not None:
        lowered = simplify(lowered, known)
    if lowered == NEVER:
        return NEVER
    if lowered == ALWAYS:
        return None
    return native(lowered)


def evaluate(node: Lowered, fields: Mapping[str, IndexedField]) -> bool:
    """Evaluate a lowered filter on one document's index (by field name): the tests' reference."""
    if isinstance(node, All):
        return all(evaluate(part, fields) for part in node.parts)
    if isinstance(node, Any):
        return any(evaluate(part, fields) for part in node.parts)
    stored = fields.get(node.field)
    if isinstance(node, Ne):
        return not evaluate(Eq(node.field, node.kind, node.value), fields)
    if stored is None:
        return False
    if isinstance(node, Eq):
        return stored.kind == node.kind and (node.kind == "null" or stored.value == node.value)
    if isinstance(node, IsKind):
        return stored.kind == node.kind
    if isinstance(node, Chunk):
        if node.index >= len(stored.chunks):
            return False
        chunk = stored.chunks[node.index]
        return {"eq": chunk == node.value, "gt": chunk > node.value, "lt": chunk < node.value}[node.op]
    expected_kind = "number" if isinstance(node, Range) else "string"
    if stored.kind != expected_kind:
        return False
    left: AnyType = stored.value
    right: AnyType = node.value
    return bool({"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[node.op])
