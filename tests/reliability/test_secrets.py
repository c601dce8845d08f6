"""Secrets: for every built-in config that holds one, the secret shows up nowhere.

Every config of the catalogue with a secret field (a ``SecretStr``, or a field named like a
secret) is covered; a new backend with a secret fails :func:`test_every_secret_config_is_covered`
until it has a row in :data:`UNREACHABLE`. For each:

- the config's ``repr``, ``str``, JSON and ``model_dump`` hide it, and so does a
  :class:`ConfigError` about a bad value of the same config;
- the store opened on an address where nothing listens fails (on opening or on its first
  call) and neither that exception, with its whole chain of causes, nor ``repr`` of the
  store, nor any log record written meanwhile (every logger at DEBUG) holds the secret.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from typing import Any

import pytest

from praisonai.persistence._catalogue import BUILTINS, BuiltinBackend
from praisonai.persistence._config import StoreConfig
from praisonai.persistence._loading import driver_installed, load_object
from praisonai.persistence.errors import ConfigError, PersistenceError
from praisonai.persistence.registry import CONVERSATION_STORES, EMBEDDERS, KNOWLEDGE_STORES, STATE_STORES

from .conftest import Figures
from .strategies import SECRET
from .test_hostile_config import secret_fields

pytestmark = [pytest.mark.reliability]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


PORT = _closed_port()
HTTP = f"http://127.0.0.1:{PORT}"

# Options that make each config valid and point its store at 127.0.0.1:PORT, where nothing listens.
UNREACHABLE: dict[str, dict[str, Any]] = {
    "conversation:async_mysql": {"host": "127.0.0.1", "port": PORT, "user": "app", "database": "db", "connect_timeout": 1},
    "conversation:async_postgres": {"host": "127.0.0.1", "port": PORT, "user": "app", "connect_timeout": 1},
    "conversation:mysql": {"host": "127.0.0.1", "port": PORT, "user": "app", "database": "db", "connect_timeout": 1},
    "conversation:postgres": {"host": "127.0.0.1", "port": PORT, "user": "app", "connect_timeout": 1},
    "conversation:singlestore": {"host": "127.0.0.1", "port": PORT, "user": "app", "database": "db", "connect_timeout": 1},
    "conversation:supabase": {"project_url": HTTP, "timeout": 2, "retry_reads": False},
    "conversation:surrealdb": {"url": f"ws://127.0.0.1:{PORT}", "username": "root"},
    "conversation:turso": {"url": HTTP},
    "knowledge:cassandra": {"hosts": ["127.0.0.1"], "port": PORT, "username": "app", "connect_timeout": 1},
    "knowledge:chroma": {"host": "127.0.0.1", "port": PORT},
    "knowledge:clickhouse": {"host": "127.0.0.1", "port": PORT, "connect_timeout": 1},
    "knowledge:cosmosdb": {"url": f"https://127.0.0.1:{PORT}/", "timeout": 2},
    "knowledge:couchbase": {"connection_string": f"couchbase://127.0.0.1:{PORT}", "username": "app", "timeout": 2},
    "knowledge:lancedb": None,  # LanceDB Cloud only (db://): no address of ours to point it at
    "knowledge:milvus": {"uri": HTTP, "timeout": 2},
    "knowledge:mongodb_vector": {"url": f"mongodb://127.0.0.1:{PORT}", "username": "app", "server_selection_timeout_ms": 500},
    "knowledge:pgvector": {"host": "127.0.0.1", "port": PORT, "user": "app", "connect_timeout": 1},
    "knowledge:pinecone": {"host": HTTP, "timeout": 2},
    "knowledge:qdrant": {"url": HTTP, "timeout": 2},
    "knowledge:redis": {"host": "127.0.0.1", "port": PORT, "socket_timeout": 1},
    "knowledge:singlestore_vector": {"host": "127.0.0.1", "port": PORT, "user": "app", "database": "db", "connect_timeout": 1},
    "knowledge:surrealdb_vector": {"url": f"ws://127.0.0.1:{PORT}", "username": "root"},
    "knowledge:upstash_vector": {"url": HTTP, "timeout": 2},
    "knowledge:valkey": {"host": "127.0.0.1", "port": PORT, "socket_timeout": 1},
    "knowledge:weaviate": {"host": "127.0.0.1", "http_port": PORT, "grpc_port": PORT + 1, "timeout": 2},
    "state:async_mongodb": {"url": f"mongodb://127.0.0.1:{PORT}", "username": "app", "server_selection_timeout_ms": 500},
    "state:dynamodb": {
        "endpoint_url": HTTP, "region_name": "us-east-1", "aws_access_key_id": "AKIDEXAMPLE", "connect_timeout": 1,
        "read_timeout": 1, "max_attempts": 1,
    },
    "state:mongodb": {"url": f"mongodb://127.0.0.1:{PORT}", "username": "app", "server_selection_timeout_ms": 500},
    "state:redis": {"host": "127.0.0.1", "port": PORT, "socket_connect_timeout": 1},
    "state:upstash": {"url": HTTP, "retries": 0},
    "state:valkey": {"host": "127.0.0.1", "port": PORT, "socket_connect_timeout": 1},
    "embedder:openai": {"base_url": HTTP, "model": "tiny", "dimension": 8, "max_retries": 0, "timeout": 2},
}  # fmt: skip
OFFLINE_OPTIONS: dict[str, dict[str, Any]] = {"knowledge:lancedb": {"uri": "db://praisonai-reliability"}}
# The async_<name> form of a knowledge backend takes its sync form's options.
for _table in (UNREACHABLE, OFFLINE_OPTIONS):
    _table.update(
        {f"knowledge:async_{label[10:]}": v for label, v in list(_table.items()) if label[:10] == "knowledge:"}
    )

SECRET_BACKENDS = [backend for backend in BUILTINS if secret_fields(load_object(backend.config))]
# One secret at a time: some configs take a token or a password, not both.
SECRET_CASES = [
    (backend, name) for backend in SECRET_BACKENDS for name in sorted(secret_fields(load_object(backend.config)))
]
REGISTRIES = {
    "conversation": CONVERSATION_STORES,
    "knowledge": KNOWLEDGE_STORES,
    "state": STATE_STORES,
    "embedder": EMBEDDERS,
}


def _label(backend: BuiltinBackend) -> str:
    return f"{backend.kind}:{backend.name}"


def _options(backend: BuiltinBackend, secret: str) -> dict[str, Any]:
    """The backend's options with ``secret`` set to the secret (a token goes without a username)."""
    options = dict(UNREACHABLE.get(_label(backend)) or OFFLINE_OPTIONS.get(_label(backend), {}))
    if secret == "token":
        options.pop("username", None)
    if secret == "additional_headers":  # a mapping of header name -> secret value
        return {**options, secret: {"X-Api-Key": SECRET}}
    return {**options, secret: SECRET}


def _case_id(case: tuple[BuiltinBackend, str]) -> str:
    return f"{_label(case[0])}:{case[1]}"


def _leaks(text: str) -> bool:
    return SECRET in text


def test_every_secret_config_is_covered() -> None:
    missing = [_label(backend) for backend in SECRET_BACKENDS if _label(backend) not in UNREACHABLE]
    assert missing == [], f"add these to UNREACHABLE in {__file__}: {missing}"


@pytest.mark.parametrize("case", SECRET_CASES, ids=_case_id)
def test_secret_never_shows_in_the_config_or_its_errors(
    case: tuple[BuiltinBackend, str], caplog: pytest.LogCaptureFixture
) -> None:
    backend, secret = case
    config_class: type[StoreConfig] = load_object(backend.config)
    options = _options(backend, secret)
    caplog.set_level(logging.DEBUG)
    config = config_class.from_options(None, options)
    for text in (repr(config), str(config), config.model_dump_json(), repr(config.model_dump()), f"{config!r:>10}"):
        assert not _leaks(text), text
    for bad in ({"not_an_option": SECRET}, {secret: [SECRET]}, {secret: SECRET, "port": "x", "timeout": "x"}):
        with pytest.raises(ConfigError) as caught:
            config_class.from_options(None, {**options, **bad})
        logging.getLogger("praisonai.reliability").exception("config failed", exc_info=caught.value)
        assert not _leaks("".join(traceback.format_exception(caught.value)))
    assert not _leaks(caplog.text)


def _first_call(store: Any, kind: str) -> Any:
    if kind == "conversation":
        return store.get_session("s")
    if kind == "knowledge":
        return store.list_collections()
    if kind == "embedder":
        return store.embed(["text"])
    return store.get("k")


def _is_async(store: Any, kind: str) -> bool:
    method = {"conversation": "get_session", "knowledge": "list_collections", "state": "get", "embedder": "embed"}[kind]
    return asyncio.iscoroutinefunction(getattr(store, method))


_FAILURES: dict[tuple[str, str], BaseException] = {}


def _fail_to_connect(backend: BuiltinBackend, secret: str) -> BaseException:
    """Open the store on the closed port with ``secret`` set and make its first call: what it raised."""
    config_class: type[StoreConfig] = load_object(backend.config)
    options = _options(backend, secret)
    store: Any = None
    failure: BaseException | None = None
    try:
        store = REGISTRIES[backend.kind].create(backend.name, **options)
        assert not _leaks(repr(store)), repr(store)
        if _is_async(store, backend.kind):

            async def call_then_close() -> None:
                try:
                    await _first_call(store, backend.kind)
                finally:
                    await store.close()

            asyncio.run(call_then_close())
        else:
            _first_call(store, backend.kind)
    except Exception as error:
        failure = error
    finally:
        if store is not None and not _is_async(store, backend.kind):
            try:
                store.close()
            except Exception as error:
                failure = failure or error
    assert failure is not None, f"{backend.name} reached something at 127.0.0.1:{PORT}"
    assert config_class is not None
    _FAILURES[(_label(backend), secret)] = failure
    return failure


CONNECTING_CASES = [case for case in SECRET_CASES if UNREACHABLE.get(_label(case[0])) is not None]


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")  # qdrant, over plain http here
@pytest.mark.parametrize("case", CONNECTING_CASES, ids=_case_id)
def test_secret_never_shows_when_the_connection_fails(
    case: tuple[BuiltinBackend, str], caplog: pytest.LogCaptureFixture, figures: Figures
) -> None:
    backend, secret = case
    if not all(driver_installed(driver) for driver in backend.drivers):
        pytest.skip(f"{backend.name}'s driver is not installed; its config is still checked above")
    caplog.set_level(logging.DEBUG)
    failure = _fail_to_connect(backend, secret)
    logging.getLogger("praisonai.reliability").error("the store failed", exc_info=failure)
    text = "".join(traceback.format_exception(failure))
    assert not _leaks(text), text
    for record in caplog.records:
        assert not _leaks(record.getMessage()), f"{record.name}: {record.getMessage()}"
    assert not _leaks(caplog.text)
    figures.record("secrets", _case_id(case), error=type(failure).__name__, log_records=len(caplog.records))


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
@pytest.mark.parametrize("case", CONNECTING_CASES, ids=_case_id)
def test_an_unreachable_server_is_our_error(case: tuple[BuiltinBackend, str]) -> None:
    """Beside the secrets: what the store raised is ours (BackendUnavailableError, or a config problem), not the driver's."""
    backend, secret = case
    if not all(driver_installed(driver) for driver in backend.drivers):
        pytest.skip(f"{backend.name}'s driver is not installed")
    failure = _FAILURES.get((_label(backend), secret)) or _fail_to_connect(backend, secret)
    assert isinstance(failure, PersistenceError), f"{backend.name} let a driver error through: {failure!r}"
