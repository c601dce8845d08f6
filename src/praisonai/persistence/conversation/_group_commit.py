"""Group commit for the embedded durable stores: writes that arrive while a commit is in flight share the next one.

A durable commit waits for its flush to the device, so writers queued behind one
another get no more done than one writer would. Here each write is a
:class:`Write` (a callable that does the work of one call) and a *group* of them
is committed at once:

- :class:`GroupCommitter` (threads: sqlite, json). A write queues itself, then
  whoever finds no group in flight is the *leader*: it takes every write queued so
  far and commits them together (:meth:`GroupCommitter.commit`). Writes that arrive
  while the leader commits (its flush takes most of the time) queue up and are all
  taken by the next leader: one commit, one flush, for all. A writer that queues
  sleeps on a lock of its own and is woken once, by the leader: when its group is
  done, or (the first writer queued) to lead the next group; an interrupt (such as
  ``KeyboardInterrupt``) that ends its wait drops its write if no leader took it yet,
  and passes the lead on if it had been handed the lead.
  ``async_sqlite`` queues its writes on its worker thread instead and hands each
  batch it drains to the same :meth:`GroupCommitter.commit`;
- each call returns only when the commit that holds its write has returned (the
  leader records every outcome before it lets the writers go), so every
  acknowledged write is as durable as the store's commit makes it;
- a write that fails is undone alone (in SQL, the group runs again with a
  ``SAVEPOINT`` around each write; in the json store, a truncation) and raises its
  own error; the others of its group are unaffected. A batch (``add_messages``) is
  one write, so it is all in or all out;
- a failed commit fails every write of the group that had not failed on its own,
  each with a copy of the error: nothing of theirs was stored;
- a lone writer finds only its own write in the queue and runs it exactly as
  before (in SQL, no savepoint): it pays no extra latency. Nor do the writes of a
  group in which none fails.

The commit of a group is the store's (:func:`commit_in_savepoints` for the SQLite
stores, ``JsonConversationStore._commit_messages``); this module owns the queue,
the leader, and the outcomes.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from ..errors import StoreClosedError, StoreError

__all__ = ["GroupCommitter", "HeldUnlessClosed", "Write", "commit_in_savepoints"]

R = TypeVar("R")

_PENDING = object()


class Write(Generic[R]):
    """One call's write: ``run()`` does its work inside the group's transaction."""

    __slots__ = ("error", "finished", "result", "run", "wake")

    def __init__(self, run: Callable[[], R]) -> None:
        self.run = run
        self.result: Any = _PENDING
        self.error: BaseException | None = None
        self.finished = False  # its group's leader is done with it (set under the committer's mutex)
        self.wake: threading.Lock | None = None  # held while its writer sleeps; released to wake it

    def attempt(self) -> bool:
        """Run it, recording its result or its own error; whether it succeeded."""
        try:
            self.result = self.run()
        except Exception as error:
            self.result = _PENDING
            self.error = error
            return False
        return True

    def fail(self, error: BaseException) -> None:
        self.result = _PENDING
        self.error = _copy(error)

    def outcome(self) -> R:
        """Its result, or its error raised."""
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[no-any-return]


class HeldUnlessClosed:
    """``with`` it: hold ``lock``; :class:`StoreClosedError` if the store was closed while the writes waited.

    One object per store, entered by every group (no generator built per commit).
    """

    __slots__ = ("_closed", "_lock")

    def __init__(self, lock: threading.Lock, closed: Callable[[], bool]) -> None:
        self._lock = lock
        self._closed = closed

    def __enter__(self) -> None:
        self._lock.acquire()
        if self._closed():
            self._lock.release()
            raise StoreClosedError("the store is closed")

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


class GroupCommitter:
    """Commits queued writes in groups: ``commit(group)`` runs with ``hold()`` entered.

    ``hold`` takes what a write needs exclusively (the connection's lock, a file lock)
    and raises if the store is closed; ``commit`` runs the group's writes (each
    through :meth:`Write.attempt`) and makes them durable, raising if that failed.
    """

    def __init__(
        self, hold: Callable[[], AbstractContextManager[object]], commit: Callable[[list[Write[Any]]], None]
    ) -> None:
        self._hold = hold
        self._commit = commit
        self._queue: list[Write[Any]] = []
        # Guards the queue and `_leading`. A writer that queues behind a leader sleeps on its own `wake`
        # lock and is woken once: when its group is done, or to lead the next group. (Sleeping on one
        # shared condition woke every waiting writer at each commit, to find most of them not done.)
        self._mutex = threading.Lock()
        self._leading = False

    def write(self, run: Callable[[], R]) -> R:
        """Run ``run()`` in a committed group; its result once that group is durable."""
        entry: Write[R] = Write(run)
        with self._mutex:
            self._queue.append(entry)
            follow = self._leading
            if follow:
                wake = entry.wake = threading.Lock()
                wake.acquire()
            else:
                self._leading = True
        if follow:
            self._sleep(entry)
            if entry.finished:
                return entry.outcome()
            # Not done: the previous leader handed the lead to this writer, the first of the queue.
        with self._mutex:
            group, self._queue = self._queue, []
        try:
            self.commit(group)
        finally:
            with self._mutex:
                for write in group:
                    write.finished = True
                self._hand_on()
            for write in group:
                if write.wake is not None and write is not entry:
                    write.wake.release()
        return entry.outcome()

    def _hand_on(self) -> None:
        """With the mutex held, at the end of a group: the first queued writer leads the next, if any."""
        if self._queue:
            wake = self._queue[0].wake
            assert wake is not None  # queued while a leader led
            wake.release()
        else:
            self._leading = False

    def _sleep(self, entry: Write[Any]) -> None:
        """Wait until ``entry``'s writer is woken; if an interrupt ends the wait, its write is dropped."""
        wake = entry.wake
        assert wake is not None
        try:
            wake.acquire()
        except BaseException:  # KeyboardInterrupt and the like, in the main thread
            with self._mutex:
                woken = wake.acquire(blocking=False)
                if any(write is entry for write in self._queue):  # not taken by a leader: it never runs
                    self._queue = [write for write in self._queue if write is not entry]
                    if woken:  # it had been handed the lead: pass it on
                        self._hand_on()
            raise

    def commit(self, group: Sequence[Write[Any]]) -> None:
        """Commit ``group`` now, recording each write's outcome; re-raises only a non-``Exception`` (an interrupt)."""
        try:
            with self._hold():
                self._commit(group if isinstance(group, list) else list(group))
        except BaseException as error:
            # The commit (or what surrounds it) failed: no write of this group is stored.
            for write in group:
                if write.error is None:
                    write.fail(error)
            if not isinstance(error, Exception):  # KeyboardInterrupt and the like: the leader's own
                raise


def commit_in_savepoints(connection: Any, begin: str, group: list[Write[Any]]) -> None:
    """One SQL transaction for ``group`` on ``connection`` (a DB-API connection in autocommit mode).

    The writes first run one after another with nothing around them (a lone write runs exactly
    as it would alone). If one fails, the transaction is rolled back and the group runs again,
    each write in a ``SAVEPOINT``, so that the failing one is rolled back alone: savepoints cost
    two statements a write, paid only by a group that holds a failing write. Raises if the
    transaction could not be committed.
    """
    try:
        connection.execute(begin)
        if not all(write.attempt() for write in group) and len(group) > 1:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            for write in group:
                write.result, write.error = _PENDING, None
            connection.execute(begin)
            done: list[Write[Any]] = []  # ran and still in the open transaction
            for write in group:
                if not connection.in_transaction:  # the engine rolled back a previous write's group
                    connection.execute(begin)
                _run_in_savepoint(connection, write, done)
        elif len(group) == 1 and group[0].error is not None and connection.in_transaction:
            connection.execute("ROLLBACK")
        if connection.in_transaction:
            connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            with contextlib.suppress(Exception):  # the original error says more
                connection.execute("ROLLBACK")
        raise


def _run_in_savepoint(connection: Any, write: Write[Any], done: list[Write[Any]]) -> None:
    connection.execute("SAVEPOINT praisonai_write")
    if write.attempt():
        connection.execute("RELEASE praisonai_write")
        done.append(write)
    elif connection.in_transaction:
        connection.execute("ROLLBACK TO praisonai_write")
        connection.execute("RELEASE praisonai_write")
    else:  # the engine rolled back the whole transaction: the earlier writes went with it
        assert write.error is not None
        for earlier in done:
            earlier.fail(write.error)
        done.clear()


def _copy(error: BaseException) -> BaseException:
    """A copy of ``error`` per waiting caller (one exception object must not be raised in many threads)."""
    if not isinstance(error, Exception):
        interrupted = StoreError(f"the group commit holding this write was interrupted ({type(error).__name__})")
        interrupted.__cause__ = error
        return interrupted
    try:
        duplicate = copy.copy(error)
    except Exception:
        return error
    duplicate.__cause__ = error.__cause__
    return duplicate
