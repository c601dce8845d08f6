"""PraisonAI 4.7.19's module ``cosmosdb_vector``: the cosmosdb backend lives in :mod:`.cosmosdb`.

Kept so that imports written for PraisonAI keep working; new code imports from ``cosmosdb``.
"""

from __future__ import annotations

import logging

from .base import KnowledgeDocument, KnowledgeStore
from .cosmosdb import CosmosDbKnowledgeStore

__all__ = ["CosmosDBVectorKnowledgeStore", "CosmosDbKnowledgeStore", "KnowledgeDocument", "KnowledgeStore"]

logger = logging.getLogger(__name__)

CosmosDBVectorKnowledgeStore = CosmosDbKnowledgeStore
"""PraisonAI 4.7.19's name of :class:`~.cosmosdb.CosmosDbKnowledgeStore`."""
