"""The relational conversation stores' contract methods, each running one operation of ``_sql_operations.py``.

:class:`SqlConversationStore` and :class:`AsyncSqlConversationStore` hold no
logic: each method hands its operation to the store's runner (``_run``), which
executes it on the engine under the call guard. The sqlite, turso and server
runners implement ``_run``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import ParamSpec, TypeVar

from .._guard import GuardedStore
from ..errors import InvalidInputError
from ._sql_operations import ConversationOperations, Operation
from .base import AsyncConversationStore, ConversationMessage, ConversationSession, ConversationStore

__all__ = ["AsyncSqlConversationStore", "SqlConversationStore"]

R = TypeVar("R")
P = ParamSpec("P")


def _batch(messages: Iterable[ConversationMessage], backend: str) -> list[ConversationMessage]:
    """The messages as a list: a runner may run the operation twice, and an iterator runs out."""
    if isinstance(messages, list):
        return messages
    try:
        return list(messages)
    except TypeError:
        raise InvalidInputError(
            f"messages must be an iterable of ConversationMessage, not {type(messages).__name__}", backend=backend
        ) from None


class SqlConversationStore(GuardedStore, ConversationStore):
    """A ConversationStore whose methods run :class:`ConversationOperations`.

    Subclasses open the connection and implement :meth:`_run`, which executes
    an operation inside one transaction when ``write`` is true. It gets a factory of
    the operation, not the operation, so that it can run it again after a deadlock.
    """

    _ops: ConversationOperations

    @abstractmethod
    def _run(self, make: Callable[[], Operation[R]], write: bool) -> R:
        """Run the operation ``make()`` returns; a runner may call ``make`` again to retry it from scratch."""

    def _call(self, write: bool, method: Callable[P, Operation[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        with self._guard:
            return self._run(partial(method, *args, **kwargs), write)

    def create_session(self, session: ConversationSession) -> ConversationSession:
        return self._call(True, self._ops.create_session, session)

    def get_session(self, session_id: str) -> ConversationSession | None:
        return self._call(False, self._ops.get_session, session_id)

    def update_session(self, session: ConversationSession) -> ConversationSession:
        return self._call(True, self._ops.update_session, session)

    def upsert_session(self, session: ConversationSession) -> ConversationSession:
        return self._call(True, self._ops.upsert_session, session)

    def delete_session(self, session_id: str) -> bool:
        return self._call(True, self._ops.delete_session, session_id)

    def list_sessions(
        self, user_id: str | None = None, agent_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[ConversationSession]:
        return self._call(False, self._ops.list_sessions, user_id, agent_id, limit, offset)

    def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage:
        return self._call(True, self._ops.add_message, session_id, message)

    def add_messages(self, session_id: str, messages: Iterable[ConversationMessage]) -> list[ConversationMessage]:
        return self._call(True, self._ops.add_messages, session_id, _batch(messages, self.backend))

    def get_messages(
        self, session_id: str, limit: int | None = None, before: float | None = None, after: float | None = None
    ) -> list[ConversationMessage]:
        return self._call(False, self._ops.get_messages, session_id, limit, before, after)

    def delete_messages(self, session_id: str, message_ids: Sequence[str] | None = None) -> int:
        return self._call(True, self._ops.delete_messages, session_id, message_ids)

    # -- ConversationTransfer ---------------------------------------------------------

    def iter_messages(self, session_id: str, batch_size: int = 1000) -> Iterator[list[ConversationMessage]]:
        """Every message of the session, oldest first, ``batch_size`` at a time (a keyset query)."""
        after: tuple[float, int] | None = None
        while True:
            messages, after = self._call(False, self._ops.message_page, session_id, after, batch_size)
            if messages:
                yield messages
            if len(messages) < batch_size:
                return

    def restore_session(self, session: ConversationSession) -> ConversationSession:
        """Store the session exactly as given, timestamps included (creating or replacing it)."""
        return self._call(True, self._ops.restore_session, session)


class AsyncSqlConversationStore(GuardedStore, AsyncConversationStore):
    """The asyncio twin of :class:`SqlConversationStore`, driving the same operations."""

    _ops: ConversationOperations

    @abstractmethod
    async def _run(self, make: Callable[[], Operation[R]], write: bool) -> R: ...

    async def _call(self, write: bool, method: Callable[P, Operation[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        with self._guard:
            return await self._run(partial(method, *args, **kwargs), write)

    async def create_session(self, session: ConversationSession) -> ConversationSession:
        return await self._call(True, self._ops.create_session, session)

    async def get_session(self, session_id: str) -> ConversationSession | None:
        return await self._call(False, self._ops.get_session, session_id)

    async def update_session(self, session: ConversationSession) -> ConversationSession:
        return await self._call(True, self._ops.update_session, session)

    async def upsert_session(self, session: ConversationSession) -> ConversationSession:
        return await self._call(True, self._ops.upsert_session, session)

    async def delete_session(self, session_id: str) -> bool:
        return await self._call(True, self._ops.delete_session, session_id)

    async def list_sessions(
        self, user_id: str | None = None, agent_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[ConversationSession]:
        return await self._call(False, self._ops.list_sessions, user_id, agent_id, limit, offset)

    async def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage:
        return await self._call(True, self._ops.add_message, session_id, message)

    async def add_messages(self, session_id: str, messages: Iterable[ConversationMessage]) -> list[ConversationMessage]:
        return await self._call(True, self._ops.add_messages, session_id, _batch(messages, self.backend))

    async def get_messages(
        self, session_id: str, limit: int | None = None, before: float | None = None, after: float | None = None
    ) -> list[ConversationMessage]:
        return await self._call(False, self._ops.get_messages, session_id, limit, before, after)

    async def delete_messages(self, session_id: str, message_ids: Sequence[str] | None = None) -> int:
        return await self._call(True, self._ops.delete_messages, session_id, message_ids)

    # -- AsyncConversationTransfer ----------------------------------------------------

    async def iter_messages(self, session_id: str, batch_size: int = 1000) -> AsyncIterator[list[ConversationMessage]]:
        after: tuple[float, int] | None = None
        while True:
            messages, after = await self._call(False, self._ops.message_page, session_id, after, batch_size)
            if messages:
                yield messages
            if len(messages) < batch_size:
                return

    async def restore_session(self, session: ConversationSession) -> ConversationSession:
        return await self._call(True, self._ops.restore_session, session)
