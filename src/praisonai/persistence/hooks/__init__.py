"""PraisonAI 4.7.19's agent hooks: persistence added to any agent with a ``chat`` method."""

from __future__ import annotations

from .agent_hooks import PersistentAgent, create_persistent_session, wrap_agent_with_persistence

__all__ = ["PersistentAgent", "create_persistent_session", "wrap_agent_with_persistence"]
