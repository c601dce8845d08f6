"""The portable filter language, translated into a WHERE clause with bound parameters.

One translator serves every query-language backend; a :class:`FilterDialect`
says how an engine spells the few primitives the translation needs:

- :class:`PostgresJsonb` (``pgvector``): a ``jsonb`` column, psycopg
  ``%(name)s`` placeholders;
- :class:`ClickHouseJson` (``clickhouse``): JSON text in a ``String`` column,
  read with ``JSONType`` / ``JSONExtract*``, ``{name:Type}`` server-side
  parameters;
- :class:`SurrealObject` (``surrealdb_vector``): an object field, ``$name``
  parameters, with the keys whose value is JSON ``null`` kept in a separate
  array field (the SDK cannot store a ``null`` inside an object).

Values and field names are always bound parameters; nothing the caller passes
is spliced into the statement. The semantics are those of
:func:`praisonai.persistence.knowledge.filters.matches`, built from four
guarded primitives so that no dialect has to reimplement them:

- every comparison first checks the JSON kind of the stored value (``null``,
  ``bool``, ``number``, ``string``), so ``True`` never equals ``1``, numbers
  order only against numbers and strings only against strings, and an absent
  field or a list/object never matches;
- ``$ne`` is ``NOT $eq`` and ``$nin`` is ``NOT $in``: an absent field matches
  both. Every primitive is two-valued (never SQL ``NULL``), so ``NOT`` is safe;
- strings compare by code point (``COLLATE "C"`` on PostgreSQL; byte order of
  UTF-8 elsewhere), as Python does;
- NaN and infinite filter values are folded into constants (no stored JSON
  number is NaN or infinite).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TypeAlias, cast

from ..._values import dump_json
from ...errors import UnsupportedFilterError
from ..filters import And, Comparison, FilterNode, Or, Scalar
from .native import Kind, as_float, kind_of

__all__ = [
    "ClickHouseJson",
    "FilterDialect",
    "Parameters",
    "PostgresJsonb",
    "SurrealObject",
    "surreal_scalar",
    "translate_filter",
]

OrderOp: TypeAlias = Literal["$gt", "$gte", "$lt", "$lte"]

_SQL_OPS: dict[str, str] = {"$eq": "=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


@dataclass
class Parameters:
    """The bound values of one statement, by name. ``prefix`` keeps them apart from the backend's own."""

    prefix: str = "f"
    values: dict[str, Any] = field(default_factory=dict)

    def add(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return name


class FilterDialect(ABC):
    """How one engine spells the primitives of a metadata filter.

    ``column`` is the (trusted, already quoted) expression holding the metadata.
    Every method returns an expression that is true or false, never NULL.
    """

    true: str = "TRUE"
    false: str = "FALSE"

    def __init__(self, column: str) -> None:
        self.column = column

    @abstractmethod
    def is_kind(self, key: str, kind: Kind, params: Parameters) -> str:
        """The stored value under ``key`` exists and is of JSON ``kind``."""

    @abstractmethod
    def compare(self, key: str, kind: Kind, op: str, value: Scalar, params: Parameters) -> str:
        """``stored <op> value``, evaluated only where :meth:`is_kind` holds (``kind`` is not null)."""

    def negate(self, expression: str) -> str:
        return f"NOT ({expression})"

    def both(self, parts: list[str]) -> str:
        return "(" + " AND ".join(parts) + ")"

    def either(self, parts: list[str]) -> str:
        return "(" + " OR ".join(parts) + ")"


class PostgresJsonb(FilterDialect):
    """PostgreSQL ``jsonb``: ``->`` keeps JSON types, so numbers compare as exact numerics."""

    def _key(self, key: str, params: Parameters) -> str:
        return f"%({params.add(key)})s"

    def is_kind(self, key: str, kind: Kind, params: Parameters) -> str:
        name = "boolean" if kind == "bool" else kind  # jsonb_typeof's spelling
        return f"COALESCE(jsonb_typeof({self.column} -> {self._key(key, params)}) = '{name}', FALSE)"

    def compare(self, key: str, kind: Kind, op: str, value: Scalar, params: Parameters) -> str:
        if kind == "string":
            # ->> gives text; COLLATE "C" orders by code point, as Python does.
            placeholder = f"%({params.add(value)})s"
            return f'({self.column} ->> {self._key(key, params)}) COLLATE "C" {op} {placeholder}'
        # jsonb compares numbers as numerics (1 = 1.0) and booleans as booleans.
        literal = f"%({params.add(dump_json(value, what='filter value'))})s::jsonb"
        return f"({self.column} -> {self._key(key, params)}) {op} {literal}"


class ClickHouseJson(FilterDialect):
    """ClickHouse: JSON text in a String column, read with ``JSONType`` and ``JSONExtract*``."""

    true = "true"
    false = "false"
    _INT256 = 2**255

    def _key(self, key: str, params: Parameters) -> str:
        return f"{{{params.add(key)}:String}}"

    def is_kind(self, key: str, kind: Kind, params: Parameters) -> str:
        key_sql = self._key(key, params)
        if kind == "null":
            # JSONType is also 'Null' for an absent key.
            return f"(JSONHas({self.column}, {key_sql}) AND JSONType({self.column}, {key_sql}) = 'Null')"
        names = {"bool": "('Bool')", "string": "('String')", "number": "('Int64', 'UInt64', 'Double')"}[kind]
        return f"(JSONType({self.column}, {key_sql}) IN {names})"

    def compare(self, key: str, kind: Kind, op: str, value: Scalar, params: Parameters) -> str:
        key_sql = self._key(key, params)
        if kind == "string":
            return f"(JSONExtractString({self.column}, {key_sql}) {op} {{{params.add(value)}:String}})"
        if kind == "bool":
            return f"(JSONExtractBool({self.column}, {key_sql}) {op} {{{params.add(value)}:Bool}})"
        if isinstance(value, int):
            if not -self._INT256 <= value < self._INT256:
                raise UnsupportedFilterError(f"filter value for {key!r} is outside ClickHouse's Int256 range")
            bound = f"{{{params.add(value)}:Int256}}"
        else:
            bound = f"{{{params.add(value)}:Float64}}"
        # Compare in the stored value's own type: ClickHouse compares mixed
        # integer/float operands exactly, so 2**53 + 1 never equals 2.0**53.
        column = self.column
        return (
            f"multiIf(JSONType({column}, {key_sql}) = 'Int64', JSONExtractInt({column}, {key_sql}) {op} {bound}, "
            f"JSONType({column}, {key_sql}) = 'UInt64', JSONExtractUInt({column}, {key_sql}) {op} {bound}, "
            f"JSONExtractFloat({column}, {key_sql}) {op} {bound})"
        )


class SurrealObject(FilterDialect):
    """SurrealQL: an object field plus an array of the keys whose value is JSON null.

    ``column`` is the object field and ``nulls_column`` the array field; the
    SurrealDB SDK sends Python ``None`` as NONE, which would erase the key.
    Integers outside the 64-bit range are bound as decimals (exact).
    """

    true = "true"
    false = "false"

    def __init__(self, column: str, nulls_column: str) -> None:
        super().__init__(column)
        self.nulls_column = nulls_column

    def is_kind(self, key: str, kind: Kind, params: Parameters) -> str:
        placeholder = f"${params.add(key)}"
        if kind == "null":
            return f"({placeholder} INSIDE {self.nulls_column})"
        function = {"bool": "bool", "number": "number", "string": "string"}[kind]
        return f"type::is::{function}({self.column}[{placeholder}])"

    def compare(self, key: str, kind: Kind, op: str, value: Scalar, params: Parameters) -> str:
        return f"({self.column}[${params.add(key)}] {op} ${params.add(surreal_scalar(value))})"

    def negate(self, expression: str) -> str:
        return f"!({expression})"


_INT64 = 2**63


SURREAL_DECIMAL = 2**96
"""SurrealDB's decimals hold a 96-bit mantissa: filters refuse numbers this large (store_base)."""


def surreal_scalar(value: Any) -> Any:
    """``value`` as the SurrealDB SDK can send it: integers beyond 64 bits become exact decimals, and
    beyond a decimal's range floats (only stored: no filter compares with a number that large)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
        return Decimal(value) if abs(value) < SURREAL_DECIMAL else as_float(value)
    return value


def translate_filter(node: FilterNode, dialect: FilterDialect, params: Parameters) -> str:
    """The WHERE expression of ``node``; its values are added to ``params``."""
    if isinstance(node, And):
        return dialect.both([translate_filter(part, dialect, params) for part in node.clauses])
    if isinstance(node, Or):
        return dialect.either([translate_filter(part, dialect, params) for part in node.clauses])
    return _comparison(node, dialect, params)


def _comparison(node: Comparison, dialect: FilterDialect, params: Parameters) -> str:
    if node.op in ("$eq", "$ne", "$in", "$nin"):
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        member = _member(node.field, values, dialect, params)
        return dialect.negate(member) if node.op in ("$ne", "$nin") else member
    assert not isinstance(node.value, tuple)
    return _ordered(node.field, node.op, node.value, dialect, params)  # type: ignore[arg-type]


def _member(key: str, values: tuple[Scalar, ...], dialect: FilterDialect, params: Parameters) -> str:
    parts = [_equals(key, value, dialect, params) for value in values]
    parts = [part for part in parts if part != dialect.false]
    if not parts:
        return dialect.false
    return parts[0] if len(parts) == 1 else dialect.either(parts)


def _equals(key: str, value: Scalar, dialect: FilterDialect, params: Parameters) -> str:
    kind = cast("Kind", kind_of(value))  # a filter's scalar always has one
    if kind == "null":
        return dialect.is_kind(key, "null", params)
    if isinstance(value, float) and not math.isfinite(value):
        return dialect.false  # stored JSON numbers are finite; NaN equals nothing
    return dialect.both([dialect.is_kind(key, kind, params), dialect.compare(key, kind, "=", value, params)])


def _ordered(key: str, op: OrderOp, value: Scalar, dialect: FilterDialect, params: Parameters) -> str:
    kind = cast("Kind", kind_of(value))  # a filter's scalar always has one
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value) or (value > 0) == (op in ("$gt", "$gte")):
            return dialect.false  # nothing is beyond an infinity, and NaN orders against nothing
        return dialect.is_kind(key, "number", params)  # every finite number is below +inf / above -inf
    return dialect.both([dialect.is_kind(key, kind, params), dialect.compare(key, kind, _SQL_OPS[op], value, params)])
