"""Config models of the built-in state backends, one module per family.

``memory`` (memory), ``redis`` (redis, upstash), ``mongodb`` (mongodb,
async_mongodb) and ``cloud`` (dynamodb, firestore, gcs). This package holds
their two bases; ``state/config.py`` re-exports every class. Validated before
the adapter module or driver is imported; see ``_config.py``, and
``_urlform.py`` for the URL forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from ..._catalogue import Kind
from ..._config import StoreConfig, build_store

if TYPE_CHECKING:
    from ..base import AsyncStateStore, StateStore

__all__ = ["AsyncStateConfig", "StateConfig"]


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
