"""Plumbing shared by the contract suites."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ClassVar, Generic, TypeVar

import pytest

__all__ = ["StoreContractBase", "reopener", "run_async", "run_in_threads"]

F = TypeVar("F", bound=Callable[..., Awaitable[None]])
S = TypeVar("S")


class StoreContractBase(Generic[S]):
    """How every store contract suite starts: the ``store`` fixture a backend overrides, the
    optional ``reopen`` fixture and the check that the store satisfies the kind's ``protocol``."""

    protocol: ClassVar[type[Any]]
    wanted: ClassVar[str]
    """What the ``store`` fixture must give, said to whoever forgot to override it."""

    @pytest.fixture
    def store(self) -> Iterator[S]:
        raise pytest.UsageError(f"override the `store` fixture to {self.wanted}")

    @pytest.fixture
    def reopen(self) -> Callable[[], S] | None:
        return None

    def test_satisfies_protocol(self, store: S) -> None:
        assert isinstance(store, self.protocol)


def reopener(reopen: Callable[[], S] | None) -> Callable[[], S]:
    """The ``reopen`` fixture's callable; without one the test is skipped (nothing a second instance can open)."""
    if reopen is None:
        pytest.skip("this backend has no storage a second instance can open")
    return reopen


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
