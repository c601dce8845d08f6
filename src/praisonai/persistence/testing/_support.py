"""Plumbing shared by the contract suites."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["run_async"]

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
