"""PraisonAI 4.7.19's agent hooks, on top of :class:`~praisonai.persistence.orchestrator.PersistenceOrchestrator`.

>>> agent = wrap_agent_with_persistence(agent, orchestrator, session_id="s1")
>>> agent.chat("Hello")      # the prompt and the reply are stored in session s1
>>> agent.end_session()

Agents are duck-typed: anything with ``chat(prompt, ...)`` (and optionally
``achat``) works. The first chat opens the session (``on_agent_start``); with
``auto_resume`` a stored history is copied into ``agent.chat_history`` as
``[{"role", "content"}, ...]``. Every chat stores the prompt, calls the agent and
stores a non-empty reply. The session is never ended automatically.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ..conversation.base import ConversationMessage, ConversationSession
from ..orchestrator import PersistenceOrchestrator

__all__ = ["PersistenceOrchestrator", "PersistentAgent", "create_persistent_session", "wrap_agent_with_persistence"]

logger = logging.getLogger(__name__)


class _AgentSession:
    """One agent's session in an orchestrator: opened on first use, then every chat turn persisted."""

    def __init__(
        self,
        agent: Any,
        orchestrator: PersistenceOrchestrator,
        session_id: str | None,
        user_id: str | None,
        auto_resume: bool,
    ) -> None:
        self.agent = agent
        self.orchestrator = orchestrator
        self.session_id = session_id or f"session-{uuid.uuid4().hex[:8]}"
        self.user_id = user_id if user_id is not None else getattr(agent, "user_id", "default")
        self.auto_resume = auto_resume
        self._started = False
        self._lock = threading.Lock()

    def _resumed(self, history: list[ConversationMessage]) -> None:
        self._started = True
        if self.auto_resume and history:
            self.agent.chat_history = [{"role": message.role, "content": message.content} for message in history]

    def ensure_started(self) -> None:
        with self._lock:
            if not self._started:
                start = self.orchestrator.on_agent_start
                self._resumed(start(self.agent, self.session_id, self.user_id, resume=self.auto_resume))

    async def aensure_started(self) -> None:
        if not self._started:
            start = self.orchestrator.aon_agent_start
            self._resumed(await start(self.agent, self.session_id, self.user_id, resume=self.auto_resume))

    def chat(self, original: Callable[..., Any], prompt: Any, *args: Any, **kwargs: Any) -> Any:
        self.ensure_started()
        self.orchestrator.on_message(self.session_id, "user", str(prompt))
        response = original(prompt, *args, **kwargs)
        if response:
            self.orchestrator.on_message(self.session_id, "assistant", str(response))
        return response

    async def achat(self, original: Callable[..., Any], prompt: Any, *args: Any, **kwargs: Any) -> Any:
        await self.aensure_started()
        await self.orchestrator.aon_message(self.session_id, "user", str(prompt))
        response = await original(prompt, *args, **kwargs)
        if response:
            await self.orchestrator.aon_message(self.session_id, "assistant", str(response))
        return response

    def get_session(self) -> ConversationSession | None:
        return self.orchestrator.get_session(self.session_id)

    def get_messages(self, limit: int | None = None) -> list[ConversationMessage]:
        return self.orchestrator.get_messages(self.session_id, limit=limit)

    def end_session(self, metadata: dict[str, Any] | None = None) -> None:
        self.orchestrator.on_agent_end(self.agent, self.session_id, metadata)

    async def aend_session(self, metadata: dict[str, Any] | None = None) -> None:
        await self.orchestrator.aon_agent_end(self.agent, self.session_id, metadata)


def wrap_agent_with_persistence(
    agent: Any,
    orchestrator: PersistenceOrchestrator,
    session_id: str | None = None,
    user_id: str | None = None,
    auto_resume: bool = True,
) -> Any:
    """Patch ``agent`` in place so its chats are persisted, and return it.

    ``session_id`` defaults to ``"session-" + 8 hex digits``, ``user_id`` to
    ``agent.user_id`` (else ``"default"``). Adds ``get_session()``,
    ``get_messages(limit=None)``, ``end_session()`` and ``aend_session()``.
    """
    session = _AgentSession(agent, orchestrator, session_id, user_id, auto_resume)
    chat = agent.chat

    def persistent_chat(prompt: Any, *args: Any, **kwargs: Any) -> Any:
        return session.chat(chat, prompt, *args, **kwargs)

    agent.chat = persistent_chat
    achat = getattr(agent, "achat", None)
    if achat is not None:

        async def persistent_achat(prompt: Any, *args: Any, **kwargs: Any) -> Any:
            return await session.achat(achat, prompt, *args, **kwargs)

        agent.achat = persistent_achat
    agent._persistence_orchestrator = orchestrator
    agent._persistence_session_id = session.session_id
    agent.get_session = session.get_session
    agent.get_messages = session.get_messages
    agent.end_session = session.end_session
    agent.aend_session = session.aend_session
    return agent


class PersistentAgent:
    """``agent`` with persisted chats, by composition; other attributes are the agent's."""

    def __init__(
        self,
        agent: Any,
        orchestrator: PersistenceOrchestrator,
        session_id: str | None = None,
        user_id: str | None = None,
        auto_resume: bool = True,
    ) -> None:
        self._agent = agent
        self._session = _AgentSession(agent, orchestrator, session_id, user_id, auto_resume)

    @property
    def session_id(self) -> str:
        return self._session.session_id

    def chat(self, prompt: Any, *args: Any, **kwargs: Any) -> Any:
        return self._session.chat(self._agent.chat, prompt, *args, **kwargs)

    async def achat(self, prompt: Any, *args: Any, **kwargs: Any) -> Any:
        """The agent's ``achat``, or its ``chat`` in a worker thread."""
        achat = getattr(self._agent, "achat", None)
        if achat is None:

            async def achat(prompt: Any, *args: Any, **kwargs: Any) -> Any:
                return await asyncio.to_thread(self._agent.chat, prompt, *args, **kwargs)

        return await self._session.achat(achat, prompt, *args, **kwargs)

    def get_session(self) -> ConversationSession | None:
        return self._session.get_session()

    def get_messages(self, limit: int | None = None) -> list[ConversationMessage]:
        return self._session.get_messages(limit)

    def end_session(self, metadata: dict[str, Any] | None = None) -> None:
        self._session.end_session(metadata)

    async def aend_session(self, metadata: dict[str, Any] | None = None) -> None:
        await self._session.aend_session(metadata)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not set yet (during unpickling, copying): no recursion into the agent
            raise AttributeError(name)
        return getattr(self._agent, name)


class _SessionAgent:
    """The agent of a session started without one."""

    name = "session-agent"


# PraisonAI's stand-in agent is called MockAgent, which is what the session's metadata records.
_SessionAgent.__name__ = _SessionAgent.__qualname__ = "MockAgent"


class PersistentSession:
    """A session used without an agent wrapper: ``with create_persistent_session(orchestrator) as session:``."""

    def __init__(self, orchestrator: PersistenceOrchestrator, session_id: str | None, user_id: str | None) -> None:
        self.orchestrator = orchestrator
        self.session_id = session_id or f"session-{uuid.uuid4().hex[:8]}"
        self.user_id = user_id or "default"
        self._started = False

    def start(self, agent: Any = None) -> list[ConversationMessage]:
        """Open the session once (resuming it if it exists); its history, or ``[]``."""
        if self._started:
            return []
        self._started = True
        return self.orchestrator.on_agent_start(agent or _SessionAgent(), self.session_id, self.user_id)

    def end(self, agent: Any = None, metadata: dict[str, Any] | None = None) -> None:
        self.orchestrator.on_agent_end(agent or _SessionAgent(), self.session_id, metadata)

    def persist_message(self, role: str, content: str) -> ConversationMessage | None:
        return self.orchestrator.on_message(self.session_id, role, content)

    def get_messages(self, limit: int | None = None) -> list[ConversationMessage]:
        return self.orchestrator.get_messages(self.session_id, limit=limit)

    def get_session(self) -> ConversationSession | None:
        return self.orchestrator.get_session(self.session_id)

    def __enter__(self) -> PersistentSession:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.end()


def create_persistent_session(
    orchestrator: PersistenceOrchestrator, session_id: str | None = None, user_id: str | None = None
) -> PersistentSession:
    """A :class:`PersistentSession` of ``orchestrator`` (user ``"default"`` unless given)."""
    return PersistentSession(orchestrator, session_id, user_id)
