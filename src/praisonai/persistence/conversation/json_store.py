"""PraisonAI 4.7.19's module ``json_store``: the json backend lives in :mod:`.json`.

Kept so that imports written for PraisonAI keep working; new code imports from ``json``.
"""

from __future__ import annotations

import logging

from .base import ConversationMessage, ConversationSession, ConversationStore
from .json import JsonConversationStore

__all__ = [
    "ConversationMessage",
    "ConversationSession",
    "ConversationStore",
    "JSONConversationStore",
    "JsonConversationStore",
]

logger = logging.getLogger(__name__)

JSONConversationStore = JsonConversationStore
"""PraisonAI 4.7.19's name of :class:`~.json.JsonConversationStore`."""
