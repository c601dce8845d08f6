"""LangChain over our stores: a chat message history and a vector store.

``pip install "praisonai-persistence[langchain]"``::

    from praisonai.persistence import create_conversation_store  # or registry.CONVERSATION_STORES.create
    from praisonai.persistence.integrations.langchain import PersistenceChatMessageHistory

    history = PersistenceChatMessageHistory(CONVERSATION_STORES.create("sqlite", path="chat.db"), "session-1")
    history.add_user_message("hi")

- :class:`PersistenceChatMessageHistory`: a ``BaseChatMessageHistory`` over any
  conversation store, sync or async (an async store gets native ``aget_messages``,
  ``aadd_messages`` and ``aclear``; its sync methods raise :class:`UsageError`).
  Every LangChain message type round-trips exactly (tool calls, ids, additional
  kwargs, chunks): LangChain's own serialisation is kept in the message's
  ``metadata["langchain"]``, while ``role``, ``content``, ``tool_calls`` and
  ``tool_call_id`` hold the portable form, so other readers (the CLI's export,
  PraisonAI agents) see an ordinary conversation. Messages written by other code
  are read back by role.
- :class:`PersistenceVectorStore`: a ``VectorStore`` over any knowledge store and
  an embedder (a LangChain ``Embeddings``, one of our embedders, or the embedder
  of a store created with ``embedder=``). Ids are upserted, so adding a document
  again replaces it. Scores are the store's portable scores (higher is closer:
  cosine similarity, dot product, or ``1 / (1 + euclidean distance)``);
  ``similarity_search_with_relevance_scores`` maps them into [0, 1]. MMR is
  :mod:`praisonai.persistence.knowledge.mmr`'s. Over an async knowledge store the
  ``a``-methods are native and the sync ones raise :class:`UsageError`.
"""

from __future__ import annotations

from .history import LANGCHAIN_KEY, PersistenceChatMessageHistory, from_conversation_message, to_conversation_message
from .vectorstore import EmbedderEmbeddings, PersistenceVectorStore

__all__ = [
    "EmbedderEmbeddings",
    "PersistenceChatMessageHistory",
    "PersistenceVectorStore",
    "from_conversation_message",
    "to_conversation_message",
    "LANGCHAIN_KEY",
]
