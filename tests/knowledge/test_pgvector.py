"""pgvector: the knowledge contract suite on a real PostgreSQL with the vector extension.

Every test gets its own schema (dropped afterwards). Needs PostgreSQL on
loopback with pgvector installed (``.ci/setup-pgvector.sh``); skips locally
without the server, fails under CI.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from praisonai.persistence.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    ConfigError,
    InvalidInputError,
    UnsupportedFilterError,
)
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import PgvectorKnowledgeConfig
from praisonai.persistence.knowledge.pgvector import AsyncPgvectorKnowledgeStore, table_name
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import AsyncKnowledgeStoreContract, KnowledgeStoreContract

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def vector_url(postgres_url: str) -> str:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        row = connection.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        available = connection.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    if row is None and available is None:
        message = "pgvector is not installed in the test PostgreSQL; run .ci/setup-pgvector.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return postgres_url


@pytest.fixture
def schema(vector_url: str) -> Iterator[str]:
    name = f"kb_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(vector_url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _open(url: str, schema: str, **options: object) -> KnowledgeStore:
    return KNOWLEDGE_STORES.create("pgvector", url=f"{url}?schema={schema}", **options)


class TestPgvectorContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, vector_url: str, schema: str) -> Iterator[KnowledgeStore]:
        store = _open(vector_url, schema)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, vector_url: str, schema: str) -> Callable[[], KnowledgeStore]:
        return lambda: _open(vector_url, schema)


class TestPgvectorExactSearchContract(KnowledgeStoreContract):
    """The same contract with the index bypassed (``exact_search``) and with no index at all."""

    @pytest.fixture(params=[{"exact_search": True}, {"index": "none"}], ids=["exact_search", "no_index"])
    def store(self, request: pytest.FixtureRequest, vector_url: str, schema: str) -> Iterator[KnowledgeStore]:
        store = _open(vector_url, schema, **request.param)
        yield store
        store.close()


class TestAsyncPgvectorContract(AsyncKnowledgeStoreContract):
    """async_pgvector: native, on psycopg's AsyncConnection (concurrent tasks run on several connections)."""

    @pytest.fixture
    def store(self, vector_url: str, schema: str) -> AsyncKnowledgeStore:
        store = KNOWLEDGE_STORES.create("async_pgvector", url=f"{vector_url}?schema={schema}")
        assert isinstance(store, AsyncPgvectorKnowledgeStore)  # native, not the thread offload
        return store

    @pytest.fixture
    def reopen(self, vector_url: str, schema: str) -> Callable[[], AsyncKnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("pgvector_async", url=f"{vector_url}?schema={schema}")


# -- configuration ------------------------------------------------------------------------------


def test_url_fields_and_secrets() -> None:
    config = PgvectorKnowledgeConfig.from_options(
        "postgresql://app:s3cr%40t@db.example:6432/kb?sslmode=require&schema=vectors&table_prefix=t_", {}
    )
    assert (config.host, config.port, config.user, config.database) == ("db.example", 6432, "app", "kb")
    assert (config.sslmode, config.db_schema, config.table_prefix) == ("require", "vectors", "t_")
    assert config.password is not None and config.password.get_secret_value() == "s3cr@t"
    assert "s3cr" not in repr(config) and "s3cr" not in str(config)
    socket_config = PgvectorKnowledgeConfig.from_options("postgres:///kb?host=/run/postgresql", {})
    assert socket_config.host == "/run/postgresql"


@pytest.mark.parametrize(
    ("url", "options", "field"),
    [
        ("mysql://h/db", {}, "url"),
        ("postgresql://h/db?bogus=1", {}, "url"),
        ("postgresql://h/db?schema=bad-schema", {}, "db_schema"),
        ("postgresql://h/db", {"hnsw_m": 32, "hnsw_ef_construction": 40}, "config"),
        ("postgresql://u:topsecret@h/db?sslmode=maybe", {}, "sslmode"),
    ],
)
def test_bad_config_is_refused_before_any_driver_call(url: str, options: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        PgvectorKnowledgeConfig.from_options(url, options)
    assert any(error.field.startswith(field) for error in caught.value.errors)
    assert "topsecret" not in str(caught.value)


def test_long_collection_names_fit_postgres_identifiers() -> None:
    short = table_name("praison_kb_", "docs")
    long_one, long_two = table_name("praison_kb_", "x" * 62 + "a"), table_name("praison_kb_", "x" * 62 + "b")
    assert short == "praison_kb_docs"
    assert len(long_one.encode()) <= 63 and len(long_two.encode()) <= 63 and long_one != long_two


def test_unreachable_server_raises_backend_unavailable() -> None:
    store = KNOWLEDGE_STORES.create("pgvector", url="postgresql://nobody@127.0.0.1:1/none", connect_timeout=2)
    try:
        with pytest.raises(BackendUnavailableError) as caught:
            store.list_collections()
        assert isinstance(caught.value, ConnectionError)
    finally:
        store.close()


# -- the index and the operators -------------------------------------------------------------------


def _index_scans(url: str, schema: str, table: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes "
            "WHERE schemaname = %s AND relname = %s AND indexrelname LIKE %s",
            (schema, table, "%embedding%"),
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("distance", "opclass"), [("cosine", "vector_cosine_ops"), ("dot", "vector_ip_ops"), ("euclidean", "vector_l2_ops")]
)
def test_hnsw_index_per_distance_is_used_by_search(vector_url: str, schema: str, distance: str, opclass: str) -> None:
    import time

    import numpy as np

    from praisonai.persistence.knowledge.base import similarity

    rng = np.random.default_rng(3)
    vectors = rng.uniform(-1, 1, size=(2000, 8)).astype(np.float32)
    store = _open(vector_url, schema)
    store.create_collection("idx", 8, distance)  # type: ignore[arg-type]
    store.insert(
        "idx", [KnowledgeDocument(id=f"v{i}", embedding=v.tolist(), metadata={"i": i}) for i, v in enumerate(vectors)]
    )
    with psycopg.connect(vector_url, autocommit=True) as connection:
        connection.execute(f'ANALYZE "{schema}"."praison_kb_idx"')
        [(found_opclass, method)] = connection.execute(
            "SELECT opc.opcname, am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam JOIN pg_opclass opc ON opc.oid = i.indclass[0] "
            "WHERE i.indrelid = %s::regclass AND am.amname = 'hnsw'",
            (f'"{schema}".praison_kb_idx',),
        ).fetchall()
    assert (found_opclass, method) == (opclass, "hnsw")
    query = rng.uniform(-1, 1, size=8).astype(np.float32).tolist()
    results = store.search("idx", query, limit=10)
    selective = store.search("idx", query, limit=10, filters={"i": {"$lt": 100}})
    store.close()  # the server publishes this session's index statistics when it ends
    reference = sorted(
        ((similarity(distance, query, v.tolist()), f"v{i}") for i, v in enumerate(vectors)),  # type: ignore[arg-type]
        reverse=True,
    )
    assert [r.id for r in results] == [name for _, name in reference[:10]]
    for result, (score, _) in zip(results, reference, strict=False):
        assert result.score == pytest.approx(score, rel=1e-4, abs=1e-4)
    # A filter matching 5% of the rows still fills the limit (iterative index scans), with the right documents.
    filtered = [name for _, name in reference if int(name[1:]) < 100][:10]
    assert [r.id for r in selective] == filtered
    deadline = time.monotonic() + 10
    while _index_scans(vector_url, schema, "praison_kb_idx") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _index_scans(vector_url, schema, "praison_kb_idx") >= 2, "search did not use the HNSW index"


# -- values the engine cannot hold, hostile input, concurrency ---------------------------------


def test_nul_characters_are_refused_clearly(vector_url: str, schema: str) -> None:
    store = _open(vector_url, schema)
    try:
        store.create_collection("c", 2)
        with pytest.raises(InvalidInputError, match="NUL"):
            store.insert("c", [KnowledgeDocument(id="a", content="x\x00y", embedding=[1.0, 0.0])])
        with pytest.raises(InvalidInputError, match="NUL"):
            store.insert("c", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"k": ["x\x00"]})])
        with pytest.raises(UnsupportedFilterError):
            store.search("c", [1.0, 0.0], filters={"k": "x\x00"})
        assert store.count("c") == 0
    finally:
        store.close()


def test_hostile_keys_and_values_are_data(vector_url: str, schema: str) -> None:
    hostile = "x'); DROP TABLE praison_kb_collections; --"
    store = _open(vector_url, schema)
    try:
        store.create_collection("c", 2)
        store.insert(
            "c", [KnowledgeDocument(id=hostile, content=hostile, embedding=[1.0, 0.0], metadata={hostile: hostile})]
        )
        [found] = store.search("c", [1.0, 0.0], filters={hostile: {"$in": [hostile]}})
        assert found.id == hostile and found.metadata == {hostile: hostile}
        assert store.list_collections() == ["c"]
    finally:
        store.close()


def test_two_stores_racing_for_one_id(vector_url: str, schema: str) -> None:
    first, second = _open(vector_url, schema), _open(vector_url, schema)
    try:
        first.create_collection("race", 2)
        outcomes: list[str] = []

        def insert(store: KnowledgeStore, content: str) -> None:
            try:
                store.insert("race", [KnowledgeDocument(id="same", content=content, embedding=[1.0, 0.0])])
                outcomes.append("stored")
            except AlreadyExistsError:
                outcomes.append("refused")

        threads = [threading.Thread(target=insert, args=(store, name)) for store, name in ((first, "a"), (second, "b"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["refused", "stored"]
        assert first.count("race") == 1
    finally:
        first.close()
        second.close()


def test_a_waiting_write_neither_blocks_other_calls_nor_loses_its_collection(vector_url: str, schema: str) -> None:
    store = _open(vector_url, schema)
    try:
        store.create_collection("held", 2)
        store.create_collection("free", 2)
        inserted = threading.Event()

        def insert() -> None:
            store.insert("held", [KnowledgeDocument(id="a", embedding=[1.0, 0.0])])
            inserted.set()

        with psycopg.connect(vector_url) as other:  # a transaction holding the collection's catalogue row
            other.execute(f'SELECT 1 FROM "{schema}".praison_kb_collections WHERE name = %s FOR UPDATE', ("held",))
            writer = threading.Thread(target=insert)
            writer.start()
            assert not inserted.wait(0.5)  # the write waits for the row, as a drop would have to
            counted: list[int] = []
            reader = threading.Thread(target=lambda: counted.append(store.count("free")))
            reader.start()
            reader.join(5)
            assert counted == [0]  # the store's other calls go on meanwhile
        writer.join(10)
        assert inserted.is_set()
        assert store.count("held") == 1
    finally:
        store.close()


def test_missing_extension_is_reported_or_created(vector_url: str) -> None:
    database = f"kb_noext_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(vector_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    base = vector_url.rsplit("/", 1)[0]
    try:
        refusing = KNOWLEDGE_STORES.create("pgvector", url=f"{base}/{database}", create_extension=False)
        with pytest.raises(Exception, match="CREATE EXTENSION vector"):
            refusing.list_collections()
        refusing.close()
        creating = KNOWLEDGE_STORES.create("pgvector", url=f"{base}/{database}")
        creating.create_collection("c", 2)
        assert creating.list_collections() == ["c"]
        creating.close()
    finally:
        with psycopg.connect(vector_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _spread(count: int, dimension: int = 8, seed: int = 15) -> list[KnowledgeDocument]:
    import random

    generator = random.Random(seed)
    return [
        KnowledgeDocument(
            id=f"d{index}",
            embedding=[generator.uniform(-1, 1) for _ in range(dimension)],
            metadata={"tag": "rare" if index % 250 == 7 else "common", "i": index},
        )
        for index in range(count)
    ]


def test_a_large_limit_stays_exact_after_postgres_caches_a_generic_plan(
    vector_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: psycopg prepares a statement run 5 times; PostgreSQL may then cache a generic plan that
    ignores the per-transaction ``enable_indexscan = off``, and ``limit=2500`` on 2,000 rows gave 40.
    ``plan_cache_mode = force_generic_plan`` makes PostgreSQL choose that plan every time here."""
    monkeypatch.setenv("PGOPTIONS", "-c plan_cache_mode=force_generic_plan")
    store = _open(vector_url, schema)
    try:
        store.create_collection("big", 8)
        store.insert("big", _spread(2000))
        for round_ in range(12):  # past psycopg's prepare threshold and PostgreSQL's five custom plans
            assert len(store.search("big", [0.5] * 8, limit=5)) == 5  # plans on the index
        for round_ in range(6):
            assert len(store.search("big", [0.5] * 8, limit=2500)) == 2000, round_
            assert len(store.search("big", [0.5] * 8, limit=1500)) == 1500, round_
    finally:
        store.close()


def test_a_selective_filter_fills_the_limit_on_the_index(vector_url: str, schema: str) -> None:
    """Issue 15: 8 documents match, ``limit=10``: all 8 come back, every time (3 to 6 before)."""
    store = _open(vector_url, schema)
    try:
        store.create_collection("sel", 8)
        store.insert("sel", _spread(2000))
        for round_ in range(12):
            found = store.search("sel", [0.1 * round_] * 8, limit=10, filters={"tag": "rare"})
            assert sorted(int(document.id[1:]) for document in found) == list(range(7, 2000, 250)), round_
    finally:
        store.close()


def test_zero_vectors_are_found_through_the_index_and_score_zero(vector_url: str, schema: str) -> None:
    """Issue 15: pgvector's HNSW index skips zero vectors under cosine, so they were never found; they
    score 0.0 (the reference) and rank between the positive and the negative scores."""
    store = _open(vector_url, schema)
    try:
        store.create_collection("z", 2)
        store.insert(
            "z",
            [
                KnowledgeDocument(id="pos", embedding=[1.0, 0.1]),
                KnowledgeDocument(id="zero", embedding=[0.0, 0.0], metadata={"k": 1}),
                KnowledgeDocument(id="neg", embedding=[-1.0, 0.1]),
            ],
        )
        found = store.search("z", [1.0, 0.0], limit=3)
        assert [(document.id, round(document.score or 0.0, 3)) for document in found] == [
            ("pos", 0.995),
            ("zero", 0.0),
            ("neg", -0.995),
        ]
        assert [document.id for document in store.search("z", [1.0, 0.0], limit=2)] == ["pos", "zero"]
        assert [document.id for document in store.search("z", [1.0, 0.0], limit=2, filters={"k": 1})] == ["zero"]
        assert {document.score for document in store.search("z", [0.0, 0.0], limit=3)} == {0.0}
    finally:
        store.close()


def test_an_async_call_cancelled_inside_its_transaction_leaves_nothing_open(vector_url: str, schema: str) -> None:
    """async_pgvector: an upsert cancelled while its transaction waits for a lock (held here by another
    connection) leaves no transaction or lock behind, and the store goes on working."""
    store = KNOWLEDGE_STORES.create("async_pgvector", url=f"{vector_url}?schema={schema}")
    document = KnowledgeDocument(id="a", content="x", embedding=[1.0, 0.0])

    async def run() -> int:
        await store.create_collection("kb", 2)
        with psycopg.connect(vector_url) as blocker:  # not autocommit: holds the row lock until rollback
            blocker.execute(f'SELECT 1 FROM "{schema}".praison_kb_collections WHERE name = %s FOR UPDATE', ("kb",))
            with pytest.raises(asyncio.TimeoutError):  # the upsert waits at its FOR SHARE, inside BEGIN
                await asyncio.wait_for(store.upsert("kb", [document]), 0.5)
            blocker.rollback()
        await asyncio.wait_for(store.upsert("kb", [document]), 10)
        return await store.count("kb")

    assert asyncio.run(run()) == 1
    with psycopg.connect(vector_url, autocommit=True) as probe:
        probe.execute("SET lock_timeout = '2s'")  # a transaction left open would hold the table: LockNotAvailable
        probe.execute(f'DROP TABLE "{schema}"."{table_name("praison_kb_", "kb")}"')
    asyncio.run(store.close())
