"""Config models of the built-in state backends, one module per family.

``memory`` (memory), ``redis`` (redis, upstash), ``mongodb`` (mongodb,
async_mongodb) and ``cloud`` (dynamodb, firestore, gcs). This package holds
their two bases; ``state/config.py`` re-exports every class. Validated before
the adapter module or driver is imported; see ``_config.py``, and
``_urlform.py`` for the URL forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..._catalogue import Kind
from ..._config import KindConfig

if TYPE_CHECKING:
    from ..base import AsyncStateStore, StateStore  # noqa: F401  # named (quoted) in the bases below

__all__ = ["AsyncStateConfig", "StateConfig"]


class StateConfig(KindConfig["StateStore"]):
    """Config of a synchronous state backend; ``open()`` is a StateStore."""

    kind: ClassVar[Kind] = "state"


class AsyncStateConfig(KindConfig["AsyncStateStore"]):
    """Config of an asyncio state backend; ``open()`` is an AsyncStateStore."""

    kind: ClassVar[Kind] = "state"
