"""Knowledge (vector) stores. The contract is in ``base``, the filter language in ``filters``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from .base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore

__all__ = ["AsyncKnowledgeStore", "KnowledgeDocument", "KnowledgeStore"]

__getattr__ = lazy_getattr(__name__, dict.fromkeys(__all__, ".base"))
