"""The conversation store contract: sessions and their messages.

``ConversationStore`` and ``AsyncConversationStore`` are runtime-checkable
Protocols. Implement them structurally, or subclass one explicitly to inherit
the defaults written here (``upsert_session``, ``add_messages``, the context
manager); members marked abstract must be written by the backend.

Semantics every backend keeps (the contract suite in
``praisonai.persistence.testing`` checks them):

- ``create_session`` of an existing id raises :class:`AlreadyExistsError`; it
  never overwrites. ``update_session`` of a missing id raises :class:`NotFoundError`.
- ``add_message`` to a missing session raises :class:`NotFoundError`; a message id
  already in the session raises :class:`AlreadyExistsError`.
- ``get_messages`` returns oldest first; ``limit=N`` gives the N most recent,
  still oldest first. ``before``/``after`` are exclusive bounds on
  ``created_at`` (``0.0`` is a bound, not "unset"). Equal timestamps keep
  insertion order.
- ``delete_messages(session_id)`` deletes all of the session's messages,
  ``delete_messages(session_id, [])`` deletes none.
- ``list_sessions`` returns the most recently updated first.

Two optional extras, :class:`ConversationTransfer` and its async twin, are not
part of the contract: a store that has them is copied exactly and quickly by
``praisonai-persistence migrate`` / ``export`` / ``import``; one that lacks
them is copied through the contract methods alone (see ``docs/cli.md``).
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .._closing import AsyncClosing, Closing
from .._compat import validate_identifier
from .._values import DictForm, new_id
from ..errors import AlreadyExistsError

__all__ = [
    "AsyncConversationStore",
    "AsyncConversationTransfer",
    "ConversationMessage",
    "ConversationSession",
    "ConversationStore",
    "ConversationTransfer",
    "validate_identifier",
]


@dataclass(slots=True)
class ConversationMessage(DictForm):
    """One message of a session. ``created_at`` is seconds since the epoch."""

    id: str = field(default_factory=new_id)
    session_id: str = ""
    role: str = ""
    content: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    metadata: dict[str, Any] | None = None
    created_at: float = field(default_factory=time.time)


@dataclass(slots=True)
class ConversationSession(DictForm):
    """A conversation: who it belongs to, free-form state and metadata."""

    session_id: str = field(default_factory=new_id)
    user_id: str | None = None
    agent_id: str | None = None
    name: str | None = None
    state: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


@runtime_checkable
class ConversationStore(Closing, Protocol):
    """A synchronous store of sessions and messages."""

    @abstractmethod
    def create_session(self, session: ConversationSession) -> ConversationSession:
        """Store a new session; raise AlreadyExistsError if its id is taken."""

    @abstractmethod
    def get_session(self, session_id: str) -> ConversationSession | None:
        """The session, or None."""

    @abstractmethod
    def update_session(self, session: ConversationSession) -> ConversationSession:
        """Replace a session's fields and bump ``updated_at``; raise NotFoundError if missing."""

    @abstractmethod
    def delete_session(self, session_id: str) -> bool:
        """Delete a session and all its messages; False if it did not exist."""

    @abstractmethod
    def list_sessions(
        self,
        user_id: str | None = None,
        agent_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ConversationSession]:
        """Sessions, most recently updated first, optionally filtered by user and agent."""

    @abstractmethod
    def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage:
        """Append a message; it is durable when this returns."""

    def add_messages(self, session_id: str, messages: Iterable[ConversationMessage]) -> list[ConversationMessage]:
        """Append several messages. Backends override this to write them in one transaction."""
        return [self.add_message(session_id, message) for message in messages]

    @abstractmethod
    def get_messages(
        self,
        session_id: str,
        limit: int | None = None,
        before: float | None = None,
        after: float | None = None,
    ) -> list[ConversationMessage]:
        """Messages oldest first; ``limit`` keeps the most recent ones."""

    @abstractmethod
    def delete_messages(self, session_id: str, message_ids: Sequence[str] | None = None) -> int:
        """Delete the given messages (all when None); return how many were deleted."""

    def upsert_session(self, session: ConversationSession) -> ConversationSession:
        """Create the session or update it. Backends override this to make it atomic."""
        try:
            return self.create_session(session)
        except AlreadyExistsError:
            return self.update_session(session)

    @abstractmethod
    def close(self) -> None:
        """Release connections and files. Further calls are an error."""


@runtime_checkable
class AsyncConversationStore(AsyncClosing, Protocol):
    """The asyncio twin of :class:`ConversationStore`, with the same semantics."""

    @abstractmethod
    async def create_session(self, session: ConversationSession) -> ConversationSession: ...

    @abstractmethod
    async def get_session(self, session_id: str) -> ConversationSession | None: ...

    @abstractmethod
    async def update_session(self, session: ConversationSession) -> ConversationSession: ...

    @abstractmethod
    async def delete_session(self, session_id: str) -> bool: ...

    @abstractmethod
    async def list_sessions(
        self,
        user_id: str | None = None,
        agent_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ConversationSession]: ...

    @abstractmethod
    async def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage: ...

    async def add_messages(self, session_id: str, messages: Iterable[ConversationMessage]) -> list[ConversationMessage]:
        return [await self.add_message(session_id, message) for message in messages]

    @abstractmethod
    async def get_messages(
        self,
        session_id: str,
        limit: int | None = None,
        before: float | None = None,
        after: float | None = None,
    ) -> list[ConversationMessage]: ...

    @abstractmethod
    async def delete_messages(self, session_id: str, message_ids: Sequence[str] | None = None) -> int: ...

    async def upsert_session(self, session: ConversationSession) -> ConversationSession:
        try:
            return await self.create_session(session)
        except AlreadyExistsError:
            return await self.update_session(session)


@runtime_checkable
class ConversationTransfer(Protocol):
    """Optional extras of a :class:`ConversationStore` for exact, streaming copies.

    Not part of the contract (the registry does not require them): the
    ``migrate``, ``export`` and ``import`` commands use each method a store
    has, and fall back to the contract methods otherwise.
    """

    def iter_messages(self, session_id: str, batch_size: int = 1000) -> Iterator[list[ConversationMessage]]:
        """Every message of the session, oldest first (equal timestamps in insertion order),
        in lists of at most ``batch_size``, holding one list in memory at a time."""
        ...

    def restore_session(self, session: ConversationSession) -> ConversationSession:
        """Store ``session`` exactly as given, ``created_at`` and ``updated_at`` included,
        creating it or replacing its fields; its messages are untouched."""
        ...


@runtime_checkable
class AsyncConversationTransfer(Protocol):
    """The asyncio twin of :class:`ConversationTransfer`."""

    def iter_messages(self, session_id: str, batch_size: int = 1000) -> AsyncIterator[list[ConversationMessage]]: ...

    async def restore_session(self, session: ConversationSession) -> ConversationSession: ...
