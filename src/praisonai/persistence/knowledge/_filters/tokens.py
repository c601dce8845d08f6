"""Filters on the hosted backends' record tokens (:mod:`.._layers.records`), rendered in an engine's language.

:func:`render_mql` writes a lowered filter as a MongoDB-style query document
(MongoDB, Atlas, Pinecone); :class:`SqlTokens` as a SQL-like boolean expression
with bound parameters (Cosmos DB, Couchbase, SingleStore), a dialect supplying
four spellings. :func:`decimal_literal` writes a number for a query language
without bound parameters (Upstash).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple

from .._layers.records import kind_token, number_key, value_token
from .native import All, Chunk, Eq, IsKind, Lowered, Ne, Range
from .native import Any as AnyOf

__all__ = ["SqlTokens", "decimal_literal", "render_mql"]


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


class SqlSpelling(NamedTuple):
    """A dialect's spellings for :class:`SqlTokens`, each a template whose ``{}`` takes the argument."""

    placeholder: str
    """A bound parameter, by its name (``@{}``, ``${}``, ``%({})s``)."""
    contains: str
    """The token list contains the token parameter."""
    number: str
    """The number under the key parameter."""
    chunk: str
    """The string chunk under the key parameter."""
    present: str | None = None
    """The chunk under the key parameter exists; None: the chunk compares to itself."""


class SqlTokens:
    """A lowered filter as a SQL-like boolean expression with bound parameters.

    A dialect supplies its :attr:`spelling` (:class:`SqlSpelling`): a bound
    parameter for a value, "the token list contains this parameter", "the
    number under this key" and "the chunk under this key" (both only meaningful
    where they exist: every range atom first checks the field's kind token, so
    a missing value is never compared).
    """

    spelling: ClassVar[SqlSpelling]
    true = "true"
    false = "false"

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def param(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return self.placeholder(name)

    def placeholder(self, name: str) -> str:
        return self.spelling.placeholder.format(name)

    def contains(self, token_param: str) -> str:
        return self.spelling.contains.format(token_param)

    def number(self, key_param: str) -> str:
        return self.spelling.number.format(key_param)

    def chunk(self, key_param: str) -> str:
        return self.spelling.chunk.format(key_param)

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
        if self.spelling.present is not None:
            return self.spelling.present.format(key_param)
        return f"{self.chunk(key_param)} = {self.chunk(key_param)}"


def decimal_literal(value: float | int) -> str:
    """A finite number as a plain decimal literal (no exponent), exact."""
    return format(Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value), "f")
