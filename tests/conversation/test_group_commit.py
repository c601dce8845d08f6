"""Group commit of the sqlite, async_sqlite and json stores (conversation/_group_commit.py), without timing.

A wrapped connection (sqlite, async_sqlite) or commit step (json) holds the first
commit open until the test releases it, so the writes started meanwhile are known to
be queued together behind it; the tests then check what each call returned or
raised, what is stored, and in which order the commits and the returns happened.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation import json as json_module
from praisonai.persistence.conversation.async_sqlite import AsyncSqliteConversationStore
from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.conversation.json import JsonConversationStore
from praisonai.persistence.conversation.sqlite import SqliteConversationStore
from praisonai.persistence.errors import AlreadyExistsError, EngineError, StoreError
from praisonai.persistence.registry import CONVERSATION_STORES


class HeldCommits:
    """A connection whose commits are logged, the first one held until ``release``, later ones may fail."""

    def __init__(self, connection: sqlite3.Connection, log: list[str]) -> None:
        self._connection = connection
        self.log = log
        self.commits = 0
        self.in_first_commit = threading.Event()
        self.release = threading.Event()
        self.fail_commit: int | None = None  # the number of the commit that raises
        self.statements: list[str] = []

    def execute(self, sql: str, *args: Any) -> Any:
        self.statements.append(sql)
        if sql == "COMMIT":
            self.commits += 1
            number = self.commits
            if number == 1:
                self.in_first_commit.set()
                assert self.release.wait(30)
            if number == self.fail_commit:
                self.log.append(f"commit {number} failed")
                raise sqlite3.OperationalError("disk I/O error")
            result = self._connection.execute(sql, *args)
            self.log.append(f"commit {number}")
            return result
        return self._connection.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteConversationStore]:
    opened = CONVERSATION_STORES.create("sqlite", path=str(tmp_path / "group.db"))
    assert isinstance(opened, SqliteConversationStore)
    opened.create_session(ConversationSession(session_id="s"))
    yield opened
    opened.close()


def _message(text: str, message_id: str | None = None) -> ConversationMessage:
    message = ConversationMessage(role="user", content=text)
    if message_id is not None:
        message.id = message_id
    return message


class Calls:
    """Threads running store calls; each records its outcome and, in ``log``, when it returned."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.outcomes: dict[str, Any] = {}
        self.threads: list[threading.Thread] = []

    def start(self, name: str, call: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                self.outcomes[name] = call()
            except Exception as error:
                self.outcomes[name] = error
            self.log.append(f"returned {name}")

        thread = threading.Thread(target=run, name=name)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(30)
            assert not thread.is_alive()


def _queued(store: SqliteConversationStore | JsonConversationStore, count: int) -> None:
    """Wait until ``count`` writes wait behind the held commit (a synchronisation, not a timing check)."""
    committer = store._committer
    assert committer is not None
    deadline = time.monotonic() + 30
    while len(committer._queue) < count:
        assert time.monotonic() < deadline, "the writes never queued"
        time.sleep(0.001)


def _hold_first_commit(store: SqliteConversationStore, calls: Calls) -> HeldCommits:
    held = HeldCommits(store._connection, calls.log)
    store._connection = held
    calls.start("first", lambda: store.add_message("s", _message("first")))
    assert held.in_first_commit.wait(30)
    return held


def test_writes_queued_during_a_commit_share_the_next_one(store: SqliteConversationStore) -> None:
    log: list[str] = []
    calls = Calls(log)
    held = _hold_first_commit(store, calls)
    calls.start("a", lambda: store.add_message("s", _message("a")))
    calls.start("b", lambda: store.add_message("s", _message("b")))
    calls.start("c", lambda: store.add_messages("s", [_message("c1"), _message("c2")]))
    _queued(store, 3)
    assert [entry for entry in log if entry.startswith("returned")] == []  # nobody returns before its commit
    held.release.set()
    calls.join()
    assert held.commits == 2  # the first write's commit, then one for the three queued writes
    assert not any("SAVEPOINT" in sql for sql in held.statements)  # no write failed: no savepoints
    assert all(isinstance(outcome, (ConversationMessage, list)) for outcome in calls.outcomes.values())
    store._connection = held._connection
    assert sorted(m.content for m in store.get_messages("s")) == ["a", "b", "c1", "c2", "first"]
    # Each call returned after the commit holding its write.
    assert log.index("returned first") > log.index("commit 1")
    for name in ("a", "b", "c"):
        assert log.index(f"returned {name}") > log.index("commit 2")


def test_a_failing_write_fails_alone_and_a_batch_stays_whole(store: SqliteConversationStore) -> None:
    store.add_message("s", _message("taken", "dup"))
    log: list[str] = []
    calls = Calls(log)
    held = _hold_first_commit(store, calls)
    calls.start("a", lambda: store.add_message("s", _message("a")))
    # The batch's second message reuses an id: the whole batch must be refused, the rest of the group kept.
    calls.start("batch", lambda: store.add_messages("s", [_message("b1"), _message("b2", "dup"), _message("b3")]))
    calls.start("orphan", lambda: store.add_message("missing-session", _message("o")))
    calls.start("c", lambda: store.add_message("s", _message("c")))
    _queued(store, 4)
    held.release.set()
    calls.join()
    assert held.commits == 2
    assert "SAVEPOINT praisonai_write" in held.statements  # the group ran again, a savepoint per write
    assert isinstance(calls.outcomes["batch"], AlreadyExistsError)
    assert isinstance(calls.outcomes["orphan"], StoreError)
    assert isinstance(calls.outcomes["a"], ConversationMessage)
    assert isinstance(calls.outcomes["c"], ConversationMessage)
    store._connection = held._connection
    assert sorted(m.content for m in store.get_messages("s")) == ["a", "c", "first", "taken"]


def test_a_failed_group_commit_fails_every_write_in_it(store: SqliteConversationStore) -> None:
    log: list[str] = []
    calls = Calls(log)
    held = _hold_first_commit(store, calls)
    held.fail_commit = 2
    calls.start("a", lambda: store.add_message("s", _message("a")))
    calls.start("b", lambda: store.add_messages("s", [_message("b1"), _message("b2")]))
    calls.start("c", lambda: store.update_session(ConversationSession(session_id="s", name="renamed")))
    _queued(store, 3)
    held.release.set()
    calls.join()
    assert isinstance(calls.outcomes["first"], ConversationMessage)
    for name in ("a", "b", "c"):
        outcome = calls.outcomes[name]
        assert isinstance(outcome, EngineError), outcome
        assert "disk I/O error" in str(outcome)
    assert len({id(calls.outcomes[name]) for name in ("a", "b", "c")}) == 3  # each caller its own error object
    store._connection = held._connection
    assert [m.content for m in store.get_messages("s")] == ["first"]
    session = store.get_session("s")
    assert session is not None and session.name != "renamed"
    # The store keeps working after the failed commit.
    store.add_message("s", _message("after"))
    assert [m.content for m in store.get_messages("s")][-1] == "after"


def test_a_lone_writer_runs_without_savepoints(store: SqliteConversationStore) -> None:
    statements: list[str] = []
    store._connection.set_trace_callback(statements.append)
    store.add_message("s", _message("alone"))
    store._connection.set_trace_callback(None)
    assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
    assert not any("SAVEPOINT" in statement for statement in statements)


# -- async_sqlite: tasks queue their writes for the worker thread, which drains them as one group ------------


@pytest.fixture
async def async_store(tmp_path: Path) -> Any:
    opened = CONVERSATION_STORES.create("async_sqlite", path=str(tmp_path / "group-async.db"))
    assert isinstance(opened, AsyncSqliteConversationStore)
    await opened.create_session(ConversationSession(session_id="s"))
    yield opened
    await opened.close()


class Tasks:
    """Tasks running async store calls; each records its outcome and, in ``log``, when it returned."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.outcomes: dict[str, Any] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, call: Callable[[], Any]) -> None:
        async def run() -> None:
            try:
                self.outcomes[name] = await call()
            except Exception as error:
                self.outcomes[name] = error
            self.log.append(f"returned {name}")

        self.tasks[name] = asyncio.ensure_future(run())

    async def join(self) -> None:
        await asyncio.wait_for(asyncio.gather(*self.tasks.values(), return_exceptions=True), 30)


async def _queued_async(store: AsyncSqliteConversationStore, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(store._writes) < count:
        assert time.monotonic() < deadline, "the writes never queued"
        await asyncio.sleep(0.001)


async def _hold_first_async_commit(store: AsyncSqliteConversationStore, tasks: Tasks) -> HeldCommits:
    assert store._store is not None
    held = HeldCommits(store._store._connection, tasks.log)
    store._store._connection = held
    tasks.start("first", lambda: store.add_message("s", _message("first")))
    assert await asyncio.to_thread(held.in_first_commit.wait, 30)
    return held


async def _contents(store: AsyncSqliteConversationStore, held: HeldCommits) -> list[str]:
    assert store._store is not None
    store._store._connection = held._connection
    return sorted(m.content for m in await store.get_messages("s"))


async def test_async_writes_queued_during_a_commit_share_the_next_one(
    async_store: AsyncSqliteConversationStore,
) -> None:
    log: list[str] = []
    tasks = Tasks(log)
    held = await _hold_first_async_commit(async_store, tasks)
    tasks.start("a", lambda: async_store.add_message("s", _message("a")))
    tasks.start("b", lambda: async_store.add_message("s", _message("b")))
    tasks.start("c", lambda: async_store.add_messages("s", [_message("c1"), _message("c2")]))
    await _queued_async(async_store, 3)
    assert [entry for entry in log if entry.startswith("returned")] == []
    held.release.set()
    await tasks.join()
    assert held.commits == 2  # the first write's commit, then one for the three queued writes
    assert all(isinstance(outcome, (ConversationMessage, list)) for outcome in tasks.outcomes.values())
    assert await _contents(async_store, held) == ["a", "b", "c1", "c2", "first"]
    assert log.index("returned first") > log.index("commit 1")
    for name in ("a", "b", "c"):
        assert log.index(f"returned {name}") > log.index("commit 2")


async def test_async_failing_write_fails_alone_and_a_batch_stays_whole(
    async_store: AsyncSqliteConversationStore,
) -> None:
    await async_store.add_message("s", _message("taken", "dup"))
    tasks = Tasks([])
    held = await _hold_first_async_commit(async_store, tasks)
    tasks.start("a", lambda: async_store.add_message("s", _message("a")))
    tasks.start("batch", lambda: async_store.add_messages("s", [_message("b1"), _message("b2", "dup")]))
    tasks.start("orphan", lambda: async_store.add_message("missing-session", _message("o")))
    tasks.start("c", lambda: async_store.add_message("s", _message("c")))
    await _queued_async(async_store, 4)
    held.release.set()
    await tasks.join()
    assert held.commits == 2
    assert isinstance(tasks.outcomes["batch"], AlreadyExistsError)
    assert isinstance(tasks.outcomes["orphan"], StoreError)
    assert isinstance(tasks.outcomes["a"], ConversationMessage)
    assert isinstance(tasks.outcomes["c"], ConversationMessage)
    assert await _contents(async_store, held) == ["a", "c", "first", "taken"]


async def test_async_failed_group_commit_fails_every_write_in_it(async_store: AsyncSqliteConversationStore) -> None:
    tasks = Tasks([])
    held = await _hold_first_async_commit(async_store, tasks)
    held.fail_commit = 2
    tasks.start("a", lambda: async_store.add_message("s", _message("a")))
    tasks.start("b", lambda: async_store.add_messages("s", [_message("b1"), _message("b2")]))
    tasks.start("c", lambda: async_store.update_session(ConversationSession(session_id="s", name="renamed")))
    await _queued_async(async_store, 3)
    held.release.set()
    await tasks.join()
    assert isinstance(tasks.outcomes["first"], ConversationMessage)
    for name in ("a", "b", "c"):
        outcome = tasks.outcomes[name]
        assert isinstance(outcome, EngineError), outcome
        assert "disk I/O error" in str(outcome)
    assert len({id(tasks.outcomes[name]) for name in ("a", "b", "c")}) == 3
    assert await _contents(async_store, held) == ["first"]
    session = await async_store.get_session("s")
    assert session is not None and session.name != "renamed"
    await async_store.add_message("s", _message("after"))
    assert [m.content for m in await async_store.get_messages("s")][-1] == "after"


async def test_async_cancelled_queued_write_is_dropped(async_store: AsyncSqliteConversationStore) -> None:
    tasks = Tasks([])
    held = await _hold_first_async_commit(async_store, tasks)
    tasks.start("kept", lambda: async_store.add_message("s", _message("kept")))
    tasks.start("cancelled", lambda: async_store.add_message("s", _message("cancelled")))
    await _queued_async(async_store, 2)
    tasks.tasks["cancelled"].cancel()
    held.release.set()
    await tasks.join()
    assert "cancelled" not in tasks.outcomes
    assert await _contents(async_store, held) == ["first", "kept"]


async def test_async_lone_writer_runs_without_savepoints(async_store: AsyncSqliteConversationStore) -> None:
    assert async_store._store is not None
    statements: list[str] = []
    async_store._store._connection.set_trace_callback(statements.append)
    await async_store.add_message("s", _message("alone"))
    async_store._store._connection.set_trace_callback(None)
    assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
    assert not any("SAVEPOINT" in statement for statement in statements)


# -- json: the writes of a group append their lines, then one flush per message file --------------------------


class HeldGroups:
    """Wraps a json store's group commit: logged, the first held until ``release``, one may be made to fail."""

    def __init__(self, store: JsonConversationStore, log: list[str]) -> None:
        self.store = store
        self.log = log
        self.commits = 0
        self.sizes: list[int] = []
        self.in_first_commit = threading.Event()
        self.release = threading.Event()
        self.fail_commit: int | None = None  # this commit's flush of its second message file fails
        self._inner = store._committer._commit
        store._committer._commit = self

    def __call__(self, group: list[Any]) -> None:
        self.commits += 1
        number = self.commits
        self.sizes.append(len(group))
        if number == 1:
            self.in_first_commit.set()
            assert self.release.wait(30)
        flushed: list[int] = []

        def flush_then_fail(fd: int) -> None:
            if flushed:  # the first file was flushed whole: the failure must cut it back too
                raise OSError(28, "No space left on device")
            real_flush(fd)
            flushed.append(fd)

        real_flush = json_module.flush_data
        if number == self.fail_commit:
            json_module.flush_data = flush_then_fail
        try:
            self._inner(group)
        except BaseException:
            self.log.append(f"commit {number} failed ({len(flushed)} file flushed)")
            raise
        finally:
            json_module.flush_data = real_flush
        self.log.append(f"commit {number}")


@pytest.fixture
def json_store(tmp_path: Path) -> Iterator[JsonConversationStore]:
    opened = CONVERSATION_STORES.create("json", path=str(tmp_path / "group-json"))
    assert isinstance(opened, JsonConversationStore)
    opened.create_session(ConversationSession(session_id="s"))
    opened.create_session(ConversationSession(session_id="t"))
    yield opened
    opened.close()


def _hold_first_json_commit(store: JsonConversationStore, calls: Calls) -> HeldGroups:
    held = HeldGroups(store, calls.log)
    calls.start("first", lambda: store.add_message("s", _message("first")))
    assert held.in_first_commit.wait(30)
    return held


def test_json_writes_queued_during_a_commit_share_the_next_one(json_store: JsonConversationStore) -> None:
    log: list[str] = []
    calls = Calls(log)
    held = _hold_first_json_commit(json_store, calls)
    calls.start("a", lambda: json_store.add_message("s", _message("a")))
    calls.start("b", lambda: json_store.add_message("t", _message("b")))  # another session, same group
    calls.start("c", lambda: json_store.add_messages("s", [_message("c1"), _message("c2")]))
    calls.start("d", lambda: json_store.add_message("s", _message("d")))
    _queued(json_store, 4)
    assert [entry for entry in log if entry.startswith("returned")] == []
    held.release.set()
    calls.join()
    assert held.sizes == [1, 4]
    assert all(isinstance(outcome, (ConversationMessage, list)) for outcome in calls.outcomes.values())
    assert sorted(m.content for m in json_store.get_messages("s")) == ["a", "c1", "c2", "d", "first"]
    assert [m.content for m in json_store.get_messages("t")] == ["b"]
    assert log.index("returned first") > log.index("commit 1")
    for name in ("a", "b", "c", "d"):
        assert log.index(f"returned {name}") > log.index("commit 2")
    # A fresh instance (its own index, read from the files) sees the same.
    reopened = CONVERSATION_STORES.create("json", path=json_store.config.path)
    assert sorted(m.content for m in reopened.get_messages("s")) == ["a", "c1", "c2", "d", "first"]
    reopened.close()


def test_json_failing_write_fails_alone_and_a_batch_stays_whole(json_store: JsonConversationStore) -> None:
    json_store.add_message("s", _message("taken", "dup"))
    calls = Calls([])
    held = _hold_first_json_commit(json_store, calls)
    calls.start("a", lambda: json_store.add_message("s", _message("a")))
    calls.start("batch", lambda: json_store.add_messages("s", [_message("b1"), _message("b2", "dup")]))
    calls.start("orphan", lambda: json_store.add_message("missing-session", _message("o")))
    calls.start("c", lambda: json_store.add_message("s", _message("c", "fresh")))
    calls.start("again", lambda: json_store.add_message("s", _message("c again", "fresh")))  # clashes within the group
    _queued(json_store, 5)
    held.release.set()
    calls.join()
    assert held.sizes == [1, 5]
    assert isinstance(calls.outcomes["batch"], AlreadyExistsError)
    assert isinstance(calls.outcomes["orphan"], StoreError)
    assert isinstance(calls.outcomes["a"], ConversationMessage)
    # "c" and "again" share an id: whichever ran first in the group is stored, the other refused.
    refused = [name for name in ("c", "again") if isinstance(calls.outcomes[name], AlreadyExistsError)]
    assert len(refused) == 1
    stored = "c again" if refused == ["c"] else "c"
    assert sorted(m.content for m in json_store.get_messages("s")) == sorted(["a", stored, "first", "taken"])


def test_json_failed_group_commit_fails_every_write_in_it(json_store: JsonConversationStore, tmp_path: Path) -> None:
    log: list[str] = []
    calls = Calls(log)
    held = _hold_first_json_commit(json_store, calls)
    held.fail_commit = 2
    calls.start("a", lambda: json_store.add_message("s", _message("a")))
    calls.start("b", lambda: json_store.add_messages("s", [_message("b1"), _message("b2")]))
    calls.start("c", lambda: json_store.add_message("t", _message("c")))
    _queued(json_store, 3)
    held.release.set()
    calls.join()
    assert "commit 2 failed (1 file flushed)" in log
    assert isinstance(calls.outcomes["first"], ConversationMessage)
    for name in ("a", "b", "c"):
        outcome = calls.outcomes[name]
        assert isinstance(outcome, StoreError), outcome
        assert "No space left on device" in str(outcome)
    assert len({id(calls.outcomes[name]) for name in ("a", "b", "c")}) == 3
    # The lines had been flushed before the failure; they were cut back off.
    assert [m.content for m in json_store.get_messages("s")] == ["first"]
    assert json_store.get_messages("t") == []
    reopened = CONVERSATION_STORES.create("json", path=json_store.config.path)
    assert [m.content for m in reopened.get_messages("s")] == ["first"]
    reopened.close()
    json_store.add_message("s", _message("after"))
    json_store.add_message("t", _message("after"))
    assert [m.content for m in json_store.get_messages("s")] == ["first", "after"]
    assert [m.content for m in json_store.get_messages("t")] == ["after"]


def _interrupt_when_queued(store: JsonConversationStore, count: int) -> threading.Thread:
    """A thread that sends SIGINT to the main thread once ``count`` writes are queued."""

    def interrupt() -> None:
        _queued(store, count)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    thread = threading.Thread(target=interrupt)
    thread.start()
    return thread


def test_an_interrupted_waiting_write_is_dropped_and_the_queue_goes_on(json_store: JsonConversationStore) -> None:
    """Each waiting writer sleeps on its own lock; an interrupt ends its wait, drops its write, and the
    writes queued after it still get a leader."""
    log: list[str] = []
    calls = Calls(log)
    held = _hold_first_json_commit(json_store, calls)
    calls.start("a", lambda: json_store.add_message("s", _message("a")))
    _queued(json_store, 1)
    interrupter = _interrupt_when_queued(json_store, 2)
    with pytest.raises(KeyboardInterrupt):
        json_store.add_message("s", _message("interrupted"))  # the main thread waits behind "first"
    interrupter.join()
    assert len(json_store._committer._queue) == 1  # its write left the queue
    calls.start("b", lambda: json_store.add_message("t", _message("b")))
    _queued(json_store, 2)
    held.release.set()
    calls.join()
    assert held.sizes == [1, 2]
    assert [m.content for m in json_store.get_messages("s")] == ["first", "a"]
    assert [m.content for m in json_store.get_messages("t")] == ["b"]
    json_store.add_message("s", _message("later"))  # no leader left stranded
    assert [m.content for m in json_store.get_messages("s")] == ["first", "a", "later"]


class _InterruptedAfterWaking:
    """A writer's wake lock whose wait ends in an interrupt just as the writer was handed the lead."""

    def __init__(self, real: threading.Lock) -> None:
        self.real = real

    def acquire(self, blocking: bool = True) -> bool:
        if not blocking:
            return self.real.acquire(blocking=False)
        self.real.acquire()  # woken: the previous group is done and this writer is to lead the next
        self.real.release()  # the interrupt ended the wait first: the wake is still pending
        raise KeyboardInterrupt

    def release(self) -> None:
        self.real.release()


def test_an_interrupt_of_the_writer_handed_the_lead_passes_it_on(json_store: JsonConversationStore) -> None:
    """The first queued writer is woken to lead the next group; interrupted instead, it hands the lead to
    the next queued writer, which would otherwise wait for ever."""
    committer = json_store._committer
    log: list[str] = []
    calls = Calls(log)
    held = _hold_first_json_commit(json_store, calls)
    real_sleep = committer._sleep

    def sleep(entry: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            entry.wake = _InterruptedAfterWaking(entry.wake)
        real_sleep(entry)

    committer._sleep = sleep  # type: ignore[method-assign]
    calls.start("b", lambda: (_queued(json_store, 1), json_store.add_message("t", _message("b")))[1])
    releaser = threading.Thread(target=lambda: (_queued(json_store, 2), held.release.set()))
    releaser.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            json_store.add_message("s", _message("handed the lead"))  # queued first, before "b"
        releaser.join()
        calls.join()
    finally:
        committer.__dict__.pop("_sleep", None)
    assert held.sizes == [1, 1]
    assert isinstance(calls.outcomes["b"], ConversationMessage)
    assert [m.content for m in json_store.get_messages("s")] == ["first"]
    assert [m.content for m in json_store.get_messages("t")] == ["b"]
