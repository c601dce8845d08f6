"""The lowering of portable filters for the vector engines (``knowledge/_filter_native.py``).

Every lowered filter, evaluated on the typed index of a document, must agree
with :func:`~praisonai.persistence.knowledge.filters.matches` on the metadata.
"""

from __future__ import annotations

import math
import random

import pytest

from praisonai.persistence.errors import UnsupportedFilterError
from praisonai.persistence.knowledge._filters.native import (
    ALWAYS,
    NEVER,
    All,
    Any,
    Eq,
    IsKind,
    Ne,
    evaluate,
    field_key,
    index_metadata,
    lower,
    simplify,
    string_chunks,
)
from praisonai.persistence.knowledge.filters import matches, parse_filter
from praisonai.persistence.testing.knowledge import FILTER_DATA, FILTERS, NULL_FILTERS, ROUND_TRIP_METADATA


def _agrees(filters: dict[str, object], metadata: dict[str, object], chunk_limit: int | None) -> bool:
    node = parse_filter(filters)
    lowered = lower(node, chunk_limit=chunk_limit)
    index = {field.name: field for field in index_metadata(metadata, chunk_limit=chunk_limit or 0)}
    return evaluate(lowered, index) == matches(node, metadata)


@pytest.mark.parametrize("chunk_limit", [None, 2, 32])
@pytest.mark.parametrize("name", [*FILTERS, *NULL_FILTERS])
def test_contract_filters_agree_with_matches(name: str, chunk_limit: int | None) -> None:
    filters = {**FILTERS, **NULL_FILTERS}[name]
    for _, _, metadata in FILTER_DATA:
        assert _agrees(filters, metadata, chunk_limit), (name, metadata)


def test_string_ordering_through_chunks_is_exact() -> None:
    generator = random.Random(5)
    alphabet = ["a", "b", "z", "\x00", "é", "\U0001f600", "\ud800", "ab", "\x7f", "\x80"]
    values = ["".join(generator.choice(alphabet) for _ in range(generator.randint(0, 14))) for _ in range(150)]
    values += ["", "a" * 6, "a" * 7, "a" * 5 + "\x00"]
    for op in ("$gt", "$gte", "$lt", "$lte"):
        for probe in [*values[:40], "a" * 6, ""]:
            for value in values:
                assert _agrees({"s": {op: probe}}, {"s": value}, 12), (op, probe, value)


def test_strings_longer_than_the_stored_chunks_still_compare_exactly() -> None:
    long_value = "m" * 500
    for probe in ("m" * 10, "m" * 59, "n", "l" * 60):
        for op in ("$gt", "$lt", "$gte", "$lte"):
            assert _agrees({"s": {op: probe}}, {"s": long_value}, 12), (op, probe)


def test_a_comparison_string_beyond_the_chunks_is_refused() -> None:
    assert lower(parse_filter({"s": {"$gt": "x" * 66}}), chunk_limit=12) is not None
    with pytest.raises(UnsupportedFilterError):
        lower(parse_filter({"s": {"$gt": "x" * 67}}), chunk_limit=12)


def test_chunks_order_like_strings_and_fit_a_double() -> None:
    assert string_chunks("", 5) == [0]
    assert len(string_chunks("abcdefg", 5)) == 3  # two chunks and the terminator
    assert max(string_chunks("\xff" * 60, 20)) < 2**53
    assert string_chunks("b", 3) > string_chunks("ab", 3)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"x": {"$in": []}}, NEVER),
        ({"x": {"$nin": []}}, ALWAYS),
        ({"x": math.nan}, NEVER),
        ({"x": {"$ne": math.inf}}, ALWAYS),
        ({"x": {"$gt": math.inf}}, NEVER),
        ({"x": {"$lt": math.inf}}, IsKind("x", "number")),
        ({"x": {"$gte": -math.inf}}, IsKind("x", "number")),
        ({"x": {"$gt": math.nan}}, NEVER),
        ({"$or": [{"x": {"$in": []}}, {"y": 1}]}, Eq("y", "number", 1)),
        ({"$and": [{"x": {"$nin": []}}, {"y": {"$ne": None}}]}, Ne("y", "null", None)),
    ],
)
def test_constants_fold(filters: dict[str, object], expected: object) -> None:
    assert lower(parse_filter(filters)) == expected


def test_simplify_uses_what_the_engine_knows() -> None:
    tree = All((Eq("a", "string", "x"), Any((Eq("b", "bool", True), Ne("c", "number", 1)))))

    def known(atom: object) -> bool | None:
        if isinstance(atom, Eq) and atom.field == "b":
            return False  # the engine has never stored b
        return None

    assert simplify(tree, known) == All((Eq("a", "string", "x"), Ne("c", "number", 1)))


def test_index_keeps_scalars_only_and_hex_keys() -> None:
    fields = {field.name: field for field in index_metadata(ROUND_TRIP_METADATA, chunk_limit=4)}
    assert "list" not in fields and "nested" not in fields
    assert fields["true"].kind == "bool" and fields["one"].kind == "number" and fields["none"].kind == "null"
    assert fields["quote'\""].key == field_key("quote'\"") == "71756f7465272"[:12] + "22"
    assert all(set(field.key) <= set("0123456789abcdef") for field in fields.values())
