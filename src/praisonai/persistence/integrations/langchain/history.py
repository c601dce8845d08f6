"""LangChain's ``BaseChatMessageHistory`` over any conversation store (see the package docstring)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any, cast

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    message_to_dict,
    messages_from_dict,
)

from ...conversation.base import AsyncConversationStore, ConversationMessage, ConversationSession, ConversationStore
from ...errors import AlreadyExistsError, InvalidInputError, NotFoundError, UsageError
from .._store_traits import backend_of, is_async

__all__ = ["LANGCHAIN_KEY", "PersistenceChatMessageHistory", "from_conversation_message", "to_conversation_message"]


LANGCHAIN_KEY = "langchain"
"""The message metadata key that holds LangChain's own serialisation of a message."""

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "function"}


# -- messages -------------------------------------------------------------------------------------------------------


def _text(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "".join(parts)


def _role(message: BaseMessage) -> str:
    if isinstance(message, ChatMessage) or message.type in ("chat", "ChatMessageChunk"):
        return str(getattr(message, "role", "chat"))
    kind = message.type.removesuffix("MessageChunk").lower()
    return _ROLES.get(kind, kind)


def to_conversation_message(message: BaseMessage) -> ConversationMessage:
    """Our message for a LangChain message: the portable fields, and LangChain's form in the metadata."""
    converted = ConversationMessage(
        role=_role(message), content=_text(message.content), metadata={LANGCHAIN_KEY: message_to_dict(message)}
    )
    if isinstance(message, AIMessage) and message.tool_calls:
        converted.tool_calls = [
            {
                "id": call.get("id"),
                "type": "function",
                "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
            }
            for call in message.tool_calls
        ]
    if isinstance(message, ToolMessage):
        converted.tool_call_id = message.tool_call_id
    return converted


def _tool_calls(raw: list[dict[str, Any]] | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    valid: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for call in raw or []:
        nested = call.get("function")
        function: dict[str, Any] = nested if isinstance(nested, dict) else call
        name = function.get("name")
        arguments = function.get("arguments", function.get("args", {}))
        try:
            args = json.loads(arguments) if isinstance(arguments, str) else arguments
        except ValueError:
            args = None
        if isinstance(args, dict) and isinstance(name, str):
            valid.append({"name": name, "args": args, "id": call.get("id"), "type": "tool_call"})
        else:
            text = arguments if isinstance(arguments, str) else json.dumps(arguments, default=str)
            invalid.append(
                {
                    "name": name,
                    "args": text,
                    "id": call.get("id"),
                    "error": "unparsable arguments",
                    "type": "invalid_tool_call",
                }
            )
    return valid, invalid


def from_conversation_message(message: ConversationMessage) -> BaseMessage:
    """The LangChain message for one of ours: exactly the one stored, or one made from its role."""
    stored = (message.metadata or {}).get(LANGCHAIN_KEY)
    if isinstance(stored, dict):
        return messages_from_dict([stored])[0]
    role, content, id_ = message.role, message.content, message.id
    if role == "user":
        return HumanMessage(content=content, id=id_)
    if role == "system":
        return SystemMessage(content=content, id=id_)
    if role == "assistant":
        valid, invalid = _tool_calls(message.tool_calls)
        return AIMessage(content=content, id=id_, tool_calls=valid, invalid_tool_calls=invalid)
    if role == "tool":
        return ToolMessage(content=content, id=id_, tool_call_id=message.tool_call_id or "")
    return ChatMessage(content=content, id=id_, role=role)


class PersistenceChatMessageHistory(BaseChatMessageHistory):
    """LangChain chat history of one session of a conversation store; the session is created on first write."""

    def __init__(
        self,
        store: ConversationStore | AsyncConversationStore,
        session_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
    ) -> None:
        if not session_id:
            raise InvalidInputError(f"{backend_of(store)}: session_id must be a non-empty str, got {session_id!r}")
        self.store = store
        self.session_id = session_id
        self.user_id = user_id
        self.agent_id = agent_id
        self._async = is_async(store.add_message)

    def __repr__(self) -> str:
        return f"<PersistenceChatMessageHistory {self.session_id!r} on {backend_of(self.store)}>"

    def _sync(self, instead: str) -> ConversationStore:
        if self._async:
            raise UsageError(
                f"{backend_of(self.store)}: this history is over an async conversation store; use {instead}"
            )
        return cast(ConversationStore, self.store)

    def _async_store(self) -> AsyncConversationStore:
        return cast(AsyncConversationStore, self.store)

    def _session(self) -> ConversationSession:
        return ConversationSession(session_id=self.session_id, user_id=self.user_id, agent_id=self.agent_id)

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # a property, as LangChain's own histories
        store = self._sync("aget_messages()")
        return [from_conversation_message(message) for message in store.get_messages(self.session_id)]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        store = self._sync("aadd_messages()")
        converted = [to_conversation_message(message) for message in messages]
        if not converted:
            return
        try:
            store.add_messages(self.session_id, converted)
        except NotFoundError:
            with contextlib.suppress(AlreadyExistsError):  # created meanwhile by another writer
                store.create_session(self._session())
            store.add_messages(self.session_id, converted)

    def clear(self) -> None:
        self._sync("aclear()").delete_messages(self.session_id)

    async def aget_messages(self) -> list[BaseMessage]:
        if not self._async:
            return await super().aget_messages()
        stored = await self._async_store().get_messages(self.session_id)
        return [from_conversation_message(message) for message in stored]

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        if not self._async:
            return await super().aadd_messages(messages)
        store = self._async_store()
        converted = [to_conversation_message(message) for message in messages]
        if not converted:
            return None
        try:
            await store.add_messages(self.session_id, converted)
        except NotFoundError:
            with contextlib.suppress(AlreadyExistsError):
                await store.create_session(self._session())
            await store.add_messages(self.session_id, converted)
        return None

    async def aclear(self) -> None:
        if not self._async:
            return await super().aclear()
        await self._async_store().delete_messages(self.session_id)
        return None
