"""Observability: the ``praisonai.persistence`` logger (slow calls, lost connections, retries, plugins)
and OpenTelemetry spans for store calls, with the database client semantic conventions."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from praisonai.persistence import _observe
from praisonai.persistence.errors import BackendUnavailableError, NotFoundError
from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES, StateStoreRegistry

from .test_plugins import site, write_distribution  # noqa: F401 (site is a fixture)

LOGGER = "praisonai.persistence"


@pytest.fixture
def threshold() -> Iterator[None]:
    before = _observe.slow_call_threshold()
    yield
    _observe.set_slow_call_threshold(before)


def test_slow_calls_are_logged_with_backend_and_operation(threshold: None, caplog: pytest.LogCaptureFixture) -> None:
    store = STATE_STORES.create("memory")
    caplog.set_level(logging.WARNING, logger=LOGGER)
    store.set("k", 1)
    assert not caplog.records  # no threshold: nothing observed
    _observe.set_slow_call_threshold(0.0)
    store.set("k", 2)
    assert store.get("k") == 2
    messages = [record.getMessage() for record in caplog.records if record.name == LOGGER]
    assert any(m.startswith("memory: slow call set took") for m in messages), messages
    assert any(m.startswith("memory: slow call get took") for m in messages), messages
    caplog.clear()
    _observe.set_slow_call_threshold(3600.0)
    store.get("k")
    assert not caplog.records  # fast calls stay quiet
    _observe.set_slow_call_threshold(None)
    assert not _observe.active or _observe.state.tracer is not None


def test_slow_call_operation_is_the_public_method_not_a_private_helper(
    threshold: None, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from praisonai.persistence.conversation.base import ConversationSession

    store = CONVERSATION_STORES.create("sqlite", path=str(tmp_path / "c.db"))
    caplog.set_level(logging.WARNING, logger=LOGGER)
    _observe.set_slow_call_threshold(0.0)
    store.create_session(ConversationSession(session_id="s"))
    operations = {record.getMessage().split()[3] for record in caplog.records if "slow call" in record.getMessage()}
    assert "create_session" in operations
    assert not any(name.startswith("_") for name in operations), operations
    store.close()


def test_errors_still_translate_under_observation(threshold: None) -> None:
    store = KNOWLEDGE_STORES.create("memory")
    _observe.set_slow_call_threshold(0.0)
    with pytest.raises(NotFoundError) as error:
        store.search("missing", [1.0, 0.0])
    assert error.value.backend == "memory"


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_threshold_must_be_a_non_negative_number(bad: float) -> None:
    with pytest.raises(ValueError, match="slow-call threshold"):
        _observe.set_slow_call_threshold(bad)


def test_unreachable_engine_is_logged_with_the_password_masked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    store = STATE_STORES.create("redis", url="redis://:hunter2secret@127.0.0.1:1/0", socket_timeout=0.5)
    with pytest.raises(BackendUnavailableError):
        store.get("k")
    text = "\n".join(record.getMessage() for record in caplog.records if record.name == LOGGER)
    assert "redis: engine unreachable" in text
    assert "hunter2secret" not in text
    store.close()


def test_broken_plugins_are_logged(site: Path, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    write_distribution(
        site,
        "exploding_plugin",
        """
        [praisonai.state_stores]
        exploding = exploding_plugin:create
        """,
        "raise RuntimeError('plugin exploded on import')\n",
    )
    caplog.set_level(logging.WARNING, logger=LOGGER)
    registry = StateStoreRegistry("state", "praisonai.state_stores")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        registry.list_registered()
    text = "\n".join(record.getMessage() for record in caplog.records if record.name == LOGGER)
    assert "'exploding'" in text and "plugin exploded on import" in text


SPANS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES
    from praisonai.persistence.knowledge.base import KnowledgeDocument
    from praisonai.persistence.errors import NotFoundError

    state = STATE_STORES.create("memory")
    state.set("before", 1)  # no tracer configured yet: no span
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    state.set("unseen", 1)  # the stores' first calls look for a tracer: none made since, so no span yet
    knowledge = KNOWLEDGE_STORES.create("memory")
    knowledge.create_collection("docs", 2)  # a first call: it finds the tracer, and every store is traced
    state.set("k", 1)
    knowledge.insert("docs", [KnowledgeDocument(id="a", content="x", embedding=[1.0, 0.0])])
    try:
        knowledge.search("nope", [1.0, 0.0])
    except NotFoundError:
        pass
    conversation = CONVERSATION_STORES.create("postgres", url=sys.argv[1])
    try:
        conversation.get_session("s")
    finally:
        conversation.close()
    spans = [
        {"name": s.name, "kind": s.kind.name, "attributes": dict(s.attributes), "status": s.status.status_code.name,
         "events": [e.name for e in s.events]}
        for s in exporter.get_finished_spans()
    ]
    print(json.dumps(spans))
    """
)


def test_store_calls_are_spans_with_database_semantic_conventions(tmp_path: Path, postgres_url: str) -> None:
    pytest.importorskip("opentelemetry.sdk")
    script = tmp_path / "spans.py"
    script.write_text(SPANS_SCRIPT)
    completed = subprocess.run(
        [sys.executable, str(script), postgres_url], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    spans = json.loads(completed.stdout.strip().splitlines()[-1])
    by_operation: dict[str, list[dict[str, object]]] = {}
    for span in spans:
        attributes = span["attributes"]
        assert isinstance(attributes, dict)
        by_operation.setdefault(str(attributes["db.operation.name"]), []).append(span)
        assert span["kind"] == "CLIENT"
    assert "before" not in json.dumps(spans) and len(by_operation["set"]) == 1
    (state_set,) = [s for s in by_operation["set"] if s["attributes"]["db.system.name"] == "memory"]  # type: ignore[index]
    assert state_set["name"] == "set" and state_set["status"] == "UNSET"
    (insert,) = by_operation["insert"]
    assert insert["name"] == "insert docs"
    assert insert["attributes"] == {
        "db.system.name": "memory",
        "db.operation.name": "insert",
        "db.collection.name": "docs",
    }
    (search,) = by_operation["search"]
    assert search["status"] == "ERROR" and "exception" in search["events"]  # type: ignore[operator]
    assert search["attributes"]["error.type"] == "NotFoundError"  # type: ignore[index]
    postgres_spans = [s for s in by_operation["get_session"] if s["attributes"]["db.system.name"] == "postgresql"]  # type: ignore[index]
    assert postgres_spans
    assert postgres_spans[0]["attributes"]["server.address"] == "127.0.0.1"  # type: ignore[index]
    assert not any(name.startswith("_") for name in by_operation)
