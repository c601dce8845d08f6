"""The shared SQL filter translator, checked against the reference ``matches`` on three real engines.

Hypothesis generates filter trees over a fixed, varied metadata set (every JSON
scalar type, mixed types under one key, absent keys, lists and objects, large
integers, unicode, odd key names); each engine must select exactly the rows the
reference selects. The engines: PostgreSQL ``jsonb`` (server), chDB (embedded
ClickHouse) and SurrealDB (embedded ``mem://``).
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from praisonai.persistence._values import dump_json
from praisonai.persistence.errors import UnsupportedFilterError
from praisonai.persistence.knowledge._filters.sql import (
    ClickHouseJson,
    Parameters,
    PostgresJsonb,
    SurrealObject,
    translate_filter,
)
from praisonai.persistence.knowledge.filters import And, Comparison, FilterNode, Or, matches, parse_filter

KEYS = ["a", "b", "with space", "quote'\"`", "é", "missing", ""]

METADATA: list[dict[str, Any] | None] = [
    None,
    {},
    {"a": 1},
    {"a": 1.0},
    {"a": -0.0},
    {"a": 0},
    {"a": 3},
    {"a": -1.5},
    {"a": 0.1},
    {"a": 2.5},
    {"a": 1e300},
    {"a": -1e-300},
    {"a": 2**53},
    {"a": 2**53 + 1},
    {"a": 2**63 - 1},
    {"a": -(2**63)},
    {"a": True},
    {"a": False},
    {"a": None},
    {"a": "1"},
    {"a": ""},
    {"a": "abc"},
    {"a": "ABC"},
    {"a": "abd"},
    {"a": "é"},
    {"a": "z"},
    {"a": "\U0001f600"},
    {"a": "tab\there"},
    {"a": "quote'\"`\\"},
    {"a": [1]},
    {"a": [None]},
    {"a": {"b": 1}},
    {"a": []},
    {"a": {}},
    {"b": 1, "a": "x"},
    {"b": None, "a": 2},
    {"b": False},
    {"b": "1"},
    {"with space": 1, "a": 1},
    {"quote'\"`": "v'\"", "é": "ü"},
    {"é": 1.5, "$x": True},
    {"": "empty key", "a": 0.5},
]

SCALARS = st.one_of(
    st.sampled_from(
        [
            *(None, True, False, 0, 1, 3, -1.5, 0.1, 2.5, 1.0, -0.0, 1e300, 2**53, 2**53 + 1, 2**63 - 1),
            *("", "1", "abc", "ABC", "abd", "é", "z", "x", "\U0001f600", "v'\"", "ü", "empty key"),
            *(math.inf, -math.inf, math.nan),
        ]
    ),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=4),
)
ORDERABLE = SCALARS.filter(lambda value: value is not None and not isinstance(value, bool))


def _comparison() -> st.SearchStrategy[dict[str, Any]]:
    key = st.sampled_from(KEYS[:-1])  # "" is not a valid field name
    plain = st.builds(lambda k, v: {k: v}, key, SCALARS)
    equality = st.builds(lambda k, op, v: {k: {op: v}}, key, st.sampled_from(["$eq", "$ne"]), SCALARS)
    ordering = st.builds(lambda k, op, v: {k: {op: v}}, key, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), ORDERABLE)
    member = st.builds(
        lambda k, op, v: {k: {op: v}}, key, st.sampled_from(["$in", "$nin"]), st.lists(SCALARS, max_size=4)
    )
    return st.one_of(plain, equality, ordering, member)


FILTERS = st.recursive(
    _comparison(),
    lambda children: st.one_of(
        st.builds(lambda parts: {"$and": parts}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda parts: {"$or": parts}, st.lists(children, min_size=1, max_size=3)),
    ),
    max_leaves=6,
)


def _expected(node: FilterNode) -> set[int]:
    return {index for index, metadata in enumerate(METADATA) if matches(node, metadata)}


# -- engines: each a callable from a parsed filter to the set of matching row numbers ------------


@pytest.fixture(scope="module")
def postgres(postgres_url: str) -> Iterator[Callable[[FilterNode], set[int]]]:
    psycopg = pytest.importorskip("psycopg")
    schema = f"kb_filter_{uuid.uuid4().hex[:12]}"
    connection = psycopg.connect(postgres_url, autocommit=True)
    connection.execute(f'CREATE SCHEMA "{schema}"')
    connection.execute(f'CREATE TABLE "{schema}".rows (n integer, metadata jsonb)')
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{schema}".rows VALUES (%s, %s::jsonb)',
            [(index, None if m is None else dump_json(m, "test")) for index, m in enumerate(METADATA)],
        )

    def run(node: FilterNode) -> set[int]:
        params = Parameters()
        where = translate_filter(node, PostgresJsonb("metadata"), params)
        rows = connection.execute(f'SELECT n FROM "{schema}".rows WHERE {where}', params.values).fetchall()
        return {row[0] for row in rows}

    yield run
    connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    connection.close()


@pytest.fixture(scope="module")
def clickhouse() -> Iterator[Callable[[FilterNode], set[int]]]:
    if not os.environ.get("CI"):  # CI installs chdb and must not pass by skipping
        pytest.importorskip("chdb", reason="the embedded ClickHouse engine (pip install chdb) runs these tests")
    from ..support.chdb_engine import chdb_client

    client = chdb_client()
    database = f"kb_filter_{uuid.uuid4().hex[:12]}"
    client.command(f"CREATE DATABASE `{database}`")
    client.command(f"CREATE TABLE `{database}`.rows (n UInt32, metadata String) ENGINE = MergeTree ORDER BY n")
    client.insert(
        f"`{database}`.rows",
        [[index, dump_json(m, "test")] for index, m in enumerate(METADATA)],
        column_names=["n", "metadata"],
    )

    def run(node: FilterNode) -> set[int]:
        params = Parameters()
        where = translate_filter(node, ClickHouseJson("metadata"), params)
        rows = client.query(f"SELECT n FROM `{database}`.rows WHERE {where}", parameters=params.values).result_rows
        return {row[0] for row in rows}

    yield run
    client.command(f"DROP DATABASE `{database}` SYNC")


@pytest.fixture(scope="module")
def surreal() -> Iterator[Callable[[FilterNode], set[int]]]:
    surrealdb = pytest.importorskip("surrealdb")
    from praisonai.persistence.knowledge.surrealdb_vector import _filter_copy

    connection = surrealdb.Surreal("mem://")
    connection.connect()
    connection.use("test", "filters")
    for index, metadata in enumerate(METADATA):
        copy = metadata or {}
        connection.query(
            "CREATE rows CONTENT { n: $n, meta: $meta, meta_nulls: $nulls }",
            {"n": index, "meta": _filter_copy(copy), "nulls": [k for k, v in copy.items() if v is None]},
        )

    def run(node: FilterNode) -> set[int]:
        params = Parameters()
        where = translate_filter(node, SurrealObject("meta", "meta_nulls"), params)
        rows = connection.query(f"SELECT VALUE n FROM rows WHERE {where}", params.values)
        return set(rows)

    yield run
    connection.close()


ENGINES = ["postgres", "clickhouse", "surreal"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Callable[[FilterNode], set[int]]:
    run: Callable[[FilterNode], set[int]] = request.getfixturevalue(request.param)
    return run


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters=FILTERS)
def test_translation_selects_what_matches_selects(engine: Callable[[FilterNode], set[int]], filters: Any) -> None:
    node = parse_filter(filters)
    assert engine(node) == _expected(node), f"filter {filters!r}"


@pytest.mark.parametrize(
    "filters",
    [
        {"a": 1},  # 1, 1.0 and 2**53... but never True
        {"a": True},
        {"a": 0},  # 0 and -0.0, never False
        {"a": None},  # JSON null only: not absent, not []
        {"a": {"$ne": None}},
        {"a": {"$gt": "abc"}},  # code point order: "abd", "é", "z", emoji; not "ABC"
        {"a": {"$lt": 2**53 + 1}},  # exact: 2**53 is below, 2**53 + 1 is not
        {"a": {"$gte": 2**53 + 1}},
        {"a": {"$lt": math.inf}},  # every number, nothing else
        {"a": {"$gt": math.inf}},
        {"a": {"$eq": math.nan}},
        {"a": {"$ne": math.nan}},
        {"a": {"$in": []}},
        {"a": {"$nin": []}},
        {"b": {"$nin": [None, 1]}},
        {"quote'\"`": "v'\""},
        {"": "empty key"},
        {"$or": [{"a": {"$gt": 2}}, {"é": {"$lte": 1.5}}], "missing": {"$ne": 1}},
    ],
)
def test_chosen_filters(engine: Callable[[FilterNode], set[int]], filters: dict[str, Any]) -> None:
    node = parse_filter(filters) if "" not in filters else Comparison("", "$eq", filters[""])
    assert engine(node) == _expected(node)


def test_values_are_bound_never_spliced() -> None:
    hostile = "x'); DROP TABLE rows; --"
    node = parse_filter({hostile: {"$in": [hostile, 1]}, "$or": [{"a": {"$gt": hostile}}]})
    for dialect in (PostgresJsonb("metadata"), ClickHouseJson("metadata"), SurrealObject("meta", "meta_nulls")):
        params = Parameters()
        where = translate_filter(node, dialect, params)
        assert "DROP" not in where
        assert hostile in params.values.values()


def test_clickhouse_refuses_integers_beyond_int256() -> None:
    with pytest.raises(UnsupportedFilterError):
        translate_filter(parse_filter({"a": {"$gt": 2**300}}), ClickHouseJson("metadata"), Parameters())


def test_tree_shapes() -> None:
    # An empty $in folds to a constant instead of an empty OR.
    params = Parameters()
    where = translate_filter(And((Or((Comparison("a", "$in", ()),)),)), PostgresJsonb("metadata"), params)
    assert where == "((FALSE))" and params.values == {}
