"""Group commit for the sqlite connection: writes that arrive while a commit is in flight share the next one.

With ``synchronous=FULL`` every commit waits for its own flush to the device, so
writer threads queued on one connection get no more done than one thread would.
:class:`GroupCommitter` runs the writes of the sqlite runner instead:

- a write queues itself, then takes the connection lock. Whoever holds the lock
  is the *leader*: it takes every write queued so far, runs each in its own
  ``SAVEPOINT`` inside one ``BEGIN IMMEDIATE`` transaction, and commits once;
- writes that arrive while the leader commits (its flush takes most of the time)
  queue up and are all taken by the next leader: one commit, one flush, for all;
- each call returns only when the commit that holds its write has returned (the
  leader records every outcome before it releases the lock), so every
  acknowledged write is as durable as the commit's ``synchronous`` setting makes it;
- a write that fails is rolled back to its savepoint and raises its own error;
  the others of its group are unaffected. A batch (``add_messages``) is one write,
  so it is all in or all out;
- a failed commit (or an engine that rolled the whole transaction back) fails
  every write of the group, each with a copy of the error: nothing of theirs was
  stored;
- a lone writer finds only its own write in the queue and runs it exactly as
  before (no savepoint): it pays no extra latency.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..errors import StoreClosedError, StoreError

__all__ = ["GroupCommitter"]

R = TypeVar("R")

_PENDING = object()


class _Write(Generic[R]):
    __slots__ = ("error", "finished", "result", "run")

    def __init__(self, run: Callable[[], R]) -> None:
        self.run = run
        self.result: Any = _PENDING
        self.error: BaseException | None = None
        self.finished = False  # its group's leader is done with it (set under the state lock)


class GroupCommitter:
    """Runs write transactions on ``connection`` (a DB-API connection in autocommit mode), grouped.

    ``lock`` is the connection's lock, also taken by readers; ``closed()`` says whether
    the store was closed while a write waited.
    """

    def __init__(self, lock: threading.Lock, closed: Callable[[], bool], begin: str = "BEGIN IMMEDIATE") -> None:
        self._lock = lock
        self._closed = closed
        self._begin = begin
        self._queue: list[_Write[Any]] = []
        # Guards the queue and `_leading`; waiting writers sleep on it, not on the connection lock, so
        # that a finished group's writers all wake at once while the next leader starts.
        self._state = threading.Condition(threading.Lock())
        self._leading = False

    def write(self, connection: Any, run: Callable[[], R]) -> R:
        """Run ``run()`` (which executes its statements on ``connection``) in a committed transaction."""
        entry: _Write[R] = _Write(run)
        group: list[_Write[Any]] = []
        with self._state:
            self._queue.append(entry)
            while not entry.finished and self._leading:
                self._state.wait()
            if not entry.finished:  # no leader took it: lead the writes queued so far
                self._leading = True
                group, self._queue = self._queue, []
        if group:
            try:
                with self._lock:
                    if self._closed():  # closed while these writes waited
                        for write in group:
                            write.error = StoreClosedError("the store is closed")
                    else:
                        self._commit_group(connection, group)
            finally:
                with self._state:
                    for write in group:
                        write.finished = True
                    self._leading = False
                    self._state.notify_all()
        if entry.error is not None:
            raise entry.error
        return entry.result  # type: ignore[no-any-return]

    def _commit_group(self, connection: Any, group: list[_Write[Any]]) -> None:
        done: list[_Write[Any]] = []  # ran and still in the open transaction
        try:
            connection.execute(self._begin)
            if len(group) == 1:
                self._run_alone(connection, group[0], done)
            else:
                for write in group:
                    if not connection.in_transaction:  # the engine rolled back a previous write's group
                        connection.execute(self._begin)
                    self._run_in_savepoint(connection, write, done)
            if connection.in_transaction:
                connection.execute("COMMIT")
        except BaseException as error:
            # The commit (or what surrounds it) failed: no write of this group is stored.
            if connection.in_transaction:
                with contextlib.suppress(Exception):  # the original error says more
                    connection.execute("ROLLBACK")
            self._fail(done, error)
            for write in group:  # the writes an interruption kept from running
                if write.result is _PENDING and write.error is None:
                    write.error = _copy(error)
            if not isinstance(error, Exception):  # KeyboardInterrupt and the like: the leader's own
                raise

    def _run_alone(self, connection: Any, write: _Write[Any], done: list[_Write[Any]]) -> None:
        try:
            write.result = write.run()
        except Exception as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            write.error = error
            return
        done.append(write)

    def _run_in_savepoint(self, connection: Any, write: _Write[Any], done: list[_Write[Any]]) -> None:
        connection.execute("SAVEPOINT praisonai_write")
        try:
            write.result = write.run()
        except Exception as error:
            write.result = _PENDING
            write.error = error
            if connection.in_transaction:
                connection.execute("ROLLBACK TO praisonai_write")
                connection.execute("RELEASE praisonai_write")
            else:  # the engine rolled back the whole transaction: the earlier writes went with it
                self._fail(done, error)
                done.clear()
            return
        connection.execute("RELEASE praisonai_write")
        done.append(write)

    @staticmethod
    def _fail(done: list[_Write[Any]], error: BaseException) -> None:
        for write in done:
            write.result = _PENDING
            write.error = _copy(error)


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
