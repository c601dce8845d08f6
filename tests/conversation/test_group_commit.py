"""Group commit of the sqlite store (conversation/_group_commit.py): its semantics, without timing.

A wrapped connection holds the first commit open until the test releases it, so the
writes started meanwhile are known to be queued together behind it; the tests then
check what each call returned or raised, what is stored, and in which order the
commits and the returns happened.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
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

    def execute(self, sql: str, *args: Any) -> Any:
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


def _queued(store: SqliteConversationStore, count: int) -> None:
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
