"""Reusable pytest contract suites for store backends and embedders.

Subclass a suite in your test module and supply a ``store`` fixture that yields
a fresh, empty store (and optionally ``reopen``, a zero-argument callable that
opens a second store on the same data); :class:`EmbedderContract` takes an
``embedder`` fixture instead::

    import pytest
    from praisonai.persistence.testing import ConversationStoreContract

    class TestMyStore(ConversationStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            store = MyStore(tmp_path / "db")
            yield store
            store.close()

Async suites take a synchronous fixture returning an unconnected async store;
each test runs in its own event loop and closes the store itself.
See docs/testing.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .async_knowledge import AsyncKnowledgeStoreContract
    from .conversation import AsyncConversationStoreContract, ConversationStoreContract
    from .embedder import EmbedderContract
    from .knowledge import KnowledgeStoreContract
    from .state import AsyncStateStoreContract, StateStoreContract

__all__ = [
    "AsyncConversationStoreContract",
    "AsyncKnowledgeStoreContract",
    "AsyncStateStoreContract",
    "ConversationStoreContract",
    "EmbedderContract",
    "KnowledgeStoreContract",
    "StateStoreContract",
]

_MODULES = {
    "AsyncKnowledgeStoreContract": "async_knowledge",
    "AsyncConversationStoreContract": "conversation",
    "ConversationStoreContract": "conversation",
    "EmbedderContract": "embedder",
    "KnowledgeStoreContract": "knowledge",
    "AsyncStateStoreContract": "state",
    "StateStoreContract": "state",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that a suite whose module is missing does not break the others.
    import importlib

    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
