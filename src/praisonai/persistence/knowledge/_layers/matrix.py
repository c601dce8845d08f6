"""Exact top-k with numpy: candidates from a float32 matrix product, ranked by the exact scores.

Stores that score documents themselves (the ``memory`` backend) keep a
:class:`MatrixIndex` of a collection when numpy is installed
(``pip install "praisonai-persistence[numpy]"``) and the collection has at least
:data:`MIN_ROWS` documents. A search then costs one float32 matrix-vector product
instead of a Python loop over every document, and returns exactly what the
pure-Python path returns, to the bit:

- the float32 scores are within a proven bound ``delta`` of the exact ones
  (the float32 rounding of the inputs plus the standard error bound of a dot
  product of ``dimension`` terms, doubled for safety); every document whose
  estimate is within ``2 * delta`` of the k-th best estimate is a candidate, a
  superset of the true top k;
- the store scores the candidates with its exact function (``math.fsum``) and
  ranks them as it ranks every document without numpy (best first, ties in
  insertion order).

Rows numpy cannot bound (squared norms that overflow or underflow float64, values
too large for float32) are always candidates; a query of that kind returns None
(the caller takes the pure-Python path). Filters are evaluated over columns: each
metadata field used by a filter becomes typed arrays (kind, number, string rank)
built once per index, so a filter costs a few array operations, not a Python call
per document; a field numpy cannot represent exactly (ints beyond 2**53) falls back
to :func:`~praisonai.persistence.knowledge.filters.matches` for that comparison.

numpy is imported on first use, never at ``import praisonai.persistence``.
"""

from __future__ import annotations

import bisect
import importlib
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from ..base import Distance
from ..filters import And, FilterNode, Or, Scalar, matches

__all__ = ["MIN_ROWS", "MatrixIndex", "numpy_or_none"]

MIN_ROWS = 256  # below this the pure-Python path is as fast as building an index
_F32_UNIT = 2.0**-24  # unit roundoff of float32
# |value| at or above this: the row is scored exactly, always a candidate (float32 products and their
# sums stay finite below it)
_LARGE = 2.0**50
_TINY_SQUARE = 2.0**-900  # squared norms below this (and above 0) lose precision in float64
_EXACT_INT = 2**53  # ints beyond this are not exact in float64

_numpy: ModuleType | None = None
_numpy_checked = False


def numpy_or_none() -> ModuleType | None:
    """numpy if it can be imported (looked up once), else None."""
    global _numpy, _numpy_checked
    if not _numpy_checked:
        try:
            _numpy = importlib.import_module("numpy")
        except ImportError:
            _numpy = None
        _numpy_checked = True
    return _numpy


# Column kinds: what a metadata value is, as the reference semantics see it.
_MISSING, _BOOL, _NUMBER, _STRING, _NONE, _OTHER = range(6)


class _Column:
    """One metadata field over every row: kind codes, float values and string ranks."""

    def __init__(self, np: ModuleType, field: str, metadatas: Sequence[Mapping[str, Any] | None]) -> None:
        kinds: list[int] = []
        numbers: list[float] = []
        strings: list[str] = []
        exact = True
        for metadata in metadatas:
            value = _MISSING_VALUE if metadata is None else metadata.get(field, _MISSING_VALUE)
            number = 0.0
            text = ""
            if value is _MISSING_VALUE:
                kind = _MISSING
            elif value is None:
                kind = _NONE
            elif isinstance(value, bool):
                kind, number = _BOOL, float(value)
            elif isinstance(value, float) or (isinstance(value, int) and -_EXACT_INT <= value <= _EXACT_INT):
                kind, number = _NUMBER, float(value)
            elif isinstance(value, int):
                kind, exact = _NUMBER, False
            elif isinstance(value, str):
                kind, text = _STRING, value
            else:
                kind = _OTHER
            kinds.append(kind)
            numbers.append(number)
            strings.append(text)
        self.field = field
        self.exact = exact  # False: some int is not exact as a float64; compare in Python
        self.kinds = np.array(kinds, dtype=np.int8)
        self.numbers = np.array(numbers, dtype=np.float64)
        self.sorted_strings = sorted(set(strings))
        ranks = {text: rank for rank, text in enumerate(self.sorted_strings)}
        self.ranks = np.array([ranks[text] for text in strings], dtype=np.int64)


_MISSING_VALUE = object()


class MatrixIndex:
    """A float32 matrix of a collection's embeddings (row i = the i-th document in insertion order)."""

    def __init__(
        self,
        np: ModuleType,
        distance: Distance,
        embeddings: Sequence[Sequence[float]],
        metadatas: Sequence[Mapping[str, Any] | None],
    ) -> None:
        self._np = np
        self.distance = distance
        self.size = len(embeddings)
        self._metadatas = metadatas
        self._columns: dict[str, _Column] = {}
        values = np.array(embeddings, dtype=np.float64).reshape(self.size, -1)
        self.dimension = values.shape[1]
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            squares = np.einsum("ij,ij->i", values, values)
            largest = np.abs(values).max(axis=1) if self.size else np.zeros(0)
            irregular = ~np.isfinite(squares) | (largest >= _LARGE) | ((squares > 0) & (squares < _TINY_SQUARE))
            squares[irregular] = 0.0
            values[irregular] = 0.0
            if distance == "cosine":
                norms = np.sqrt(squares)
                values /= np.where(norms > 0, norms, 1.0)[:, None]
        self._irregular = np.flatnonzero(irregular)
        self._squares = squares
        self._max_norm = float(np.sqrt(squares.max())) if self.size else 0.0
        self._matrix = np.ascontiguousarray(values, dtype=np.float32)
        # The error bound of one float32 dot product of this dimension, relative to |q| |d|, with margin.
        self._relative_error = 2.0 * (self.dimension + 8) * _F32_UNIT

    def candidates(self, query: Sequence[float], limit: int, node: FilterNode | None) -> list[int] | None:
        """Row numbers (ascending) holding every row of the exact top ``limit`` that passes ``node``;
        None when the query itself cannot be bounded (use the pure-Python path)."""
        np = self._np
        vector = np.asarray(query, dtype=np.float64)
        with np.errstate(over="ignore", under="ignore"):
            query_square = float(vector @ vector)
            query_large = float(np.abs(vector).max()) >= _LARGE if len(vector) else False
        if not np.isfinite(query_square) or query_large or 0 < query_square < _TINY_SQUARE:
            return None
        allowed = None if node is None else self.mask(node)
        regular = np.ones(self.size, dtype=bool) if allowed is None else allowed.copy()
        regular[self._irregular] = False
        always = self._irregular if allowed is None else self._irregular[allowed[self._irregular]]
        chosen = self._select(vector, query_square, regular, limit)
        return sorted({*chosen.tolist(), *always.tolist()})

    def _select(self, vector: Any, query_square: float, regular: Any, limit: int) -> Any:
        np = self._np
        pool = np.flatnonzero(regular)
        if len(pool) <= limit:
            return pool
        if query_square == 0.0 and self.distance != "euclidean":
            return pool[:limit]  # every score is exactly zero: the first rows in insertion order win
        query_norm = query_square**0.5
        if self.distance == "cosine":
            estimates = self._matrix @ (vector / query_norm).astype(np.float32)
            delta = self._relative_error
        else:
            estimates = self._matrix @ vector.astype(np.float32)
            # Plus what float32 underflow can lose: at most 2**-149 per rounded input or product.
            delta = self._relative_error * query_norm * self._max_norm + self.dimension * 2.0**-140 * (
                1.0 + query_norm + self._max_norm
            )
            if self.distance == "euclidean":
                # Smaller is closer: rank the negated squared distance; only the product is inexact.
                estimates = 2.0 * estimates.astype(np.float64) - self._squares - query_square
                delta = 2.0 * delta + 1e-12 * (query_square + self._max_norm**2)
        estimates = estimates.astype(np.float64)
        estimates[~regular] = -np.inf
        kth = float(np.partition(estimates, len(estimates) - limit)[len(estimates) - limit])
        return np.flatnonzero(regular & (estimates >= kth - 2.0 * delta))

    # -- filters over columns ---------------------------------------------------------------------------

    def mask(self, node: FilterNode) -> Any:
        """The rows that satisfy ``node``, as a bool array: the reference semantics of ``matches``."""
        np = self._np
        if isinstance(node, And):
            result = self.mask(node.clauses[0])
            for clause in node.clauses[1:]:
                result = result & self.mask(clause)
            return result
        if isinstance(node, Or):
            result = self.mask(node.clauses[0])
            for clause in node.clauses[1:]:
                result = result | self.mask(clause)
            return result
        column = self._columns.get(node.field)
        if column is None:
            column = self._columns[node.field] = _Column(np, node.field, self._metadatas)
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        if not column.exact or any(_inexact(value) for value in values):
            return np.fromiter((matches(node, metadata) for metadata in self._metadatas), bool, self.size)
        if node.op in ("$eq", "$in", "$ne", "$nin"):
            found = np.zeros(self.size, dtype=bool)
            for value in values:
                found |= self._equal(column, value)
            return ~found if node.op in ("$ne", "$nin") else found
        return self._ordered(column, node.op, node.value)

    def _equal(self, column: _Column, value: Scalar | tuple[Scalar, ...]) -> Any:
        np = self._np
        if value is None:
            return column.kinds == _NONE
        if isinstance(value, bool):
            return (column.kinds == _BOOL) & (column.numbers == float(value))
        if isinstance(value, (int, float)):
            return (column.kinds == _NUMBER) & (column.numbers == float(value))
        if isinstance(value, str):
            rank = bisect.bisect_left(column.sorted_strings, value)
            if rank == len(column.sorted_strings) or column.sorted_strings[rank] != value:
                return np.zeros(self.size, dtype=bool)
            return (column.kinds == _STRING) & (column.ranks == rank)
        raise TypeError(f"filter value {value!r}")  # parse_filter admits only scalars

    def _ordered(self, column: _Column, op: str, value: Scalar | tuple[Scalar, ...]) -> Any:
        if isinstance(value, str):
            strings = column.sorted_strings
            # Ranks compare as the strings do: rank > the last rank <= value  <=>  string > value, etc.
            if op in ("$gt", "$lte"):
                bound = bisect.bisect_right(strings, value)
                chosen = column.ranks >= bound if op == "$gt" else column.ranks < bound
            else:
                bound = bisect.bisect_left(strings, value)
                chosen = column.ranks >= bound if op == "$gte" else column.ranks < bound
            return (column.kinds == _STRING) & chosen
        assert isinstance(value, (int, float))
        assert not isinstance(value, bool)
        numbers, number = column.numbers, float(value)
        if op == "$gt":
            chosen = numbers > number
        elif op == "$gte":
            chosen = numbers >= number
        elif op == "$lt":
            chosen = numbers < number
        else:
            chosen = numbers <= number
        return (column.kinds == _NUMBER) & chosen


def _inexact(value: Scalar) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and not -_EXACT_INT <= value <= _EXACT_INT
