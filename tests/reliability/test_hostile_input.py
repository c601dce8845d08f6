"""Hostile input to the stores: each value is stored and read back exactly, or refused clearly.

Property-based (hypothesis) over what callers pass in: session ids, names, roles, message
content and metadata (conversation stores); keys, hash fields and values (state stores);
collection names and metadata filters (knowledge stores). The text mixes path traversal,
SQL, MongoDB/PostgREST/RediSearch operators, glob characters, NUL, lone surrogates, line
separators and random text; strings of one mebibyte and JSON nested up to 300 levels are
in the mix.

For each example: either every read returns exactly what was written, or the call raised
:class:`InvalidInputError` (a ValueError) naming the backend, with a short message, and
nothing of it was stored. Nothing is ever executed: a canary table, key, document or file
next to the store's data is there, unchanged, after all examples.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from praisonai.persistence._glob import glob_escape
from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.errors import InvalidInputError, StoreError
from praisonai.persistence.knowledge.base import KnowledgeDocument
from praisonai.persistence.knowledge.filters import matches, parse_filter
from praisonai.persistence.registry import STATE_STORES
from tests.support.emulators import require_driver
from tests.support.knowledge_backends import open_knowledge
from tests.support.sql_servers import mysql_execute, postgres_execute

from .conftest import Figures, Opener, sync_view
from .strategies import hostile_or_big_text, hostile_text, json_values, knowledge_filters, nested, poison, poisoned

pytestmark = [pytest.mark.reliability]

MAX_MESSAGE = 600  # a clear error is short; it never echoes a mebibyte of input


class Tally:
    def __init__(self) -> None:
        self.stored = 0
        self.refused = 0

    @property
    def examples(self) -> int:
        return self.stored + self.refused


def refused(call: Callable[[], Any], backend: str) -> InvalidInputError | None:
    """Run ``call``; None if it worked, the error if it was refused clearly. Anything else fails the test."""
    error: InvalidInputError | None = None
    try:
        call()
    except InvalidInputError as caught:
        error = caught
    if error is not None:
        assert error.backend == backend and f"[{backend}]" in str(error), str(error)[:200]
        assert len(str(error)) <= MAX_MESSAGE, f"a {len(str(error))}-character message: {str(error)[:200]}"
    return error


def _settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- conversation ------------------------------------------------------------------------------------------------

CONVERSATION_BACKENDS = {  # examples per backend
    "sqlite": 100,
    "async_sqlite": 60,
    "json": 100,
    "turso": 60,
    "surrealdb": 60,
    "postgres": 80,
    "async_postgres": 60,
    "mysql": 80,
    "async_mysql": 60,
    "singlestore": 40,
}


@pytest.fixture
def canary(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str, Opener], Callable[[], None]]:
    """``canary(backend, opener)``: plant a canary beside the store's data; returns the check that it survived."""

    def plant(backend: str, opener: Opener) -> Callable[[], None]:
        if backend in ("postgres", "async_postgres"):
            url, schema = opener.options["url"], opener.options["schema"]
            postgres_execute(url, f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            postgres_execute(url, f'CREATE TABLE "{schema}".canary (x int)')
            postgres_execute(url, f'INSERT INTO "{schema}".canary VALUES (1)')
            return lambda: _same(postgres_execute(url, f'SELECT x FROM "{schema}".canary'), [(1,)])
        if backend in ("mysql", "async_mysql", "singlestore"):
            url = opener.options["url"]
            database = url.rsplit("/", 1)[1]
            mysql_execute(url, f"CREATE TABLE `{database}`.canary (x int)")
            mysql_execute(url, f"INSERT INTO `{database}`.canary VALUES (1)")
            return lambda: _same(mysql_execute(url, f"SELECT x FROM `{database}`.canary"), [(1,)])
        if backend in ("sqlite", "async_sqlite", "turso"):
            import sqlite3

            path = opener.options["path"]
            with contextlib.closing(sqlite3.connect(path)) as connection, connection:
                connection.execute("CREATE TABLE canary (x int)")
                connection.execute("INSERT INTO canary VALUES (1)")

            def check() -> None:
                with contextlib.closing(sqlite3.connect(path)) as connection:
                    _same(connection.execute("SELECT x FROM canary").fetchall(), [(1,)])

            return check
        # json and surrealdb: nothing may be written outside the store's directory.
        root = Path(opener.options.get("path") or opener.options["url"].split("://", 1)[1])
        (root.parent / "canary.txt").write_text("canary")
        before = sorted(path.name for path in root.parent.iterdir())

        def check_files() -> None:
            assert (root.parent / "canary.txt").read_text() == "canary"
            assert sorted(path.name for path in root.parent.iterdir()) == before

        return check_files

    return plant


def _same(actual: Any, expected: Any) -> None:
    assert [tuple(row) for row in actual] == expected, "the canary was touched"


@pytest.mark.parametrize("backend", list(CONVERSATION_BACKENDS))
def test_conversation_input_is_stored_exactly_or_refused(
    backend: str,
    open_conversation: Callable[[str], Opener],
    canary: Callable[[str, Opener], Callable[[], None]],
    figures: Figures,
) -> None:
    opener = open_conversation(backend)
    check_canary = canary(backend, opener) if backend not in ("json", "surrealdb") else None
    store = sync_view(opener())
    if check_canary is None:
        check_canary = canary(backend, opener)
    tally = Tally()

    @_settings(CONVERSATION_BACKENDS[backend])
    @given(
        session_id=hostile_text(),
        name=st.one_of(st.none(), hostile_or_big_text()),
        user_id=st.one_of(st.none(), hostile_text()),
        state=json_values(),
        role=hostile_text(3),
        content=hostile_or_big_text(),
        metadata=st.one_of(st.none(), st.dictionaries(hostile_text(3), json_values(), max_size=3)),
        plan=poisoned(("session_id", "name", "user_id", "role", "content")),
    )
    def check(
        session_id: str,
        name: str | None,
        user_id: str | None,
        state: Any,
        role: str,
        content: str,
        metadata: Any,
        plan: tuple[str, str] | None,
    ) -> None:
        session_id, role, content = (poison(session_id, "session_id", plan), poison(role, "role", plan),
                                     poison(content, "content", plan))  # fmt: skip
        name = None if name is None else poison(name, "name", plan)
        user_id = None if user_id is None else poison(user_id, "user_id", plan)
        session = ConversationSession(
            session_id=session_id, user_id=user_id, name=name, state={"v": state}, metadata={"k": name}
        )
        if refused(lambda: store.create_session(session), backend):
            tally.refused += 1
            if refused(lambda: store.get_session(session_id), backend) is None:
                assert store.get_session(session_id) is None, "a refused session was stored"
            return
        try:
            loaded = store.get_session(session_id)
            assert loaded is not None
            assert (loaded.session_id, loaded.user_id, loaded.name, loaded.state, loaded.metadata) == (
                session_id,
                user_id,
                name,
                {"v": state},
                {"k": name},
            )
            if user_id is not None:
                assert [s.session_id for s in store.list_sessions(user_id=user_id)] == [session_id]
            message = ConversationMessage(role=role, content=content, metadata=metadata, created_at=1.0)
            if refused(lambda: store.add_message(session_id, message), backend):
                tally.refused += 1
                assert store.get_messages(session_id) == [], "a refused message was stored"
                return
            got = store.get_messages(session_id)
            assert [m.to_dict() for m in got] == [message.to_dict()]
            assert store.delete_messages(session_id, [message.id]) == 1
            tally.stored += 1
        finally:
            assert store.delete_session(session_id) is True

    try:
        check()
    finally:
        store.close()
    check_canary()
    figures.record("hostile_input", backend, examples=tally.examples, stored=tally.stored, refused=tally.refused)


# -- state -------------------------------------------------------------------------------------------------------

STATE_BACKENDS = {  # examples per backend; each tries a value and a hash field
    "memory": 150,
    "memory_snapshot": 100,
    "redis": 100,
    "upstash": 50,
    "mongodb": 50,
    "async_mongodb": 30,
    "dynamodb": 40,
    "firestore": 30,
    "gcs": 30,
}


class StateUnderTest:
    """A state store (sync or async, seen synchronously), with a canary planted beside its keys."""

    def __init__(self, store: Any, check_canary: Callable[[], None], cleanup: Callable[[], None]) -> None:
        self.store = store
        self.check_canary = check_canary
        self.cleanup = cleanup


def _open_state(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> StateUnderTest:
    prefix = f"rel-{uuid.uuid4().hex[:12]}:"
    nothing: Callable[[], None] = lambda: None  # noqa: E731
    if backend == "memory":
        return StateUnderTest(STATE_STORES.create("memory"), nothing, nothing)
    if backend == "memory_snapshot":
        path = tmp_path / "state" / "state.json"
        (tmp_path / "canary.txt").write_text("canary")

        def check_files() -> None:
            assert (tmp_path / "canary.txt").read_text() == "canary"
            assert sorted(p.name for p in (tmp_path / "state").iterdir()) <= ["state.json", "state.json.journal"]

        return StateUnderTest(
            STATE_STORES.create("memory", snapshot_path=str(path), compact_every=10), check_files, nothing
        )
    if backend in ("redis", "upstash"):
        redis = require_driver("redis", "redis")
        url = request.getfixturevalue("redis_url")
        raw = redis.Redis.from_url(url, decode_responses=True)
        canary_key = f"rel-canary-{uuid.uuid4().hex}"
        raw.set(canary_key, "canary")

        def check_redis() -> None:
            assert raw.get(canary_key) == "canary"

        def drop_redis() -> None:
            keys = [*raw.scan_iter(match=glob_escape(prefix) + "*", count=1000), canary_key]
            raw.delete(*keys)
            raw.close()

        if backend == "redis":
            return StateUnderTest(STATE_STORES.create("redis", url=url, key_prefix=prefix), check_redis, drop_redis)
        require_driver("upstash_redis", "upstash")
        standin = request.getfixturevalue("upstash_standin")
        store = STATE_STORES.create("upstash", url=standin.url, token=standin.token, key_prefix=prefix, retries=0)
        return StateUnderTest(store, check_redis, drop_redis)
    if backend in ("mongodb", "async_mongodb"):
        pymongo = require_driver("pymongo", "mongodb")
        url = request.getfixturevalue("mongodb_url")
        client: Any = pymongo.MongoClient(url)
        database, collection = "praisonai_reliability", f"state_{uuid.uuid4().hex}"
        client[database]["canary"].insert_one({"_id": collection, "x": 1})

        def check_mongo() -> None:
            assert client[database]["canary"].find_one({"_id": collection}) == {"_id": collection, "x": 1}

        def drop_mongo() -> None:
            client[database].drop_collection(collection)
            client[database]["canary"].delete_one({"_id": collection})
            client.close()

        store = STATE_STORES.create(backend, url=url, database=database, collection=collection)
        return StateUnderTest(store, check_mongo, drop_mongo)
    if backend == "dynamodb":
        boto3 = require_driver("boto3", "dynamodb")
        endpoint = request.getfixturevalue("dynamodb_endpoint")
        credentials = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "secret"}
        client = boto3.client("dynamodb", endpoint_url=endpoint, **credentials)
        table, canary_table = f"state_{uuid.uuid4().hex}", f"canary_{uuid.uuid4().hex}"
        client.create_table(
            TableName=canary_table,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName=canary_table, Item={"k": {"S": "canary"}})

        def check_dynamo() -> None:
            assert client.scan(TableName=canary_table)["Items"] == [{"k": {"S": "canary"}}]

        def drop_dynamo() -> None:
            for name in (table, canary_table):
                with contextlib.suppress(Exception):
                    client.delete_table(TableName=name)

        store = STATE_STORES.create("dynamodb", table_name=table, endpoint_url=endpoint, **credentials)
        return StateUnderTest(store, check_dynamo, drop_dynamo)
    if backend == "firestore":
        require_driver("google.cloud.firestore", "firestore")
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", request.getfixturevalue("firestore_emulator_host"))
        collection = f"state_{uuid.uuid4().hex}"
        store = STATE_STORES.create("firestore", project="demo-praisonai", collection=collection)
        canary_collection = store._client.collection(f"canary_{uuid.uuid4().hex}")  # type: ignore[attr-defined]
        canary_collection.document("canary").set({"x": 1})

        def check_firestore() -> None:
            assert canary_collection.document("canary").get().to_dict() == {"x": 1}

        return StateUnderTest(store, check_firestore, nothing)
    if backend == "gcs":
        require_driver("google.cloud.storage", "gcs")
        endpoint = request.getfixturevalue("gcs_endpoint")
        store = STATE_STORES.create(
            "gcs", bucket="praisonai-reliability", prefix=f"run-{uuid.uuid4().hex}/", endpoint=endpoint,
            project="test", create_bucket=True,
        )  # fmt: skip
        bucket = store._bucket  # type: ignore[attr-defined]
        canary_name = f"canary-{uuid.uuid4().hex}"
        bucket.blob(canary_name).upload_from_string(b"canary")

        def check_gcs() -> None:
            assert bucket.blob(canary_name).download_as_bytes() == b"canary"

        return StateUnderTest(store, check_gcs, nothing)
    raise AssertionError(backend)


@pytest.fixture
def state_under_test(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, StateUnderTest]]:
    backend: str = request.param
    opened = _open_state(backend, request, tmp_path)
    yield backend, opened
    opened.cleanup()


class _SyncState:
    """Drive an async state store from synchronous code, on one event loop."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._loop = asyncio.new_event_loop()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._store, name)
        return lambda *args, **kwargs: self._loop.run_until_complete(method(*args, **kwargs))

    def close(self) -> None:
        try:
            self._loop.run_until_complete(self._store.close())
        finally:
            self._loop.close()


@pytest.mark.parametrize("state_under_test", list(STATE_BACKENDS), indirect=True)
def test_state_input_is_stored_exactly_or_refused(
    state_under_test: tuple[str, StateUnderTest], figures: Figures
) -> None:
    backend, opened = state_under_test
    raw_store = opened.store
    store: Any = _SyncState(raw_store) if asyncio.iscoroutinefunction(raw_store.get) else raw_store
    name = raw_store.backend
    tally = Tally()

    @_settings(STATE_BACKENDS[backend])
    @given(
        key=hostile_text(),
        field=hostile_text(),
        value=json_values(),
        plan=poisoned(("key", "field")),
    )
    def check(key: str, field: str, value: Any, plan: tuple[str, str] | None) -> None:
        key, field = poison(key, "key", plan), poison(field, "field", plan)
        if refused(lambda: store.set(key, value), name):
            tally.refused += 1
            if refused(lambda: store.get(key), name) is None:
                assert store.get(key) is None, "a refused value was stored"
        else:
            try:
                assert store.get(key) == value
                assert store.exists(key) is True
                assert store.keys(glob_escape(key)) == [key]
                assert store.get_many([key]) == {key: value}
            finally:
                assert store.delete(key) is True
            tally.stored += 1
        hash_key = "h:" + key[:900]
        if refused(lambda: store.hset(hash_key, field, value), name):
            tally.refused += 1
            if refused(lambda: store.hgetall(hash_key), name) is None:
                assert store.hgetall(hash_key) == {}, "a refused field was stored"
            return
        try:
            assert store.hget(hash_key, field) == value
            assert store.hgetall(hash_key) == {field: value}
        finally:
            assert store.delete(hash_key) is True
        tally.stored += 1

    try:
        check()
        assert store.keys() == [], "an example left a key behind"
    finally:
        store.close()
    opened.check_canary()
    figures.record("hostile_input", name if backend != "memory_snapshot" else "memory (snapshot file)",
                   examples=STATE_BACKENDS[backend], operations=tally.examples, stored=tally.stored,
                   refused=tally.refused)  # fmt: skip


# -- knowledge ---------------------------------------------------------------------------------------------------

KNOWLEDGE_BACKENDS = (
    "memory",
    "chroma",
    "qdrant",
    "lancedb",
    "milvus",
    "pgvector",
    "clickhouse",
    "surrealdb_vector",
    "langchain",
    "llamaindex",
    "redis",
)
FILTER_EXAMPLES = 100
NAME_EXAMPLES = 40
HOSTILE_FIELDS = ["k", "n", "a.b", "$x", "a'b", 'a"b', "a b", "_id", "__proto__", "ü😀", "a\\b", "@t", "a-b", "*"]


@pytest.fixture
def knowledge_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Any]:
    backend: str = request.param
    return backend, open_knowledge(backend, request, tmp_path)


def _documents() -> list[KnowledgeDocument]:
    values: list[Any] = [
        "x'); DROP TABLE canary; --",
        '"',
        "a.b",
        "$where",
        "\\",
        "%s",
        "*",
        "ü😀",
        "",
        None,
        True,
        3,
        2.5,
    ]
    documents = []
    for index in range(len(values) * 2):
        value = values[index % len(values)]
        metadata = {"n": index, "k": value, HOSTILE_FIELDS[index % len(HOSTILE_FIELDS)]: value}
        documents.append(
            KnowledgeDocument(
                id=f"d{index}", content=f"doc {index}", embedding=[1.0, float(index % 5)], metadata=metadata
            )
        )
    return documents


@pytest.mark.parametrize("knowledge_store", list(KNOWLEDGE_BACKENDS), indirect=True)
def test_knowledge_filters_match_the_reference_or_are_refused(
    knowledge_store: tuple[str, Any], figures: Figures
) -> None:
    backend, store = knowledge_store
    store.create_collection("canary", 2)
    store.insert("canary", [KnowledgeDocument(id="c", content="canary", embedding=[1.0, 0.0], metadata={"k": 1})])
    store.create_collection("docs", 2)
    documents = _documents()
    store.insert("docs", documents)
    tally = Tally()

    @_settings(FILTER_EXAMPLES)
    @given(filters=knowledge_filters(HOSTILE_FIELDS))
    def check(filters: Any) -> None:
        error = None
        try:
            found = store.search("docs", [1.0, 1.0], limit=len(documents), filters=filters)
        except ValueError as caught:  # InvalidInputError, UnsupportedFilterError
            error = caught
        if error is not None:
            assert isinstance(error, StoreError) and error.backend == backend, repr(error)
            assert len(str(error)) <= MAX_MESSAGE
            tally.refused += 1
            return
        node = parse_filter(filters)
        expected = {document.id for document in documents if matches(node, document.metadata)}
        assert {document.id for document in found} == expected, filters
        tally.stored += 1

    check()
    assert store.count("docs") == len(documents)
    assert [document.id for document in store.get("canary", ["c"])] == ["c"]
    figures.record(
        "hostile_filters", backend, examples=tally.examples, matched_reference=tally.stored, refused=tally.refused
    )

    names = Tally()

    @_settings(NAME_EXAMPLES)
    @given(name=st.one_of(hostile_text(3), st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,62}", fullmatch=True)))
    def check_names(name: str) -> None:
        assume(name not in ("docs", "canary"))
        if refused(lambda: store.create_collection(name, 2), backend):
            names.refused += 1
            assert name not in store.list_collections()
            return
        try:
            assert store.collection_exists(name) is True
            assert name in store.list_collections()
            store.insert(name, [KnowledgeDocument(id="x", content=name, embedding=[0.0, 1.0], metadata={"name": name})])
            assert [(d.content, d.metadata) for d in store.get(name, ["x"])] == [(name, {"name": name})]
        finally:
            assert store.delete_collection(name) is True
        names.stored += 1

    check_names()
    assert sorted(store.list_collections()) == ["canary", "docs"]
    figures.record(
        "hostile_collection_names", backend, examples=names.examples, stored=names.stored, refused=names.refused
    )


@pytest.mark.parametrize("backend", ["mysql", "async_mysql", "singlestore"])
def test_a_statement_over_max_allowed_packet_is_refused_and_the_store_goes_on(
    backend: str, open_conversation: Callable[[str], Opener]
) -> None:
    """MariaDB refuses a statement over max_allowed_packet (error 1153) and drops the connection."""
    opener = open_conversation(backend)
    (limit,) = mysql_execute(opener.options["url"], "SELECT @@max_allowed_packet")[0]
    store = sync_view(opener(pool_size=1))
    try:
        store.create_session(ConversationSession(session_id="s"))
        huge = ConversationMessage(role="user", content="x" * (int(limit) + 1), created_at=1.0)
        error = refused(lambda: store.add_message("s", huge), backend)
        assert error is not None and "max_allowed_packet" in str(error)
        assert store.get_messages("s") == []  # the next call works, on a fresh connection
        store.add_message("s", ConversationMessage(role="user", content="after", created_at=2.0))
        assert [m.content for m in store.get_messages("s")] == ["after"]
    finally:
        store.close()


@pytest.mark.parametrize("backend", list(CONVERSATION_BACKENDS))
def test_lone_surrogates_and_too_deep_json_are_refused_alike(
    backend: str, open_conversation: Callable[[str], Opener]
) -> None:
    """Found by the properties above: each engine used to fail in its own way (UnicodeEncodeError, HTTP 500...)."""
    store = sync_view(open_conversation(backend)())
    try:
        store.create_session(ConversationSession(session_id="s", state={"odd": "a\ud800b"}))
        loaded = store.get_session("s")
        assert loaded is not None and loaded.state == {"odd": "a\ud800b"}  # JSON carries them as \u escapes
        for call in (
            lambda: store.create_session(ConversationSession(session_id="a\ud800")),
            lambda: store.create_session(ConversationSession(session_id="t", name="\udfff")),
            lambda: store.add_message("s", ConversationMessage(role="user", content="x\ud800")),
            lambda: store.add_message("s", ConversationMessage(role="us\udc00er", content="x")),
            lambda: store.add_message("s", ConversationMessage(role="user", content="x", metadata=nested(201))),
        ):
            error = refused(call, backend)
            assert error is not None
            assert "lone surrogate" in str(error) or "nested deeper than 200" in str(error)
        assert store.get_session("t") is None
        assert store.get_messages("s") == []
    finally:
        store.close()


@pytest.mark.parametrize("state_under_test", ["memory", "redis", "mongodb", "dynamodb"], indirect=True)
def test_lone_surrogates_in_keys_and_fields_are_refused_alike(state_under_test: tuple[str, StateUnderTest]) -> None:
    _, opened = state_under_test
    store, name = opened.store, opened.store.backend
    try:
        for call in (lambda: store.set("k\ud800", 1), lambda: store.hset("h", "f\udfff", 1)):
            error = refused(call, name)
            assert error is not None and "lone surrogate" in str(error)
        store.set("k", "v\ud800")  # values are JSON
        assert store.get("k") == "v\ud800"
        assert store.keys() == ["k"]
    finally:
        store.close()
