"""Driving async stores from synchronous code, for the transfers and the command line.

An async store is wrapped in a :class:`SyncView`, whose coroutine methods run
on one private event loop (and whose async generators become plain
iterators), so the copy logic is written once, synchronously, and works with
any mix of sync and async stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

__all__ = ["EventLoop", "SyncStores", "SyncView", "is_async_store"]

T = TypeVar("T")


class EventLoop:
    """A private event loop, created on first use."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                pass
            else:
                coroutine.close()
                raise RuntimeError(
                    "async stores are driven on a private event loop: call this from synchronous code "
                    "(from async code: await asyncio.to_thread(...))"
                )
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coroutine)

    def iterate(self, iterator: Any) -> Iterator[Any]:
        """An async iterator as a plain one."""
        while True:
            try:
                yield self.run(iterator.__anext__())
            except StopAsyncIteration:
                return

    def close(self) -> None:
        if self._loop is not None:
            loop, self._loop = self._loop, None
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()


class SyncView:
    """A synchronous face of an async store: its coroutine methods run on ``loop``."""

    def __init__(self, store: Any, loop: EventLoop) -> None:
        self._store = store
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        member = getattr(self._store, name)
        if inspect.isasyncgenfunction(member):
            return lambda *args, **kwargs: self._loop.iterate(member(*args, **kwargs))
        if inspect.iscoroutinefunction(member):
            return lambda *args, **kwargs: self._loop.run(member(*args, **kwargs))
        return member

    def __repr__(self) -> str:
        return f"SyncView({self._store!r})"


def is_async_store(store: object, probe: str) -> bool:
    """Whether ``store`` is an asyncio store, judged by its method ``probe``."""
    return inspect.iscoroutinefunction(getattr(store, probe, None))


class SyncStores:
    """The stores of one command as synchronous objects, all closed (on their own loop) by :meth:`close`."""

    def __init__(self) -> None:
        self.loop = EventLoop()
        self._closers: list[Callable[[], Any]] = []

    def adopt(self, store: Any, probe: str) -> Any:
        view = SyncView(store, self.loop) if is_async_store(store, probe) else store
        self._closers.append(view.close)
        return view

    def close(self) -> None:
        try:
            for close in self._closers:
                with contextlib.suppress(Exception):
                    close()
        finally:
            self._closers.clear()
            self.loop.close()
