"""PraisonAI 4.7.19's module ``redis_vector``: the redis knowledge backend lives in :mod:`.redis`.

Kept so that imports written for PraisonAI keep working; new code imports from ``redis``.
"""

from __future__ import annotations

import logging

from .base import KnowledgeDocument, KnowledgeStore
from .redis import RedisVectorKnowledgeStore

__all__ = ["KnowledgeDocument", "KnowledgeStore", "RedisVectorKnowledgeStore"]

logger = logging.getLogger(__name__)
