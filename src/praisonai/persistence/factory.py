"""PraisonAI 4.7.19's factory functions: a store by backend name, through a registry.

>>> from praisonai.persistence.factory import create_conversation_store
>>> store = create_conversation_store("sqlite", path="chat.db")

Each function calls ``registry.create(backend, url=url, **options)`` on the
process-wide registry of its kind, or on the object passed as ``registry=``
(anything with such a ``create``), so built-ins validate the URL and options
into their config model and every result is checked against the kind's contract.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal, overload

from .config import PersistenceConfig
from .registry import StoreRegistry, get_default_registry

if TYPE_CHECKING:
    from ._names import (
        AsyncConversationName,
        AsyncKnowledgeName,
        AsyncStateName,
        ConversationTwinName,
        SyncConversationName,
        SyncKnowledgeName,
        SyncStateName,
    )
    from .conversation.base import AsyncConversationStore, ConversationStore
    from .knowledge.base import AsyncKnowledgeStore, KnowledgeStore
    from .state.base import AsyncStateStore, StateStore

__all__ = [
    "PersistenceConfig",
    "StoreRegistry",
    "create_conversation_store",
    "create_knowledge_store",
    "create_state_store",
    "create_stores_from_config",
    "get_default_registry",
]

logger = logging.getLogger(__name__)

Mode = Literal["sync", "async", "auto"]
_MODES = ("sync", "async", "auto")


# The result types, as the registries give them: by backend name, and by mode for the engines with twins.
@overload
def create_conversation_store(
    backend: SyncConversationName,
    url: str | None = None,
    mode: Literal["sync", "auto"] = "auto",
    *,
    registry: None = None,
    **options: Any,
) -> ConversationStore: ...
@overload
def create_conversation_store(
    backend: AsyncConversationName,
    url: str | None = None,
    mode: Literal["async", "auto"] = "auto",
    *,
    registry: None = None,
    **options: Any,
) -> AsyncConversationStore: ...
@overload
def create_conversation_store(
    backend: ConversationTwinName,
    url: str | None = None,
    *,
    mode: Literal["async"],
    registry: None = None,
    **options: Any,
) -> AsyncConversationStore: ...
@overload
def create_conversation_store(
    backend: str, url: str | None = None, mode: Mode = "auto", *, registry: Any = None, **options: Any
) -> ConversationStore | AsyncConversationStore: ...
def create_conversation_store(
    backend: str,
    url: str | None = None,
    mode: Mode = "auto",
    *,
    registry: Any = None,
    **options: Any,
) -> ConversationStore | AsyncConversationStore:
    """A conversation store of ``backend`` (name or alias) from ``url`` and ``options``.

    ``mode="sync"`` / ``"async"`` picks the sync or async backend of ``sqlite``,
    ``postgres`` and ``mysql`` (``"auto"``: the name as given; other names are
    not rewritten).
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, _MODES))}, got {mode!r}")
    name = backend
    if mode != "auto":
        from ._catalogue import has_async_twin

        if has_async_twin(backend):
            name = f"async_{backend}" if mode == "async" else backend
    return _create(registry, "conversation", name, url, options)  # type: ignore[no-any-return]


@overload
def create_knowledge_store(
    backend: SyncKnowledgeName, url: str | None = None, *, registry: None = None, **options: Any
) -> KnowledgeStore: ...
@overload
def create_knowledge_store(
    backend: AsyncKnowledgeName, url: str | None = None, *, registry: None = None, **options: Any
) -> AsyncKnowledgeStore: ...
@overload
def create_knowledge_store(
    backend: str, url: str | None = None, *, registry: Any = None, **options: Any
) -> KnowledgeStore | AsyncKnowledgeStore: ...
def create_knowledge_store(
    backend: str, url: str | None = None, *, registry: Any = None, **options: Any
) -> KnowledgeStore | AsyncKnowledgeStore:
    """A knowledge store of ``backend`` (name or alias) from ``url`` and ``options`` (``async_<name>``:
    an AsyncKnowledgeStore)."""
    return _create(registry, "knowledge", backend, url, options)  # type: ignore[no-any-return]


@overload
def create_state_store(
    backend: SyncStateName, url: str | None = None, *, registry: None = None, **options: Any
) -> StateStore: ...
@overload
def create_state_store(
    backend: AsyncStateName, url: str | None = None, *, registry: None = None, **options: Any
) -> AsyncStateStore: ...
@overload
def create_state_store(
    backend: str, url: str | None = None, *, registry: Any = None, **options: Any
) -> StateStore | AsyncStateStore: ...
def create_state_store(
    backend: str, url: str | None = None, *, registry: Any = None, **options: Any
) -> StateStore | AsyncStateStore:
    """A state store of ``backend`` (name or alias) from ``url`` and ``options``."""
    return _create(registry, "state", backend, url, options)  # type: ignore[no-any-return]


def _create(registry: Any, kind: str, name: str, url: str | None, options: dict[str, Any]) -> Any:
    if registry is None:
        registry = get_default_registry(kind)
    return registry.create(name, url=url, **options)


def create_stores_from_config(config: PersistenceConfig) -> dict[str, Any]:
    """``{"conversation": store or None, "knowledge": ..., "state": ...}`` for the kinds ``config`` names.

    ``conversation_options["mode"]`` is the ``mode`` of :func:`create_conversation_store`.
    ``session_id``, ``user_id``, ``auto_create_tables`` and ``lazy_init`` go to no store.
    """
    stores: dict[str, Any] = {"conversation": None, "knowledge": None, "state": None}
    try:
        _create_configured(config, stores)
    except BaseException:
        for store in stores.values():  # the ones already open: a failed call leaves nothing behind
            if store is not None:
                close = store.close()
                if close is not None and hasattr(close, "__await__"):
                    from ._compat import run_sync

                    run_sync(close)
        raise
    return stores


def _create_configured(config: PersistenceConfig, stores: dict[str, Any]) -> None:
    if config.conversation_store:
        options = dict(config.conversation_options)
        mode = options.pop("mode", "auto")
        stores["conversation"] = create_conversation_store(
            config.conversation_store, url=config.conversation_url, mode=mode, **options
        )
    if config.knowledge_store:
        stores["knowledge"] = create_knowledge_store(
            config.knowledge_store, url=config.knowledge_url, **config.knowledge_options
        )
    if config.state_store:
        stores["state"] = create_state_store(config.state_store, url=config.state_url, **config.state_options)
