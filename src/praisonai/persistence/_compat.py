"""What code written for PraisonAI 4.7.19's ``praisonai.persistence`` expects beyond our contracts.

- :func:`store_config`: a built-in store class built from PraisonAI's keyword
  arguments (``SQLiteConversationStore(path=...)``) gets the same pydantic config
  that ``create()`` would validate. :class:`~._guard.GuardedStore` applies it to
  every catalogued store class, so no adapter repeats it.
- :func:`export_module_names`: the module-level names PraisonAI's backend modules
  carry besides their store class (``logger``, the contract classes they
  re-export, ``validate_identifier``, ``run_sync``), set on our backend module of
  the same path when its store class is defined (see ``_MODULE_NAMES``).
- :func:`validate_identifier` (both of PraisonAI's variants), :func:`validate_dimension`
  and :func:`run_sync`.

Importing this module imports only the standard library (it is reached from
``conversation.base`` and ``knowledge.base``, which ``import praisonai.persistence`` may load).
"""

from __future__ import annotations

import _thread  # a lock without importing threading (this module is on a cheap import path)
import importlib
import re
import sys
from collections.abc import Awaitable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ._catalogue import BuiltinBackend

__all__ = [
    "adapter_row",
    "export_module_names",
    "run_sync",
    "store_config",
    "validate_dimension",
    "validate_identifier",
    "validate_nonempty_identifier",
]

T = TypeVar("T")

_adapters: dict[str, BuiltinBackend] | None = None  # adapter path -> catalogue row, built on first use
_IDENTIFIER = re.compile(r"[A-Za-z0-9_]*")


def validate_identifier(value: object, name: str = "identifier") -> str:
    """``value`` if it is letters, digits and underscores (empty allowed: a table prefix may be ``""``).

    PraisonAI's ``conversation.base.validate_identifier``; raises ValueError.
    """
    if not isinstance(value, str) or _IDENTIFIER.fullmatch(value) is None:
        raise ValueError(f"{name} must contain only letters, digits and underscores, got {value!r}")
    return value


def validate_nonempty_identifier(value: object, name: str = "identifier") -> str:
    """Like :func:`validate_identifier`, but empty is refused (a collection name).

    PraisonAI's ``knowledge.base.validate_identifier``; raises ValueError.
    """
    if not isinstance(value, str) or not value or _IDENTIFIER.fullmatch(value) is None:
        raise ValueError(f"{name} must be non-empty and contain only letters, digits and underscores, got {value!r}")
    return value


def validate_dimension(dimension: object, *, name: str = "dimension", max_dim: int = 65536) -> int:
    """``dimension`` if it is an int (not a bool) from 1 to ``max_dim``; raises ValueError."""
    if isinstance(dimension, bool) or not isinstance(dimension, int) or not 1 <= dimension <= max_dim:
        raise ValueError(f"{name} must be an int from 1 to {max_dim}, got {dimension!r}")
    return dimension


def run_sync(coro: Awaitable[T], *, timeout: float | None = None) -> T:
    """Run ``coro`` to completion from any context (sync code, or inside an event loop) and return its result.

    It runs on one background event loop of the process (in a daemon thread), so
    an async store driven from sync code always sees the same loop: a driver's
    connections and pools stay bound to it across calls. The calling thread waits.
    """
    import asyncio  # not at module top: this module is on the path of a cheap import

    loop = _background_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        raise RuntimeError("run_sync() called from its own background loop; await the coroutine instead")

    async def main() -> T:
        return await coro

    future = asyncio.run_coroutine_threadsafe(main(), loop)
    try:
        return future.result(timeout)
    except TimeoutError:
        future.cancel()
        raise


_loop_lock = _thread.allocate_lock()
_loop: Any = None


def _background_loop() -> Any:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            import asyncio
            import threading

            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="praisonai-persistence-run-sync", daemon=True).start()
            _loop = loop
        return _loop


# -- store classes built from keywords --------------------------------------


def adapter_row(cls: type) -> BuiltinBackend | None:
    """The catalogue row whose adapter is ``cls`` itself (not a parent), if any."""
    global _adapters
    if _adapters is None:  # not at import: conversation.base imports this module, the catalogue is not needed there
        from ._catalogue import BUILTINS

        _adapters = {row.adapter: row for row in BUILTINS}
    return _adapters.get(f"{cls.__module__}:{cls.__qualname__}")


def store_config(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The config that ``cls(*args, **kwargs)`` stands for, validated by the backend's config model.

    ``url=`` and the keywords (PraisonAI's names included, through the model's
    ``keyword_aliases``) go through ``from_options``, as in ``create()``; a bad
    one raises :class:`~.errors.ConfigError`. Positional arguments are named by
    PraisonAI's parameter order of that backend's class (its catalogue row's
    ``praisonai_positional``). A subclass of a built-in store uses the config of
    the nearest built-in class it derives from.
    """
    row = next((row for klass in cls.__mro__ if (row := adapter_row(klass)) is not None), None)
    if row is None:  # pragma: no cover - only catalogued classes get the keyword form
        raise TypeError(f"{cls.__qualname__} is not a built-in store; pass its config object")
    options = dict(kwargs)
    if args:
        names = row.praisonai_positional
        if len(args) > len(names):
            raise TypeError(
                f"{cls.__qualname__} takes its config object or keyword arguments (backend {row.name!r}), "
                f"and at most {len(names)} positional argument(s) ({', '.join(names) or 'none'}); got {len(args)}"
            )
        for name, value in zip(names, args, strict=False):  # fewer args than names: the rest keep defaults
            if name in options:
                raise TypeError(f"{cls.__qualname__} got multiple values for argument {name!r}")
            options[name] = value
    from ._loading import load_object

    return load_object(row.config).from_options(options.pop("url", None), options)


# -- module-level names of PraisonAI's backend modules ------------------------

_CONVERSATION = ("ConversationMessage", "ConversationSession", "ConversationStore")
_ASYNC_CONVERSATION = ("AsyncConversationStore", "ConversationMessage", "ConversationSession")

# module (under praisonai.persistence) -> names it carries in PraisonAI 4.7.19 besides its store
# class: the contract classes it re-exports, plus ``logger`` (every module), ``validate_identifier``,
# ``validate_dimension`` and ``run_sync``. Generated from tests/fixtures/praisonai_4_7_19/INVENTORY.md;
# tests/compat/test_praisonai_names.py checks every name there exists.
_MODULE_NAMES: dict[str, tuple[str, ...]] = {
    "conversation.async_mysql": (*_CONVERSATION, "run_sync", "validate_identifier"),
    "conversation.async_postgres": (*_ASYNC_CONVERSATION, "validate_identifier"),
    "conversation.async_sqlite": (*_ASYNC_CONVERSATION, "validate_identifier"),
    "conversation.json": _CONVERSATION,
    "conversation.mysql": (*_CONVERSATION, "validate_identifier"),
    "conversation.postgres": ("validate_identifier",),
    "conversation.singlestore": (*_CONVERSATION, "validate_identifier"),
    "conversation.sqlite": ("validate_identifier",),
    "conversation.supabase": (*_CONVERSATION, "validate_identifier"),
    "conversation.surrealdb": (*_CONVERSATION, "run_sync", "validate_identifier"),
    "conversation.sync_sqlite": ("validate_identifier",),
    "conversation.turso": (*_CONVERSATION, "validate_identifier"),
    "knowledge.cassandra": ("KnowledgeDocument", "KnowledgeStore", "validate_dimension", "validate_identifier"),
    "knowledge.clickhouse": ("KnowledgeDocument", "KnowledgeStore", "validate_identifier"),
    "knowledge.pgvector": ("KnowledgeDocument", "KnowledgeStore", "validate_dimension", "validate_identifier"),
    "knowledge.singlestore_vector": ("KnowledgeDocument", "KnowledgeStore", "validate_identifier"),
    "knowledge.surrealdb_vector": ("KnowledgeDocument", "KnowledgeStore", "run_sync", "validate_identifier"),
    "knowledge.valkey_vector": ("KnowledgeDocument", "KnowledgeStore", "validate_identifier"),
    "state.async_mongodb": ("AsyncStateStore", "StateStore", "run_sync"),
}
_KNOWLEDGE_DEFAULT = ("KnowledgeDocument", "KnowledgeStore")
_STATE_DEFAULT = ("StateStore",)


def kind_of(module_name: str) -> str:
    """``knowledge`` for ``praisonai.persistence.knowledge.chroma``."""
    return module_name.rsplit(".", 2)[-2]


def _value(module_name: str, name: str) -> Any:
    if name == "logger":
        import logging

        return logging.getLogger(module_name)
    if name == "run_sync":
        return run_sync
    if name == "validate_dimension":
        return validate_dimension
    if name == "validate_identifier":
        return validate_nonempty_identifier if kind_of(module_name) == "knowledge" else validate_identifier
    return getattr(importlib.import_module(f"{__package__}.{kind_of(module_name)}.base"), name)


def export_module_names(module_name: str) -> None:
    """Give the backend module ``module_name`` PraisonAI's module-level names it lacks (see ``_MODULE_NAMES``)."""
    module: ModuleType | None = sys.modules.get(module_name)
    if module is None or not module_name.startswith(f"{__package__}."):
        return
    short = module_name[len(__package__) + 1 :]
    kind = kind_of(module_name)
    default = _KNOWLEDGE_DEFAULT if kind == "knowledge" else _STATE_DEFAULT if kind == "state" else ()
    for name in ("logger", *_MODULE_NAMES.get(short, default)):
        if name not in module.__dict__:
            setattr(module, name, _value(module_name, name))
