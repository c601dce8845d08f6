"""PraisonAI 4.7.19's module ``llamaindex_adapter``: the llamaindex backend lives in :mod:`.llamaindex`.

Kept so that imports written for PraisonAI keep working; new code imports from ``llamaindex``.
"""

from __future__ import annotations

import logging

from .base import KnowledgeDocument, KnowledgeStore
from .llamaindex import LlamaIndexKnowledgeStore

__all__ = ["KnowledgeDocument", "KnowledgeStore", "LlamaIndexKnowledgeStore"]

logger = logging.getLogger(__name__)
