"""Checks every SQL server conversation store must pass, beyond the contract suite.

Each comes in a sync and an async flavour; a backend's test module calls them with
its own way of opening a store and of reaching the server behind its back.

- hostile strings through every string input are stored as data, never run as SQL;
- after the server drops every connection (as a restart does), the next call works;
- while the server is unreachable, calls raise BackendUnavailableError (a
  ConnectionError naming the backend), and the store works again once it is back;
- a write whose connection is lost before COMMIT leaves nothing behind.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from praisonai.persistence.conversation.base import (
    AsyncConversationStore,
    ConversationMessage,
    ConversationSession,
    ConversationStore,
)
from praisonai.persistence.errors import BackendUnavailableError
from tests.support.tcp_proxy import TcpProxy

HOSTILE = (
    "x'); DROP TABLE canary; --",
    'x"); DROP TABLE canary; --',
    "x`; DROP TABLE canary; #",
    "\\'; DROP TABLE canary; /*",
    "$1; DROP TABLE canary; $2",
    "%s %(name)s %% ?",
    "' OR '1'='1",
    "1) OR (1=1",
    'a,b.c:(d)"e\\f',
    "😀 𝔘 \u200b",
)
SECRET = "n0t-a-real-pa55word"


def _session(text: str, index: int, **fields: Any) -> ConversationSession:
    base: dict[str, Any] = {
        "session_id": f"{text}#{index}",
        "user_id": text,
        "agent_id": text,
        "name": text,
        "state": {text: [text]},
        "metadata": {"k": text},
    }
    base.update(fields)
    return ConversationSession(**base)


def _messages(text: str) -> list[ConversationMessage]:
    return [
        ConversationMessage(
            id=text,
            role=text,
            content=text,
            tool_calls=[{"id": text, "function": {"name": text, "arguments": text}}],
            tool_call_id=text,
            metadata={text: text},
            created_at=1.0,
        ),
        ConversationMessage(id=text + "-2", role=text, content=text, created_at=2.0),
    ]


def exercise_hostile_inputs(store: ConversationStore) -> None:
    for index, text in enumerate(HOSTILE):
        session = store.create_session(_session(text, index))
        session_id = session.session_id
        store.update_session(_session(text, index, name=text + "!"))
        store.upsert_session(_session(text, index, name=text + "?"))
        first, second = _messages(text)
        store.add_message(session_id, first)
        store.add_messages(session_id, [second])
        loaded = store.get_session(session_id)
        assert loaded is not None
        assert (loaded.user_id, loaded.name, loaded.state, loaded.metadata) == (
            text,
            text + "?",
            {text: [text]},
            {"k": text},
        )
        assert [s.session_id for s in store.list_sessions(user_id=text, agent_id=text, limit=5, offset=0)] == [
            session_id
        ]
        got = store.get_messages(session_id, limit=5, before=3.0, after=0.5)
        assert [m.to_dict() for m in got] == [m.to_dict() for m in (first, second)]
        assert store.delete_messages(session_id, [text, "no' OR '1'='1"]) == 1
        assert store.delete_session(session_id) is True


async def exercise_hostile_inputs_async(store: AsyncConversationStore) -> None:
    for index, text in enumerate(HOSTILE):
        session = await store.create_session(_session(text, index))
        session_id = session.session_id
        await store.update_session(_session(text, index, name=text + "!"))
        await store.upsert_session(_session(text, index, name=text + "?"))
        first, second = _messages(text)
        await store.add_message(session_id, first)
        await store.add_messages(session_id, [second])
        loaded = await store.get_session(session_id)
        assert loaded is not None
        assert (loaded.user_id, loaded.name, loaded.state) == (text, text + "?", {text: [text]})
        listed = await store.list_sessions(user_id=text, agent_id=text, limit=5, offset=0)
        assert [s.session_id for s in listed] == [session_id]
        got = await store.get_messages(session_id, limit=5, before=3.0, after=0.5)
        assert [m.to_dict() for m in got] == [m.to_dict() for m in (first, second)]
        assert await store.delete_messages(session_id, [text, "no' OR '1'='1"]) == 1
        assert await store.delete_session(session_id) is True


def _note(session_id: str, content: str, created_at: float) -> ConversationMessage:
    return ConversationMessage(role="user", content=content, created_at=created_at, session_id=session_id)


def check_reconnects_after_connections_dropped(store: ConversationStore, drop: Callable[[], int]) -> None:
    """``drop`` kills every connection of the store on the server's side and returns how many."""
    store.create_session(ConversationSession(session_id="s"))
    barrier = threading.Barrier(4)

    def busy() -> None:  # several connections in the pool, all of which will be dead
        barrier.wait()
        store.get_messages("s")

    threads = [threading.Thread(target=busy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert drop() >= 1
    assert store.get_session("s") is not None  # a read, first call after the drop
    assert drop() >= 1
    store.add_message("s", _note("s", "after drop", 1.0))  # a write, first call after the drop
    assert [m.content for m in store.get_messages("s")] == ["after drop"]


async def check_reconnects_after_connections_dropped_async(
    store: AsyncConversationStore, drop: Callable[[], Awaitable[int]]
) -> None:
    import asyncio

    await store.create_session(ConversationSession(session_id="s"))
    await asyncio.gather(*(store.get_messages("s") for _ in range(4)))
    assert await drop() >= 1
    assert await store.get_session("s") is not None
    assert await drop() >= 1
    await store.add_message("s", _note("s", "after drop", 1.0))
    assert [m.content for m in await store.get_messages("s")] == ["after drop"]


def _assert_unavailable(error: BaseException, backend: str) -> None:
    assert isinstance(error, ConnectionError)
    assert isinstance(error, BackendUnavailableError)
    assert error.backend == backend
    assert f"[{backend}]" in str(error)
    assert SECRET not in str(error)


def check_outage(store: ConversationStore, proxy: TcpProxy, backend: str) -> None:
    """``store`` connects through ``proxy``; stopping the proxy is the outage."""
    store.create_session(ConversationSession(session_id="s"))
    store.add_message("s", _note("s", "before", 1.0))
    proxy.stop()
    for call in (
        lambda: store.get_session("s"),
        lambda: store.add_message("s", _note("s", "during", 2.0)),
        lambda: store.add_messages("s", [_note("s", "during-batch", 2.5)]),
        lambda: store.list_sessions(),
    ):
        with pytest.raises(ConnectionError) as caught:
            call()
        _assert_unavailable(caught.value, backend)
        assert "127.0.0.1" in str(caught.value)
    proxy.start()
    store.add_message("s", _note("s", "after", 3.0))
    assert [m.content for m in store.get_messages("s")] == ["before", "after"]


async def check_outage_async(store: AsyncConversationStore, proxy: TcpProxy, backend: str) -> None:
    await store.create_session(ConversationSession(session_id="s"))
    await store.add_message("s", _note("s", "before", 1.0))
    proxy.stop()
    for call in (
        lambda: store.get_session("s"),
        lambda: store.add_message("s", _note("s", "during", 2.0)),
        lambda: store.list_sessions(),
    ):
        with pytest.raises(ConnectionError) as caught:
            await call()
        _assert_unavailable(caught.value, backend)
    proxy.start()
    await store.add_message("s", _note("s", "after", 3.0))
    assert [m.content for m in await store.get_messages("s")] == ["before", "after"]


def check_lost_commit_leaves_nothing(store: ConversationStore, proxy: TcpProxy, backend: str) -> None:
    """The connection drops as the store sends COMMIT: the batch must not be half there."""
    store.create_session(ConversationSession(session_id="s"))
    proxy.cut_on(b"COMMIT")
    batch = [_note("s", f"lost-{index}", float(index)) for index in range(5)]
    with pytest.raises(ConnectionError) as caught:
        store.add_messages("s", batch)
    assert proxy.triggered.is_set()
    _assert_unavailable(caught.value, backend)
    assert "may or may not have been applied" in str(caught.value)
    assert store.get_messages("s") == []
    proxy.cut_on(b"COMMIT")
    with pytest.raises(ConnectionError):
        store.add_message("s", _note("s", "lost-single", 9.0))
    assert store.get_messages("s") == []
    store.add_messages("s", batch)
    assert len(store.get_messages("s")) == 5


async def check_lost_commit_leaves_nothing_async(store: AsyncConversationStore, proxy: TcpProxy, backend: str) -> None:
    await store.create_session(ConversationSession(session_id="s"))
    proxy.cut_on(b"COMMIT")
    batch = [_note("s", f"lost-{index}", float(index)) for index in range(5)]
    with pytest.raises(ConnectionError) as caught:
        await store.add_messages("s", batch)
    assert proxy.triggered.is_set()
    _assert_unavailable(caught.value, backend)
    assert await store.get_messages("s") == []
    await store.add_messages("s", batch)
    assert len(await store.get_messages("s")) == 5


def check_unreachable_at_open(open_store: Callable[[], object], backend: str) -> None:
    """Opening a store on a port nobody listens on: a ConnectionError without the password in it."""
    with pytest.raises(ConnectionError) as caught:
        open_store()
    _assert_unavailable(caught.value, backend)


def closed_port() -> int:
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port
