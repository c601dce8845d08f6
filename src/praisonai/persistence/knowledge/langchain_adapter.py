"""PraisonAI 4.7.19's module ``langchain_adapter``: the langchain backend lives in :mod:`.langchain`.

Kept so that imports written for PraisonAI keep working; new code imports from ``langchain``.
"""

from __future__ import annotations

import logging

from .base import KnowledgeDocument, KnowledgeStore
from .langchain import LangChainKnowledgeStore

__all__ = ["KnowledgeDocument", "KnowledgeStore", "LangChainKnowledgeStore"]

logger = logging.getLogger(__name__)
