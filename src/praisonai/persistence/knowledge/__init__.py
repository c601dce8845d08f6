"""Knowledge (vector) stores. The contract is in ``base``, the filter language in ``filters``."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore

__all__ = ["AsyncKnowledgeStore", "KnowledgeDocument", "KnowledgeStore"]


def __getattr__(name: str) -> Any:
    # Lazy, as at the top level: importing the package loads no contract module.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.base"), name)
    globals()[name] = value
    return value
