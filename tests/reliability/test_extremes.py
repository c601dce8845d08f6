"""Extreme values on every conversation and state backend: stored exactly, or refused clearly.

Numbers beyond int64 and float64 (up to ``10**5000``) in values, metadata and tool calls;
limits and offsets up to ``10**30`` (``sys.maxsize``, ``2**63``); TTLs from a minute
to ``1e300`` seconds; ids of backslashes and quotes; values over an engine's size limit
(a 40 MiB MySQL message, a 17 MiB MongoDB document). For each call (hypothesis, seeded):

- it works and reading back gives exactly what was written, or
- it raises :class:`InvalidInputError` naming the backend, and nothing changed;
- any other error must be a :class:`PersistenceError` naming the backend, never a
  :class:`BackendUnavailableError` (the servers are up: no retry would help), and
  never a raw driver exception.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from praisonai.persistence._values import MAX_TTL
from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.errors import BackendUnavailableError, InvalidInputError, PersistenceError

from .conftest import Figures, Opener, sync_view
from .strategies import extreme_counts, extreme_numbers, extreme_ttls, quoted_ids
from .test_hostile_input import (  # noqa: F401  (the state_under_test fixture)
    STATE_BACKENDS,
    StateUnderTest,
    Tally,
    _SyncState,
    state_under_test,
)

pytestmark = pytest.mark.reliability

CONVERSATION_BACKENDS = {  # examples per backend
    "sqlite": 60,
    "async_sqlite": 40,
    "json": 60,
    "turso": 40,
    "surrealdb": 30,
    "postgres": 50,
    "async_postgres": 30,
    "mysql": 50,
    "async_mysql": 30,
}
STATE_EXAMPLES = 25


def _settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def attempt(call: Callable[[], Any], backend: str) -> tuple[bool, Any]:
    """(True, result) when ``call`` works; (False, error) when refused as the docstring allows; else fail."""
    failure: PersistenceError | None = None
    try:
        return True, call()
    except PersistenceError as error:
        failure = error
    assert not isinstance(failure, BackendUnavailableError), f"a retry cannot help here: {failure}"
    assert getattr(failure, "backend", None) == backend and f"[{backend}]" in str(failure), str(failure)[:300]
    return False, failure


@pytest.mark.parametrize("backend", list(CONVERSATION_BACKENDS))
def test_conversation_extremes(backend: str, open_conversation: Callable[[str], Opener], figures: Figures) -> None:
    store = sync_view(open_conversation(backend)())
    tally = Tally()

    @_settings(CONVERSATION_BACKENDS[backend])
    @given(session_id=quoted_ids(), number=extreme_numbers(), count=extreme_counts())
    def check(session_id: str, number: Any, count: int) -> None:
        session = ConversationSession(session_id=session_id, state={"n": [number]}, metadata={"n": number})
        ok, _ = attempt(lambda: store.create_session(session), backend)
        if not ok:
            tally.refused += 1
            if attempt(lambda: store.get_session(session_id), backend)[0]:
                assert store.get_session(session_id) is None, "a refused session was stored"
            return
        try:
            loaded = store.get_session(session_id)
            assert loaded is not None and (loaded.state, loaded.metadata) == ({"n": [number]}, {"n": number})
            message = ConversationMessage(
                id=session_id, role="tool", content=session_id, tool_calls=[{"n": number}], metadata={"n": number}
            )
            ok, _ = attempt(lambda: store.add_message(session_id, message), backend)
            if ok:
                assert [m.to_dict() for m in store.get_messages(session_id)] == [message.to_dict()]
                tally.stored += 1
            else:
                assert store.get_messages(session_id) == [], "a refused message was stored"
                tally.refused += 1
            # Huge counts mean "all" (a limit) and "past the end" (an offset).
            assert session_id in [s.session_id for s in store.list_sessions(limit=count)]
            assert store.list_sessions(limit=count, offset=count) == []
            assert len(store.get_messages(session_id, limit=count)) == (1 if ok else 0)
        finally:
            assert store.delete_session(session_id) is True

    with contextlib.closing(store):
        check()
    figures.record("extremes", backend, examples=tally.examples, stored=tally.stored, refused=tally.refused)


@pytest.mark.parametrize("state_under_test", list(STATE_BACKENDS), indirect=True)
def test_state_extremes(state_under_test: tuple[str, StateUnderTest], figures: Figures) -> None:  # noqa: F811
    backend, opened = state_under_test
    raw_store = opened.store
    store: Any = _SyncState(raw_store) if asyncio.iscoroutinefunction(raw_store.get) else raw_store
    name = raw_store.backend
    tally = Tally()

    @_settings(STATE_EXAMPLES)
    @given(key=quoted_ids(), number=extreme_numbers(), ttl=st.one_of(st.none(), extreme_ttls()))
    def check(key: str, number: Any, ttl: float | None) -> None:
        value = {"n": number, "list": [number]}
        ok, _ = attempt(lambda: store.set(key, value, ttl=ttl), name)
        if not ok:
            tally.refused += 1
            assert store.get(key) is None, "a refused value was stored"
        else:
            tally.stored += 1
            try:
                assert store.get(key) == value
                remaining = store.ttl(key)
                if ttl is None:
                    assert remaining is None
                else:
                    assert ttl <= MAX_TTL and remaining is not None and abs(remaining - ttl) <= 2
            finally:
                store.delete(key)
        store.hset("h:" + key, "f", 1)
        try:
            ok, _ = attempt(lambda: store.hset("h:" + key, "n", number), name)
            assert store.hgetall("h:" + key) == ({"f": 1, "n": number} if ok else {"f": 1})
            if ttl is not None:
                ok, _ = attempt(lambda: store.expire("h:" + key, ttl), name)
                assert ok == (ttl <= MAX_TTL)
                assert (store.ttl("h:" + key) is None) != ok
        finally:
            store.delete("h:" + key)

    with contextlib.closing(store):
        check()
        assert not store.keys(), "an example left a key behind"
    opened.check_canary()
    label = "memory (snapshot file)" if backend == "memory_snapshot" else name
    figures.record("extremes", label, examples=STATE_EXAMPLES, stored=tally.stored, refused=tally.refused)


# -- values over an engine's size limit ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["mysql", "async_mysql"])
def test_a_message_over_max_allowed_packet_is_invalid_input(
    backend: str, open_conversation: Callable[[str], Opener]
) -> None:
    store = sync_view(open_conversation(backend)())
    store.create_session(ConversationSession(session_id="s"))
    huge = ConversationMessage(id="big", role="user", content="x" * (40 * 1024 * 1024))
    with pytest.raises(InvalidInputError) as caught:
        store.add_message("s", huge)
    assert caught.value.backend == backend and "max_allowed_packet" in str(caught.value)
    assert store.get_messages("s") == []
    store.add_message("s", ConversationMessage(id="small", role="user", content="fits"))
    assert [m.id for m in store.get_messages("s")] == ["small"]
    store.close()


@pytest.mark.parametrize("state_under_test", ["mongodb", "async_mongodb"], indirect=True)
def test_a_value_over_the_mongodb_document_limit_is_invalid_input(
    state_under_test: tuple[str, StateUnderTest],  # noqa: F811
) -> None:
    _, opened = state_under_test
    raw_store = opened.store
    store: Any = _SyncState(raw_store) if asyncio.iscoroutinefunction(raw_store.get) else raw_store
    try:
        with pytest.raises(InvalidInputError) as caught:
            store.set("big", "x" * (17 * 1024 * 1024))
        assert caught.value.backend == raw_store.backend and "16 MiB" in str(caught.value)
        assert store.get("big") is None
        store.set("big", "fits")
        assert store.get("big") == "fits"
        store.delete("big")
    finally:
        store.close()
