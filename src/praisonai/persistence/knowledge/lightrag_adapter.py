"""PraisonAI 4.7.19's module ``lightrag_adapter``: the lightrag backend lives in :mod:`.lightrag`.

Kept so that imports written for PraisonAI keep working; new code imports from ``lightrag``.
"""

from __future__ import annotations

import logging

from .base import KnowledgeDocument, KnowledgeStore
from .lightrag import LightRagKnowledgeStore

__all__ = ["KnowledgeDocument", "KnowledgeStore", "LightRAGKnowledgeStore", "LightRagKnowledgeStore"]

logger = logging.getLogger(__name__)

LightRAGKnowledgeStore = LightRagKnowledgeStore
"""PraisonAI 4.7.19's name of :class:`~.lightrag.LightRagKnowledgeStore`."""
