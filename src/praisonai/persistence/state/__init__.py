"""State stores: JSON values and hashes with TTLs. The contract is in ``base``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from .base import AsyncStateStore, StateStore

__all__ = ["AsyncStateStore", "StateStore"]

__getattr__ = lazy_getattr(__name__, dict.fromkeys(__all__, ".base"))
