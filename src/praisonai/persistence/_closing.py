"""The context-manager defaults every store and embedder Protocol inherits.

``Closing`` (sync) and ``AsyncClosing`` (asyncio) declare ``close`` and derive
``with`` / ``async with`` from it, so the kinds' contracts in
``conversation/base.py``, ``state/base.py``, ``knowledge/base.py`` and
``embedders/base.py`` state only what is theirs. Private: the public Protocols
are the kinds' own. :func:`close_client` closes a driver's client that may
have no ``close``.
"""

from __future__ import annotations

from abc import abstractmethod
from types import TracebackType
from typing import Protocol

from typing_extensions import Self

__all__ = ["AsyncClosing", "Closing", "close_client"]


class Closing(Protocol):
    """``close`` plus the context manager that calls it on the way out."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClosing(Protocol):
    """The asyncio twin of :class:`Closing`: ``async with`` awaits ``close``."""

    @abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def close_client(client: object) -> None:
    """Call ``client.close()`` where the driver's client has one (some versions have none)."""
    close = getattr(client, "close", None)
    if callable(close):
        close()
