"""Async stores under cancellation, across event loops, and at interpreter exit.

- Cancellation: writes wrapped in ``asyncio.wait_for`` with timeouts from 0 to a few
  milliseconds, so they are cancelled at every stage (waiting for the connection, between
  statements, during COMMIT). Afterwards no transaction is left open: the same store and
  another store on the same data (the sync twin) write at once, every acknowledged write is
  there, and a cancelled one is there whole or not at all.
- Event loops: a store used from one ``asyncio.run`` and then another (the first loop closed).
- Exit: a process that opens an async store, writes, and never closes it exits.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.registry import CONVERSATION_STORES, STATE_STORES

from .conftest import Figures, Opener

pytestmark = pytest.mark.reliability

ASYNC_CONVERSATION = {"async_sqlite": "sqlite", "async_postgres": "postgres", "async_mysql": "mysql"}
TIMEOUTS = [0.0, 0.00001, 0.0001, 0.0005, 0.001, 0.002, 0.005, 0.02, 0.1, 1.0]
ROUNDS = 60
GUARD = 60.0  # seconds: a write blocked by a leaked transaction would wait forever; this is a hang guard


async def _cancelled_writes(store: Any, session_id: str) -> tuple[list[str], list[str]]:
    """``ROUNDS`` writes under ``wait_for`` timeouts: (acknowledged ids, cancelled ids)."""
    acknowledged: list[str] = []
    cancelled: list[str] = []
    for index in range(ROUNDS):
        batch = [
            ConversationMessage(id=f"m{index}-{part}", role="user", content=f"{index}-{part}") for part in range(3)
        ]
        try:
            await asyncio.wait_for(store.add_messages(session_id, batch), TIMEOUTS[index % len(TIMEOUTS)])
        except (asyncio.TimeoutError, asyncio.CancelledError):
            cancelled.append(f"m{index}")
        else:
            acknowledged.append(f"m{index}")
    return acknowledged, cancelled


@pytest.mark.parametrize("backend", list(ASYNC_CONVERSATION))
def test_cancelled_writes_leave_no_transaction_open(
    backend: str, open_conversation: Callable[[str], Opener], figures: Figures
) -> None:
    opener = open_conversation(backend)
    store = opener()
    extra = {"busy_timeout": 2.0} if backend == "async_sqlite" else {}
    twin = CONVERSATION_STORES.create(ASYNC_CONVERSATION[backend], **opener.options, **extra)

    async def run() -> tuple[list[str], list[str]]:
        await store.create_session(ConversationSession(session_id="s"))
        written = await _cancelled_writes(store, "s")
        # The same store goes on working...
        await asyncio.wait_for(store.add_message("s", ConversationMessage(id="after", role="user", content="x")), GUARD)
        # ...and another connection to the same data is not locked out.
        await asyncio.wait_for(
            asyncio.to_thread(twin.add_message, "s", ConversationMessage(id="twin", role="user", content="y")), GUARD
        )
        await asyncio.wait_for(asyncio.to_thread(twin.delete_messages, "s", ["twin"]), GUARD)
        return written

    acknowledged, cancelled = asyncio.run(run())
    stored = {message.id: message.content for message in twin.get_messages("s")}
    for prefix in acknowledged:
        assert all(stored[f"{prefix}-{part}"] == f"{prefix[1:]}-{part}" for part in range(3))
    for prefix in cancelled:  # all of the batch or none of it
        assert len({f"{prefix}-{part}" for part in range(3)} & stored.keys()) in (0, 3)
    assert "after" in stored
    twin.close()
    asyncio.run(store.close())
    assert cancelled, "no write was cancelled: the timeouts test nothing"
    figures.record("cancellation", backend, writes=ROUNDS, cancelled=len(cancelled), acknowledged=len(acknowledged))


@pytest.mark.parametrize("backend", list(ASYNC_CONVERSATION))
def test_a_store_works_in_a_second_event_loop(backend: str, open_conversation: Callable[[str], Opener]) -> None:
    store = open_conversation(backend)()

    async def first() -> None:
        await store.create_session(ConversationSession(session_id="s"))
        await store.add_message("s", ConversationMessage(id="1", role="user", content="one"))

    async def second() -> list[str]:
        await store.add_message("s", ConversationMessage(id="2", role="user", content="two"))
        return [message.content for message in await store.get_messages("s")]

    asyncio.run(first())
    assert asyncio.run(second()) == ["one", "two"]
    asyncio.run(store.close())


def test_async_mongodb_is_cancellation_safe_and_works_across_loops(mongodb_url: str, figures: Figures) -> None:
    store = STATE_STORES.create("async_mongodb", url=mongodb_url, database="praisonai_test", collection="cancel")

    async def first() -> int:
        cancelled = 0
        for index in range(ROUNDS):
            try:
                await asyncio.wait_for(store.hset("h", f"f{index}", index), TIMEOUTS[index % len(TIMEOUTS)])
            except asyncio.TimeoutError:
                cancelled += 1
        await store.set("k", "v")
        return cancelled

    async def second() -> tuple[Any, dict[str, Any]]:
        return await store.get("k"), await store.hgetall("h")

    async def tidy() -> None:
        await store.delete("k")
        await store.delete("h")
        await store.close()

    cancelled = asyncio.run(first())
    value, fields = asyncio.run(second())
    assert value == "v"
    assert all(fields[name] == int(name[1:]) for name in fields)
    asyncio.run(tidy())
    figures.record("cancellation", "async_mongodb", writes=ROUNDS, cancelled=cancelled)


def test_an_async_sqlite_store_never_closed_does_not_hold_up_exit(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio
        from praisonai.persistence.registry import CONVERSATION_STORES
        from praisonai.persistence.conversation.base import ConversationSession

        store = CONVERSATION_STORES.create("async_sqlite", path={str(tmp_path / "c.db")!r})
        asyncio.run(store.create_session(ConversationSession(session_id="s")))
        print("written")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=GUARD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "written"
