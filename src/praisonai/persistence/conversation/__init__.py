"""Conversation stores: sessions and their messages. The contract is in ``base``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from .base import AsyncConversationStore, ConversationMessage, ConversationSession, ConversationStore

__all__ = ["AsyncConversationStore", "ConversationMessage", "ConversationSession", "ConversationStore"]

__getattr__ = lazy_getattr(__name__, dict.fromkeys(__all__, ".base"))
