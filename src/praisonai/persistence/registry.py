"""Registries of store factories: built-ins, entry-point plugins and run-time registrations.

>>> from praisonai.persistence.registry import CONVERSATION_STORES
>>> store = CONVERSATION_STORES.create("sqlite", path=":memory:")

Four process-wide registries, one per kind, each a :class:`StoreRegistry`
(embedders are not stores, but are found, configured and checked the same way):

======================  ==============  ===============================
registry                kind            entry-point group
======================  ==============  ===============================
``CONVERSATION_STORES`` conversation    ``praisonai.conversation_stores``
``KNOWLEDGE_STORES``    knowledge       ``praisonai.knowledge_stores``
``STATE_STORES``        state           ``praisonai.state_stores``
``EMBEDDERS``           embedder        ``praisonai.embedders``
======================  ==============  ===============================

Built-ins come from the catalogue, read on a registry's first use. Entry points are
read once, on the first lookup of a name that is not built in (or a listing),
and cached until :meth:`StoreRegistry.refresh`. Importing this module imports
no driver, no pydantic and reads no package metadata.
"""

from __future__ import annotations

from ._store_registry import BackendInfo, PluginWarning, StoreRegistry
from .errors import ContractError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _typing_lite.py)
if not TYPE_CHECKING:
    from ._typing_lite import Generic, TypeVar, overload

if TYPE_CHECKING:  # the checkers' (and ruff's) view: the real typing.overload
    from typing import Any, Generic, Literal, NoReturn, TypeAlias, TypeVar, overload

    from ._config import StoreConfig
    from ._names import (
        AsyncConversationName,
        AsyncKnowledgeName,
        AsyncStateName,
        SyncConversationName,
        SyncEmbedderName,
        SyncKnowledgeName,
        SyncStateName,
    )
    from .conversation.base import AsyncConversationStore, ConversationStore
    from .conversation.config import AsyncConversationConfig, ConversationConfig
    from .embedders.base import AsyncEmbedder, Embedder
    from .embedders.config import EmbedderConfig
    from .knowledge.base import AsyncKnowledgeStore, KnowledgeStore
    from .knowledge.config import AsyncKnowledgeConfig, KnowledgeConfig
    from .knowledge.text import AsyncTextKnowledgeStore, EmbedderSpec, TextKnowledgeStore
    from .state.base import AsyncStateStore, StateStore
    from .state.config import AsyncStateConfig, StateConfig

# The type parameters of _SyncOrAsyncRegistry: a kind's sync and async store, config and name types.
_Sync = TypeVar("_Sync")
_Async = TypeVar("_Async")
_SyncConfig = TypeVar("_SyncConfig", bound="StoreConfig")
_AsyncConfig = TypeVar("_AsyncConfig", bound="StoreConfig")
_SyncName = TypeVar("_SyncName", bound=str)
_AsyncName = TypeVar("_AsyncName", bound=str)

__all__ = [
    "CONVERSATION_STORES",
    "EMBEDDERS",
    "KNOWLEDGE_STORES",
    "STATE_STORES",
    "BackendInfo",
    "ConversationStoreRegistry",
    "EmbedderRegistry",
    "KnowledgeStoreRegistry",
    "PluginWarning",
    "StateStoreRegistry",
    "StoreRegistry",
    "get_default_registry",
]


def __getattr__(name: str) -> Any:
    # The typed backend names (generated into _names.py) are for type checkers; loaded on first runtime use only.
    if name == "logger":  # PraisonAI's module has one; logging is not imported for the registries' sake
        import logging

        return logging.getLogger(__name__)
    from . import _names

    if name in _names.__all__:
        return getattr(_names, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _SyncOrAsyncRegistry(
    StoreRegistry["_Sync | _Async"], Generic[_Sync, _Async, _SyncConfig, _AsyncConfig, _SyncName, _AsyncName]
):
    """A registry of a kind with sync and async backends: ``create()`` and ``validate()`` typed by the name.

    Its subclasses only fill in the kind's types, so that mypy sees the precise
    store (and config) of a built-in name. A kind without async built-ins (embedders)
    passes ``NoReturn`` for the async config and name: mypy then drops those overloads.
    """

    @overload
    def create(self, name: _SyncConfig) -> _Sync: ...
    @overload
    def create(self, name: _AsyncConfig) -> _Async: ...
    @overload
    def create(self, name: _SyncName, **kwargs: Any) -> _Sync: ...
    @overload
    def create(self, name: _AsyncName, **kwargs: Any) -> _Async: ...
    @overload
    def create(self, name: str, **kwargs: Any) -> _Sync | _Async: ...
    def create(self, name: str | StoreConfig, **kwargs: Any) -> _Sync | _Async:
        return super().create(name, **kwargs)  # type: ignore[arg-type]

    @overload
    def validate(self, name: _SyncName, **options: Any) -> _SyncConfig: ...
    @overload
    def validate(self, name: _AsyncName, **options: Any) -> _AsyncConfig: ...
    @overload
    def validate(self, name: str, **options: Any) -> _SyncConfig | _AsyncConfig | None: ...
    def validate(self, name: str, **options: Any) -> _SyncConfig | _AsyncConfig | None:
        return super().validate(name, **options)  # type: ignore[return-value]


# Each kind's types for the checkers; at run time the bases take none.
if TYPE_CHECKING:
    _ConversationBase: TypeAlias = _SyncOrAsyncRegistry[
        ConversationStore,
        AsyncConversationStore,
        ConversationConfig,
        AsyncConversationConfig,
        SyncConversationName,
        AsyncConversationName,
    ]
    _StateBase: TypeAlias = _SyncOrAsyncRegistry[
        StateStore, AsyncStateStore, StateConfig, AsyncStateConfig, SyncStateName, AsyncStateName
    ]
    _EmbedderBase: TypeAlias = _SyncOrAsyncRegistry[
        Embedder, AsyncEmbedder, EmbedderConfig, NoReturn, SyncEmbedderName, NoReturn
    ]
else:
    _ConversationBase = _StateBase = _EmbedderBase = _SyncOrAsyncRegistry


class ConversationStoreRegistry(_ConversationBase):
    """The conversation registry, typed so that mypy knows sync from async backends."""


class KnowledgeStoreRegistry(StoreRegistry["KnowledgeStore | AsyncKnowledgeStore"]):
    """The knowledge registry, typed so that mypy knows sync from async backends (``async_<name>``)."""

    @overload
    def create(  # type: ignore[overload-overlap]  # an AsyncKnowledgeConfig is a KnowledgeConfig of the same settings
        self, name: AsyncKnowledgeConfig, *, embedder: None = None
    ) -> AsyncKnowledgeStore: ...
    @overload
    def create(  # type: ignore[overload-overlap]
        self, name: AsyncKnowledgeConfig, *, embedder: EmbedderSpec
    ) -> AsyncTextKnowledgeStore: ...
    @overload
    def create(self, name: KnowledgeConfig, *, embedder: EmbedderSpec) -> TextKnowledgeStore: ...
    @overload
    def create(self, name: KnowledgeConfig, *, embedder: None = None) -> KnowledgeStore: ...
    @overload
    def create(self, name: AsyncKnowledgeName, *, embedder: None = None, **kwargs: Any) -> AsyncKnowledgeStore: ...
    @overload
    def create(self, name: AsyncKnowledgeName, *, embedder: EmbedderSpec, **kwargs: Any) -> AsyncTextKnowledgeStore: ...
    @overload
    def create(self, name: str, *, embedder: EmbedderSpec, **kwargs: Any) -> TextKnowledgeStore: ...
    @overload
    def create(self, name: SyncKnowledgeName, *, embedder: None = None, **kwargs: Any) -> KnowledgeStore: ...
    @overload
    def create(self, name: str, *, embedder: None = None, **kwargs: Any) -> KnowledgeStore | AsyncKnowledgeStore: ...
    def create(
        self, name: str | StoreConfig, *, embedder: EmbedderSpec | None = None, **kwargs: Any
    ) -> KnowledgeStore | AsyncKnowledgeStore | TextKnowledgeStore | AsyncTextKnowledgeStore:
        """Create a knowledge store; with ``embedder=`` one that also takes text (see :mod:`.knowledge.text`).

        ``embedder`` is an :class:`~.embedders.base.Embedder`, or the name or
        config of one to create (its options are validated before the store
        is opened). The store itself is checked against ``KnowledgeStore`` (or
        ``AsyncKnowledgeStore``) first, as without an embedder. An async store
        (``async_<name>``) becomes an ``AsyncTextKnowledgeStore``; it takes an
        ``AsyncEmbedder`` too, and runs a sync one in worker threads.
        """
        if embedder is None:
            return super().create(name, **kwargs)  # type: ignore[arg-type]
        from .knowledge.text import is_async_store, is_sync_embedder, resolve_embedder, wrap_with_embedder

        resolved, owned = resolve_embedder(embedder, allow_async=True)
        store = None
        try:
            store = super().create(name, **kwargs)  # type: ignore[arg-type]
            backend = name if isinstance(name, str) else name.backend
            return wrap_with_embedder(store, resolved, backend=backend, owns_embedder=owned)
        except BaseException:
            if store is not None and not is_async_store(store):  # wrapping an async store cannot fail
                store.close()
            if owned and is_sync_embedder(resolved):
                resolved.close()
            raise

    @overload
    def validate(self, name: AsyncKnowledgeName, **options: Any) -> AsyncKnowledgeConfig: ...
    @overload
    def validate(self, name: SyncKnowledgeName, **options: Any) -> KnowledgeConfig: ...
    @overload
    def validate(self, name: str, **options: Any) -> KnowledgeConfig | None: ...
    def validate(self, name: str, **options: Any) -> KnowledgeConfig | None:
        return super().validate(name, **options)  # type: ignore[return-value]


class StateStoreRegistry(_StateBase):
    """The state registry, typed so that mypy knows sync from async backends."""


class EmbedderRegistry(_EmbedderBase):
    """The embedder registry. ``dimension`` is checked as a positive int, the methods as for stores."""

    def _members(self, is_async: bool) -> tuple[str, ...]:
        # ``dimension`` is a value, not a method: _check_contract checks it apart.
        return tuple(member for member in super()._members(is_async) if member != "dimension")

    def _check_contract(self, backend: str, store: object) -> None:
        dimension = getattr(store, "dimension", None)
        bad_dimension = isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1
        try:
            super()._check_contract(backend, store)
        except ContractError as error:
            if not bad_dimension:
                raise
            raise ContractError(
                f"{error}; dimension is {dimension!r}, not a positive int",
                backend=backend,
                missing=(*error.missing, "dimension"),
            ) from None
        if bad_dimension:
            raise ContractError(
                f"embedder backend {backend!r} returned a {type(store).__qualname__}, whose dimension is "
                f"{dimension!r}, not a positive int",
                backend=backend,
                missing=["dimension"],
            )


CONVERSATION_STORES = ConversationStoreRegistry("conversation", "praisonai.conversation_stores")
KNOWLEDGE_STORES = KnowledgeStoreRegistry("knowledge", "praisonai.knowledge_stores")
STATE_STORES = StateStoreRegistry("state", "praisonai.state_stores")
EMBEDDERS = EmbedderRegistry("embedder", "praisonai.embedders")

PluginRegistry = StoreRegistry
"""PraisonAI 4.7.19's name of the registry base class (its ``StoreRegistry`` derives from one)."""


@overload
def get_default_registry(kind: Literal["conversation"]) -> ConversationStoreRegistry: ...
@overload
def get_default_registry(kind: Literal["knowledge"]) -> KnowledgeStoreRegistry: ...
@overload
def get_default_registry(kind: Literal["state"]) -> StateStoreRegistry: ...
@overload
def get_default_registry(kind: str) -> StoreRegistry[Any]: ...
def get_default_registry(kind: str) -> StoreRegistry[Any]:
    """The process-wide registry of ``kind`` (``conversation``, ``knowledge``, ``state`` or ``embedder``).

    PraisonAI 4.7.19's accessor: the same objects as ``CONVERSATION_STORES``,
    ``KNOWLEDGE_STORES``, ``STATE_STORES`` and ``EMBEDDERS``.
    """
    registry = _DEFAULTS.get(kind)
    if registry is None:
        raise ValueError(f"unknown store kind {kind!r}; expected one of {', '.join(_DEFAULTS)}")
    return registry


_DEFAULTS: dict[str, StoreRegistry[Any]] = {
    "conversation": CONVERSATION_STORES,
    "knowledge": KNOWLEDGE_STORES,
    "state": STATE_STORES,
    "embedder": EMBEDDERS,
}
