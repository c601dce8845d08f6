"""praisonai-persistence: conversations, knowledge and state in any storage backend.

>>> from praisonai.persistence import CONVERSATION_STORES, ConversationSession
>>> store = CONVERSATION_STORES.create("sqlite", path=":memory:")

Importing this package is cheap: it imports no driver and no pydantic, and
reads no package metadata. Names below are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    AlreadyExistsError,
    BackendNotFoundError,
    BackendUnavailableError,
    ConfigError,
    ContractError,
    DriverImportError,
    InvalidInputError,
    MissingDriverError,
    NotFoundError,
    NotJSONSerializableError,
    PersistenceError,
    PluginLoadError,
    RegistrationError,
    StoreError,
    UnsupportedFilterError,
    WrongTypeError,
)

if TYPE_CHECKING:
    from .conversation.base import (
        AsyncConversationStore,
        ConversationMessage,
        ConversationSession,
        ConversationStore,
    )
    from .knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
    from .registry import (
        CONVERSATION_STORES,
        KNOWLEDGE_STORES,
        STATE_STORES,
        BackendInfo,
        PluginWarning,
        StoreRegistry,
    )
    from .state.base import AsyncStateStore, StateStore
    from .url import URL

__version__ = "0.1.0"

_LAZY = {
    "CONVERSATION_STORES": "registry",
    "KNOWLEDGE_STORES": "registry",
    "STATE_STORES": "registry",
    "BackendInfo": "registry",
    "PluginWarning": "registry",
    "StoreRegistry": "registry",
    "AsyncConversationStore": "conversation.base",
    "ConversationMessage": "conversation.base",
    "ConversationSession": "conversation.base",
    "ConversationStore": "conversation.base",
    "AsyncKnowledgeStore": "knowledge.base",
    "KnowledgeDocument": "knowledge.base",
    "KnowledgeStore": "knowledge.base",
    "AsyncStateStore": "state.base",
    "StateStore": "state.base",
    "URL": "url",
}

__all__ = [
    "CONVERSATION_STORES",
    "KNOWLEDGE_STORES",
    "STATE_STORES",
    "URL",
    "AlreadyExistsError",
    "AsyncConversationStore",
    "AsyncKnowledgeStore",
    "AsyncStateStore",
    "BackendInfo",
    "BackendNotFoundError",
    "BackendUnavailableError",
    "ConfigError",
    "ContractError",
    "ConversationMessage",
    "ConversationSession",
    "ConversationStore",
    "DriverImportError",
    "InvalidInputError",
    "KnowledgeDocument",
    "KnowledgeStore",
    "MissingDriverError",
    "NotFoundError",
    "NotJSONSerializableError",
    "PersistenceError",
    "PluginLoadError",
    "PluginWarning",
    "RegistrationError",
    "StateStore",
    "StoreError",
    "StoreRegistry",
    "UnsupportedFilterError",
    "WrongTypeError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
