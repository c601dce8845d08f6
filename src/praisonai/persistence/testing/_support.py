"""Plumbing shared by the contract suites."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["run_async", "run_in_threads"]

F = TypeVar("F", bound=Callable[..., Awaitable[None]])


def run_async(test: F) -> Callable[..., None]:
    """Turn ``async def test_x(self, store, ...)`` into a sync test run in its own event loop.

    The store is closed inside that loop when the test ends, so async stores
    that connect lazily never cross event loops, and the suites need no
    pytest-asyncio.
    """

    @functools.wraps(test)
    def wrapper(self: Any, store: Any, *args: Any, **kwargs: Any) -> None:
        async def main() -> None:
            try:
                await test(self, store, *args, **kwargs)
            finally:
                await store.close()

        asyncio.run(main())

    return wrapper


def run_in_threads(work: Callable[[int], None], count: int) -> list[BaseException]:
    """Run ``work(0)`` ... ``work(count - 1)`` in ``count`` threads at once; what they raised."""
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            work(number)
        except BaseException as error:  # pragma: no cover - reported to the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
