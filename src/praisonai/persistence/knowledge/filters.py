"""The portable metadata filter language of knowledge stores.

A filter is a mapping. Plain ``{"field": value}`` means equality; an operator
mapping compares; ``$and`` / ``$or`` combine::

    {"lang": "en", "year": {"$gte": 2020, "$lt": 2025}}
    {"$or": [{"tag": {"$in": ["a", "b"]}}, {"draft": {"$ne": True}}]}

Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $and $or``. Fields are
top-level metadata keys. Values are str, int, float, bool or None (lists of
them for ``$in`` / ``$nin``).

Semantics, identical on every backend: a field that is absent matches ``$ne``
and ``$nin`` and nothing else; ``True`` never equals ``1``; ordering operators
compare numbers with numbers and strings with strings, and a value of another
type does not match.

Backends translate the parsed tree (:func:`parse_filter`) into their native
form with bound parameters. An operator a backend cannot express raises
:class:`UnsupportedFilterError`; a filter is never dropped.
:func:`matches` is the reference evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from ..errors import InvalidInputError

__all__ = [
    "And",
    "Comparison",
    "FilterNode",
    "Operator",
    "Or",
    "Scalar",
    "matches",
    "parse_filter",
]

Operator: TypeAlias = Literal["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"]
Scalar: TypeAlias = str | int | float | bool | None
_OPERATORS: frozenset[str] = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"})
_MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    op: Operator
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class And:
    clauses: tuple[FilterNode, ...]


@dataclass(frozen=True, slots=True)
class Or:
    clauses: tuple[FilterNode, ...]


FilterNode: TypeAlias = Comparison | And | Or


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def parse_filter(filters: Mapping[str, Any], backend: str | None = "knowledge") -> FilterNode:
    """Validate a filter and return its tree; raise :class:`InvalidInputError` if malformed.

    ``backend`` names the backend in the messages; None leaves that to the store's call guard.
    """
    return _parse(filters, backend, 0)


def _parse(filters: object, backend: str | None, depth: int) -> FilterNode:
    if depth > _MAX_DEPTH:
        raise InvalidInputError(f"filter nested deeper than {_MAX_DEPTH} levels", backend=backend)
    if not isinstance(filters, Mapping) or not filters:
        raise InvalidInputError(f"a filter must be a non-empty mapping, got {filters!r:.80}", backend=backend)
    clauses: list[FilterNode] = []
    for key, condition in filters.items():
        if not isinstance(key, str):
            raise InvalidInputError(f"filter key {key!r} is not a str", backend=backend)
        if key in ("$and", "$or"):
            if not isinstance(condition, (list, tuple)) or not condition:
                raise InvalidInputError(f"{key} takes a non-empty list of filters", backend=backend)
            parts = tuple(_parse(part, backend, depth + 1) for part in condition)
            clauses.append(And(parts) if key == "$and" else Or(parts))
        elif key.startswith("$"):
            raise InvalidInputError(
                f"unknown filter operator {key!r} (use $and, $or at the top, or a field name)", backend=backend
            )
        elif not key:
            raise InvalidInputError("filter field names must not be empty", backend=backend)
        else:
            clauses.extend(_parse_field(key, condition, backend))
    return clauses[0] if len(clauses) == 1 else And(tuple(clauses))


def _parse_field(name: str, condition: object, backend: str | None) -> list[FilterNode]:
    if not isinstance(condition, Mapping):
        if not _is_scalar(condition):
            raise InvalidInputError(
                f"filter value for {name!r} must be str, int, float, bool or None, not {type(condition).__name__}",
                backend=backend,
            )
        return [Comparison(name, "$eq", condition)]  # type: ignore[arg-type]
    if not condition:
        raise InvalidInputError(f"empty operator mapping for field {name!r}", backend=backend)
    out: list[FilterNode] = []
    for op, value in condition.items():
        if op not in _OPERATORS:
            raise InvalidInputError(
                f"unknown filter operator {op!r} for field {name!r}; supported: {', '.join(sorted(_OPERATORS))}",
                backend=backend,
            )
        if op in ("$in", "$nin"):
            if not isinstance(value, (list, tuple)) or not all(_is_scalar(item) for item in value):
                raise InvalidInputError(f"{op} for {name!r} takes a list of scalars", backend=backend)
            out.append(Comparison(name, op, tuple(value)))
        elif not _is_scalar(value):
            raise InvalidInputError(f"{op} for {name!r} takes a scalar, not {type(value).__name__}", backend=backend)
        elif op in ("$gt", "$gte", "$lt", "$lte") and (value is None or isinstance(value, bool)):
            raise InvalidInputError(f"{op} for {name!r} compares numbers or strings, not {value!r}", backend=backend)
        else:
            out.append(Comparison(name, op, value))
    return out


_MISSING = object()


def _same(a: object, b: object) -> bool:
    # JSON types: True is not 1, 1 equals 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b and (type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))))


def _ordered(a: object, b: object) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    return (isinstance(a, numbers) and isinstance(b, numbers)) or (isinstance(a, str) and isinstance(b, str))


def matches(node: FilterNode, metadata: Mapping[str, Any] | None) -> bool:
    """Whether ``metadata`` satisfies the filter tree: the reference semantics."""
    if isinstance(node, And):
        return all(matches(part, metadata) for part in node.clauses)
    if isinstance(node, Or):
        return any(matches(part, metadata) for part in node.clauses)
    actual = (metadata or {}).get(node.field, _MISSING)
    op, expected = node.op, node.value
    if op == "$eq":
        return actual is not _MISSING and _same(actual, expected)
    if op == "$ne":
        return actual is _MISSING or not _same(actual, expected)
    if op == "$in":
        assert isinstance(expected, tuple)
        return actual is not _MISSING and any(_same(actual, item) for item in expected)
    if op == "$nin":
        assert isinstance(expected, tuple)
        return actual is _MISSING or not any(_same(actual, item) for item in expected)
    if actual is _MISSING or not _ordered(actual, expected):
        return False
    left: Any = actual
    if op == "$gt":
        return bool(left > expected)
    if op == "$gte":
        return bool(left >= expected)
    if op == "$lt":
        return bool(left < expected)
    return bool(left <= expected)
