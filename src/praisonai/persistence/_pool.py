"""Small connection pools for the server backends, one for threads and one for asyncio.

Why not the drivers' own pools: their reconnect policies differ (psycopg_pool backs off
for up to minutes after an outage, aiomysql and asyncpg hand out connections that died
with the server), and the stores promise the same thing on every engine: during an
outage a call fails at once with :class:`~praisonai.persistence.errors.BackendUnavailableError`,
and the first call after the server is back succeeds. These pools connect on demand
(no background threads or tasks), keep up to ``max_size`` connections, reuse the most
recently released one, and let the store throw away every idle connection when it sees
that the server went away (:meth:`discard_idle`). The bookkeeping (idle connections, how
many are open, closing) is :class:`_Ledger`'s, shared by both; they differ only in their lock
and in awaiting ``connect`` and ``dispose``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar, cast

from . import _observe
from .errors import StoreClosedError

__all__ = ["AsyncPool", "Pool"]

C = TypeVar("C")
_WAIT: Final = object()  # every connection is in use: wait for one to come back
_CONNECT: Final = object()  # a place is reserved for a new connection


class _Ledger(Generic[C]):
    """What a pool knows; the methods below ``closed`` are called with the pool's lock held.

    ``connect`` makes a connection and ``dispose`` closes one: plain callables for
    :class:`Pool`, coroutine functions for :class:`AsyncPool`.
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        dispose: Callable[[C], Any],
        max_size: int,
        alive: Callable[[C], bool] | None = None,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._connect = connect
        self._dispose = dispose
        self._changed = self._condition()
        self._alive = alive  # a cheap local check (no round trip) that a connection is not known dead
        self._max_size = max_size
        self._idle: list[C] = []
        self._size = 0  # connections open or being opened
        self._closed = False

    def _opened(self) -> None:
        if _observe.logger.isEnabledFor(logging.DEBUG):
            owner = getattr(self._connect, "__self__", None)
            _observe.connection_opened(str(getattr(owner, "backend", "pool")))

    @staticmethod
    def _condition() -> Any:
        """The condition (and lock) that guards the ledger."""
        return threading.Condition(threading.Lock())

    @property
    def closed(self) -> bool:
        return self._closed

    def _take(self, dead: list[C]) -> Any:
        """An idle connection, :data:`_CONNECT` (a place reserved) or :data:`_WAIT`; dead idle ones go to ``dead``."""
        if self._closed:
            raise StoreClosedError("the store is closed")
        while self._idle:
            connection = self._idle.pop()
            if self._alive is None or self._alive(connection):
                return connection
            dead.append(connection)
            self._size -= 1
        if self._size < self._max_size:
            self._size += 1
            return _CONNECT
        return _WAIT

    def _give_back(self, connection: C, broken: bool) -> bool:
        """Whether ``connection`` is kept (else the caller disposes of it)."""
        keep = not broken and not self._closed
        if keep:
            self._idle.append(connection)
        else:
            self._size -= 1
        return keep

    def _drain(self) -> list[C]:
        idle, self._idle = self._idle, []
        self._size -= len(idle)
        return idle


class Pool(_Ledger[C]):
    """A thread-safe pool of connections made by ``connect`` and closed by ``dispose``."""

    def acquire(self) -> C:
        """An idle connection, else a new one; waits while ``max_size`` are in use."""
        dead: list[C] = []
        try:
            with self._changed:
                while (taken := self._take(dead)) is _WAIT:
                    self._changed.wait()
        finally:
            for connection in dead:
                self._quietly_dispose(connection)
        if taken is not _CONNECT:
            return cast(C, taken)
        try:
            connection = cast(C, self._connect())
        except BaseException:
            with self._changed:
                self._size -= 1
                self._changed.notify()
            raise
        self._opened()
        return connection

    def release(self, connection: C, broken: bool = False) -> None:
        """Give a connection back; a broken one (or any, once closed) is disposed of."""
        with self._changed:
            keep = self._give_back(connection, broken)
            self._changed.notify()
        if not keep:
            self._quietly_dispose(connection)

    def discard_idle(self) -> None:
        """Dispose of every idle connection (after one of them turned out dead)."""
        with self._changed:
            idle = self._drain()
            self._changed.notify_all()
        for connection in idle:
            self._quietly_dispose(connection)

    def close(self) -> None:
        """Dispose of the idle connections; those in use are disposed of when released."""
        with self._changed:
            self._closed = True
        self.discard_idle()

    def _quietly_dispose(self, connection: C) -> None:
        with contextlib.suppress(Exception):  # a dead connection may fail to close; it is gone either way
            self._dispose(connection)


class AsyncPool(_Ledger[C]):
    """The asyncio twin of :class:`Pool`; bound to the event loop it is first used in."""

    @staticmethod
    def _condition() -> Any:
        return asyncio.Condition()

    async def acquire(self) -> C:
        dead: list[C] = []
        try:
            async with self._changed:
                while (taken := self._take(dead)) is _WAIT:
                    await self._changed.wait()
        finally:
            for connection in dead:
                await self._quietly_dispose(connection)
        if taken is not _CONNECT:
            return cast(C, taken)
        try:
            connection = cast(C, await self._connect())
        except BaseException:
            async with self._changed:
                self._size -= 1
                self._changed.notify()
            raise
        self._opened()
        return connection

    async def release(self, connection: C, broken: bool = False) -> None:
        async with self._changed:
            keep = self._give_back(connection, broken)
            self._changed.notify()
        if not keep:
            await self._quietly_dispose(connection)

    async def discard_idle(self) -> None:
        async with self._changed:
            idle = self._drain()
            self._changed.notify_all()
        for connection in idle:
            await self._quietly_dispose(connection)

    async def close(self) -> None:
        async with self._changed:
            self._closed = True
        await self.discard_idle()

    def abandon(self, terminate: Callable[[C], None]) -> None:
        """Close the pool from outside its event loop (which may be gone): ``terminate`` is synchronous."""
        self._closed = True
        for connection in self._drain():
            with contextlib.suppress(Exception):
                terminate(connection)

    async def _quietly_dispose(self, connection: C) -> None:
        with contextlib.suppress(Exception):  # a dead connection may fail to close; it is gone either way
            await self._dispose(connection)
