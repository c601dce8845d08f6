"""Config models of the built-in knowledge backends.

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from .._catalogue import Kind
from .._config import StoreConfig, build_store

if TYPE_CHECKING:
    from .base import KnowledgeStore

__all__ = ["KnowledgeConfig"]


class KnowledgeConfig(StoreConfig):
    """Config of a knowledge backend; ``open()`` is a KnowledgeStore."""

    kind: ClassVar[Kind] = "knowledge"

    def open(self) -> KnowledgeStore:
        return cast("KnowledgeStore", build_store(self))
