"""PraisonAI 4.7.19's ``PersistenceOrchestrator``: one object that persists an agent's runs.

>>> from praisonai.persistence.orchestrator import PersistenceOrchestrator
>>> orchestrator = PersistenceOrchestrator(conversation_store=store)
>>> history = orchestrator.on_agent_start(agent, session_id="s1")   # [] for a new session
>>> orchestrator.on_message("s1", "user", "Hello")
>>> orchestrator.on_agent_end(agent, "s1", metadata={"turns": 1})

It holds up to one store of each kind (``conversation``, ``knowledge``, ``state``),
any of which may be None: every helper then returns a neutral value. Agents are
duck-typed: only ``name`` (or ``agent_id``) and the class name are read. Sync
calls work on async stores too (the coroutine is run to completion on one
background event loop, :func:`~praisonai.persistence._compat.run_sync`), and the
``a``-prefixed twins await async stores and run sync stores in a worker thread.

Sessions are cached (least recently used first out, ``PRAISONAI_SESSION_CACHE_MAX``
entries, default 1024). History is whatever the store returns: ``get_messages``
with ``limit=N`` gives the newest N, oldest first (see docs/migrating-from-praisonai.md).
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from types import TracebackType
from typing import Any

from typing_extensions import Self

from ._compat import run_sync
from .config import PersistenceConfig
from .conversation.base import AsyncConversationStore, ConversationMessage, ConversationSession, ConversationStore
from .factory import create_stores_from_config
from .knowledge.base import KnowledgeDocument, KnowledgeStore
from .state.base import StateStore

__all__ = [
    # PraisonAI's module re-exports these names too
    "AsyncConversationStore",
    "ConversationStore",
    "KnowledgeStore",
    "PersistenceConfig",
    "PersistenceOrchestrator",
    "StateStore",
    "create_stores_from_config",
]

logger = logging.getLogger(__name__)

_DEFAULT_CACHE_MAX = 1024


def _cache_max() -> int:
    try:
        value = int(os.environ.get("PRAISONAI_SESSION_CACHE_MAX", _DEFAULT_CACHE_MAX))
    except ValueError:
        return _DEFAULT_CACHE_MAX
    return value if value > 0 else _DEFAULT_CACHE_MAX


def _resolve(value: Any) -> Any:
    """A sync call's result: an async store's coroutine is run to completion."""
    return run_sync(value) if inspect.isawaitable(value) else value


async def _acall(store: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """``store.method(...)`` from async code: awaited on an async store, in a worker thread on a sync one."""
    function = getattr(store, method)
    if inspect.iscoroutinefunction(function):
        return await function(*args, **kwargs)
    result = await asyncio.to_thread(function, *args, **kwargs)
    return await result if inspect.isawaitable(result) else result


class PersistenceOrchestrator:
    """Coordinates the conversation, knowledge and state stores of an agent's runs."""

    def __init__(
        self,
        conversation_store: Any = None,
        knowledge_store: Any = None,
        state_store: Any = None,
        config: PersistenceConfig | None = None,
    ) -> None:
        built: dict[str, Any] = create_stores_from_config(config) if config is not None else {}
        # A store the config builds wins over the one passed in, as in PraisonAI.
        self.conversation: Any = built.get("conversation") or conversation_store
        self.knowledge: Any = built.get("knowledge") or knowledge_store
        self.state: Any = built.get("state") or state_store
        self.config = config
        self._current_session: ConversationSession | None = None
        self._sessions: OrderedDict[str, ConversationSession] = OrderedDict()
        self._cache_max = _cache_max()
        self._cache_lock = threading.Lock()

    @classmethod
    def from_config(cls, config: PersistenceConfig) -> Self:
        return cls(config=config)

    @classmethod
    def from_env(cls) -> Self:
        """Stores named by ``PRAISONAI_*_STORE`` / ``PRAISONAI_*_URL`` (see :meth:`PersistenceConfig.from_env`)."""
        return cls(config=PersistenceConfig.from_env())

    # -- session cache --------------------------------------------------------

    def _cache_put(self, session: ConversationSession) -> None:
        with self._cache_lock:
            self._sessions[session.session_id] = session
            self._sessions.move_to_end(session.session_id)
            while len(self._sessions) > self._cache_max:
                self._sessions.popitem(last=False)

    def _cache_get(self, session_id: str) -> ConversationSession | None:
        with self._cache_lock:
            session = self._sessions.get(session_id)
            if session is not None:
                self._sessions.move_to_end(session_id)
            return session

    def _cache_delete(self, session_id: str) -> ConversationSession | None:
        with self._cache_lock:
            return self._sessions.pop(session_id, None)

    def _cache_clear(self) -> None:
        with self._cache_lock:
            self._sessions.clear()

    # -- agent lifecycle ------------------------------------------------------

    @staticmethod
    def _new_session(agent: Any, session_id: str, user_id: str | None) -> ConversationSession:
        return ConversationSession(
            session_id=session_id,
            user_id=user_id,
            agent_id=getattr(agent, "name", None) or getattr(agent, "agent_id", None),
            name=f"Session {session_id[:8]}",
            metadata={"agent_type": type(agent).__name__},
        )

    def on_agent_start(
        self, agent: Any, session_id: str | None = None, user_id: str | None = None, resume: bool = True
    ) -> list[ConversationMessage]:
        """Open the agent's session: its whole history when ``resume`` finds it, else ``[]`` after creating it.

        With ``resume=False`` the session is created, so an existing id raises
        :class:`~praisonai.persistence.errors.AlreadyExistsError` (nothing is overwritten).
        """
        session_id = session_id or str(uuid.uuid4())
        if not self.conversation:
            return []
        session = _resolve(self.conversation.get_session(session_id)) if resume else None
        if session is None:
            session = _resolve(self.conversation.create_session(self._new_session(agent, session_id, user_id)))
            self._remember(session)
            return []
        self._remember(session)
        return list(_resolve(self.conversation.get_messages(session_id)))

    async def aon_agent_start(
        self, agent: Any, session_id: str | None = None, user_id: str | None = None, resume: bool = True
    ) -> list[ConversationMessage]:
        """Async :meth:`on_agent_start`."""
        session_id = session_id or str(uuid.uuid4())
        if not self.conversation:
            return []
        session = await _acall(self.conversation, "get_session", session_id) if resume else None
        if session is None:
            new = self._new_session(agent, session_id, user_id)
            self._remember(await _acall(self.conversation, "create_session", new))
            return []
        self._remember(session)
        return list(await _acall(self.conversation, "get_messages", session_id))

    def _remember(self, session: ConversationSession) -> None:
        self._cache_put(session)
        self._current_session = session

    @staticmethod
    def _message(session_id: str, role: str, content: str, *fields: Any, **named: Any) -> ConversationMessage:
        # fields: tool_calls, tool_call_id, metadata, in ConversationMessage's (and on_message's) order;
        # created_at is the dataclass's default, now
        return ConversationMessage(str(uuid.uuid4()), session_id, role, content, *fields, **named)

    def on_message(
        self,
        session_id: str,
        role: str,
        content: str,
        tool_calls: list[dict[str, Any]] | None = None,
        tool_call_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> ConversationMessage | None:
        """Store one message of the session; None when there is no conversation store."""
        if not self.conversation:
            return None
        message = self._message(session_id, role, content, tool_calls, tool_call_id, metadata)
        _resolve(self.conversation.add_message(session_id, message))
        return message

    async def aon_message(
        self, session_id: str, role: str, content: str, *args: Any, **kwargs: Any
    ) -> ConversationMessage | None:
        """Async :meth:`on_message` (the same arguments)."""
        if not self.conversation:
            return None
        message = self._message(session_id, role, content, *args, **kwargs)
        await _acall(self.conversation, "add_message", session_id, message)
        return message

    def _ended(self, session: ConversationSession, metadata: dict[str, Any] | None) -> ConversationSession:
        session = copy.deepcopy(session)
        session.updated_at = time.time()
        if metadata:
            session.metadata = {**(session.metadata or {}), **metadata}
        return session

    def on_agent_end(self, agent: Any, session_id: str, metadata: dict[str, Any] | None = None) -> None:
        """Stamp the session's ``updated_at`` and merge ``metadata`` into its metadata; a missing session is ignored."""
        if not self.conversation:
            return
        session = self._cache_get(session_id) or _resolve(self.conversation.get_session(session_id))
        if session is None:
            return
        self._cache_put(_resolve(self.conversation.update_session(self._ended(session, metadata))))

    async def aon_agent_end(self, agent: Any, session_id: str, metadata: dict[str, Any] | None = None) -> None:
        """Async :meth:`on_agent_end`."""
        if not self.conversation:
            return
        session = self._cache_get(session_id) or await _acall(self.conversation, "get_session", session_id)
        if session is None:
            return
        self._cache_put(await _acall(self.conversation, "update_session", self._ended(session, metadata)))

    # -- knowledge ----------------------------------------------------------------

    def retrieve_knowledge(
        self,
        query_embedding: list[float],
        collection: str = "default",
        limit: int = 5,
        filters: dict[str, Any] | None = None,
    ) -> list[KnowledgeDocument]:
        """The ``limit`` documents closest to ``query_embedding``; ``[]`` without a knowledge store."""
        if not self.knowledge:
            return []
        return list(_resolve(self.knowledge.search(collection, query_embedding, limit=limit, filters=filters)))

    async def aretrieve_knowledge(self, *args: Any, **kwargs: Any) -> list[KnowledgeDocument]:
        """Async :meth:`retrieve_knowledge` (the same arguments), run in a worker thread."""
        return await asyncio.to_thread(self.retrieve_knowledge, *args, **kwargs)

    def add_knowledge(self, documents: list[KnowledgeDocument], collection: str = "default") -> list[str]:
        """Upsert ``documents`` into ``collection``; ValueError without a knowledge store."""
        if not self.knowledge:
            raise ValueError("no knowledge store configured")
        return list(_resolve(self.knowledge.upsert(collection, documents)))

    async def aadd_knowledge(self, *args: Any, **kwargs: Any) -> list[str]:
        """Async :meth:`add_knowledge` (the same arguments), run in a worker thread."""
        return await asyncio.to_thread(self.add_knowledge, *args, **kwargs)

    # -- state ------------------------------------------------------------------

    def get_state(self, key: str) -> Any:
        """The value of ``key``; None without a state store."""
        return _resolve(self.state.get(key)) if self.state else None

    def set_state(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Set ``key`` (``ttl`` in seconds); nothing without a state store."""
        if self.state:
            _resolve(self.state.set(key, value, ttl=ttl))

    def delete_state(self, key: str) -> bool:
        """Whether ``key`` existed and was deleted; False without a state store."""
        return bool(_resolve(self.state.delete(key))) if self.state else False

    # -- sessions -----------------------------------------------------------------

    def get_session(self, session_id: str) -> ConversationSession | None:
        return _resolve(self.conversation.get_session(session_id)) if self.conversation else None

    def list_sessions(self, user_id: str | None = None, limit: int = 100) -> list[ConversationSession]:
        if not self.conversation:
            return []
        return list(_resolve(self.conversation.list_sessions(user_id=user_id, limit=limit)))

    def delete_session(self, session_id: str) -> bool:
        self._cache_delete(session_id)
        return bool(_resolve(self.conversation.delete_session(session_id))) if self.conversation else False

    def get_messages(self, session_id: str, limit: int | None = None) -> list[ConversationMessage]:
        """The session's messages, oldest first; ``limit=N``: the newest N."""
        if not self.conversation:
            return []
        return list(_resolve(self.conversation.get_messages(session_id, limit=limit)))

    def build_context(
        self,
        session_id: str,
        query_embedding: list[float] | None = None,
        history_limit: int = 20,
        knowledge_limit: int = 5,
        knowledge_collection: str = "default",
    ) -> dict[str, Any]:
        """``{"history": [{"role", "content"}, ...], "knowledge": [{"content", "metadata"}, ...]}`` for a prompt.

        The history is the newest ``history_limit`` messages, oldest first.
        """
        history = self.get_messages(session_id, limit=history_limit)
        knowledge: list[KnowledgeDocument] = []
        if query_embedding is not None:
            knowledge = self.retrieve_knowledge(query_embedding, knowledge_collection, limit=knowledge_limit)
        return {
            "history": [{"role": message.role, "content": message.content} for message in history],
            "knowledge": [{"content": document.content, "metadata": document.metadata} for document in knowledge],
        }

    # -- closing ------------------------------------------------------------------

    def close(self) -> None:
        """Close every store; a store whose close fails is logged and kept."""
        for kind in ("conversation", "knowledge", "state"):
            store = getattr(self, kind)
            if store is None:
                continue
            try:
                _resolve(store.close())
            except Exception:
                logger.exception("closing the %s store failed", kind)
            else:
                setattr(self, kind, None)
        self._cache_clear()

    async def aclose(self) -> None:
        """Async :meth:`close`."""
        for kind in ("conversation", "knowledge", "state"):
            store = getattr(self, kind)
            if store is None:
                continue
            try:
                await _acall(store, "aclose" if hasattr(store, "aclose") else "close")
            except Exception:
                logger.exception("closing the %s store failed", kind)
            else:
                setattr(self, kind, None)
        self._cache_clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()
