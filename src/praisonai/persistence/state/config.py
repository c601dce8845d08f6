"""Config models of the built-in state backends.

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import Field

from .._catalogue import Kind
from .._config import StoreConfig, build_store
from ..url import URL

if TYPE_CHECKING:
    from .base import AsyncStateStore, StateStore

__all__ = ["AsyncStateConfig", "MemoryStateConfig", "StateConfig"]


class StateConfig(StoreConfig):
    """Config of a synchronous state backend; ``open()`` is a StateStore."""

    kind: ClassVar[Kind] = "state"

    def open(self) -> StateStore:
        return cast("StateStore", build_store(self))


class AsyncStateConfig(StoreConfig):
    """Config of an asyncio state backend; ``open()`` is an AsyncStateStore."""

    kind: ClassVar[Kind] = "state"

    def open(self) -> AsyncStateStore:
        return cast("AsyncStateStore", build_store(self))


class MemoryStateConfig(StateConfig):
    backend: ClassVar[str] = "memory"

    snapshot_path: str | None = Field(default=None, min_length=1)
    """File that keeps the state across restarts (a snapshot plus ``<path>.journal``)."""
    fsync: bool = True
    """With a snapshot file: fsync each journal append, so an acknowledged write survives a crash."""
    compact_every: int = Field(default=10_000, ge=1)
    """Journal entries after which the snapshot is rewritten and the journal emptied."""

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme != "memory":
            raise ValueError(f"expected memory:// or memory:///snapshot/path, got scheme {parsed.scheme!r}")
        return {"snapshot_path": parsed.database} if parsed.database else {}
