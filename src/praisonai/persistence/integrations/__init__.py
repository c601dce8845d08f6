"""Our stores behind other frameworks' interfaces.

- :mod:`.langchain`: LangChain's ``BaseChatMessageHistory`` over a conversation
  store and ``VectorStore`` over a knowledge store (extra ``[langchain]``).
- :mod:`.langgraph`: LangGraph's ``BaseStore`` over a state store, with semantic
  search through a knowledge store and an embedder (extra ``[langgraph]``).

Nothing here is imported by ``import praisonai.persistence``: each module
imports its framework when it is imported itself.
"""
