"""praisonai-persistence: conversations, knowledge and state in any storage backend.

>>> from praisonai.persistence import CONVERSATION_STORES, ConversationSession
>>> store = CONVERSATION_STORES.create("sqlite", path=":memory:")

Importing this package is cheap: it imports no driver and no pydantic, and
reads no package metadata. Names below are loaded on first use.
"""

from __future__ import annotations

from ._lazy import lazy_getattr
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

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _typing_lite.py)

if TYPE_CHECKING:
    from .config import PersistenceConfig
    from .conversation.base import (
        AsyncConversationStore,
        ConversationMessage,
        ConversationSession,
        ConversationStore,
    )
    from .factory import (
        create_conversation_store,
        create_knowledge_store,
        create_state_store,
        create_stores_from_config,
    )
    from .hooks.agent_hooks import PersistentAgent, create_persistent_session, wrap_agent_with_persistence
    from .knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
    from .orchestrator import PersistenceOrchestrator
    from .registry import (
        CONVERSATION_STORES,
        KNOWLEDGE_STORES,
        STATE_STORES,
        BackendInfo,
        PluginWarning,
        StoreRegistry,
        get_default_registry,
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
    # PraisonAI 4.7.19's top-level names
    "PersistenceConfig": "config",
    "PersistenceOrchestrator": "orchestrator",
    "PersistentAgent": "hooks.agent_hooks",
    "create_conversation_store": "factory",
    "create_knowledge_store": "factory",
    "create_persistent_session": "hooks.agent_hooks",
    "create_state_store": "factory",
    "create_stores_from_config": "factory",
    "get_default_registry": "registry",
    "wrap_agent_with_persistence": "hooks.agent_hooks",
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
    "PersistenceConfig",
    "PersistenceError",
    "PersistenceOrchestrator",
    "PersistentAgent",
    "PluginLoadError",
    "PluginWarning",
    "RegistrationError",
    "StateStore",
    "StoreError",
    "StoreRegistry",
    "UnsupportedFilterError",
    "WrongTypeError",
    "__version__",
    "create_conversation_store",
    "create_knowledge_store",
    "create_persistent_session",
    "create_state_store",
    "create_stores_from_config",
    "get_default_registry",
    "wrap_agent_with_persistence",
]


__getattr__ = lazy_getattr(__name__, {name: f".{module}" for name, module in _LAZY.items()})


def __dir__() -> list[str]:
    return sorted(__all__)
