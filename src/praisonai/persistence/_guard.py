"""The call guard: what every built-in store does around each call, in one place.

A store method runs its body inside ``with self._guard:`` (``with self._translating:``
where a closed store must not be refused: opening and ``close()``). The guard

- refuses a closed store with :class:`~.errors.StoreClosedError`;
- lets the documented errors through, stamping the store's backend name on a
  :class:`~.errors.StoreError` raised without one (so code below a store need
  not carry the name around just for messages);
- turns every other exception into one of the documented tree, the original
  chained as ``__cause__``: first the store's own :meth:`GuardedStore._translate_error`
  (a deadlock, a constraint, a refused value), else :func:`default_error`
  (an unreachable server is :class:`~.errors.BackendUnavailableError`,
  anything else :class:`~.errors.EngineError`).

So no driver exception escapes a store method. Cancellation, ``KeyboardInterrupt``,
``MemoryError`` and iteration control (``StopIteration``) pass through untouched.

The guard is one object per store, reused by every call: a ``@contextmanager``
would build a generator per call, a measurable share of a ~40 µs Redis GET.

:class:`GuardedStore` also gives every built-in store class what PraisonAI 4.7.19
code expects of it (``_compat.py``): it is built from its config object or from
keyword arguments validated into that config (``RedisStateStore(host=..., port=...)``),
it is always truthy, and its module carries PraisonAI's module-level names.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from . import _observe
from ._catalogue import BUILTINS
from ._compat import adapter_row, export_module_names, store_config
from ._loading import import_driver
from .errors import BackendUnavailableError, EngineError, PersistenceError, StoreClosedError, StoreError
from .url import mask_secrets_in_text

__all__ = ["CallGuard", "GuardedStore", "ObservedGuard", "default_error", "describe_error"]

_UNTOUCHED: tuple[type[BaseException], ...] = (MemoryError, StopIteration, StopAsyncIteration)
_UNREACHABLE: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, asyncio.TimeoutError)
_MAX_DETAIL = 400  # characters of a driver's message kept in ours: some echo whole payloads
_EXTRAS: dict[str, str | None] = {}
for _row in BUILTINS:
    _EXTRAS.setdefault(_row.name, _row.extra)


def describe_error(error: BaseException) -> str:
    """``Type: message`` of a driver error, secrets masked and cut to a readable length."""
    text = mask_secrets_in_text(f"{type(error).__name__}: {error}".strip())
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "..."


def default_error(error: Exception) -> StoreError:
    """Our error for a driver error that the store does not map itself."""
    if isinstance(error, _UNREACHABLE):
        return BackendUnavailableError(f"cannot reach the engine ({describe_error(error)})")
    return EngineError(f"the engine failed ({describe_error(error)})")


class CallGuard:
    """``with guard:`` around a store call; see the module docstring."""

    __slots__ = ("_check_open", "_store")

    def __init__(self, store: GuardedStore, *, check_open: bool = True) -> None:
        self._store = store
        self._check_open = check_open

    def __enter__(self) -> None:
        if self._check_open and self._store._closed:
            raise StoreClosedError("the store is closed", backend=self._store.backend)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> Literal[False]:
        if error is None or not isinstance(error, Exception) or isinstance(error, _UNTOUCHED):
            return False
        store = self._store
        if isinstance(error, PersistenceError):
            if isinstance(error, StoreError) and error.backend is None:
                error.backend = store.backend
            return False
        if isinstance(error, store._internal_errors):
            return False
        mapped = store._translate_error(error)
        if mapped is None:
            mapped = default_error(error)
        if isinstance(mapped, StoreError) and mapped.backend is None:
            mapped.backend = store.backend
        if isinstance(mapped, BackendUnavailableError):
            _observe.connection_lost(store.backend, mapped)
        raise mapped from error


class ObservedGuard(CallGuard):
    """The guard of one observed call (made per call): also times it and, if tracing, spans it."""

    __slots__ = ("_observation",)

    def __enter__(self) -> None:
        super().__enter__()
        self._observation = _observe.CallObservation(self._store)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> Literal[False]:
        observation = self._observation
        try:
            result = super().__exit__(kind, error, traceback)
        except BaseException as mapped:
            observation.end(mapped)
            raise
        observation.end(error)
        return result


class GuardedStore:
    """Mixin of the built-in stores: the backend's name, the closed flag, error translation and the guards.

    A store sets ``backend`` (class or instance attribute), sets ``_closed`` when
    it closes, and may override :meth:`_translate_error`.
    """

    backend: str
    _closed: bool = False
    _internal_errors: ClassVar[tuple[type[Exception], ...]] = ()
    """Exceptions the store's own code raises and catches across a guarded block; they pass untouched."""

    @property
    def _guard(self) -> CallGuard:
        """The guard of a call on an open store (swapped for :func:`_observed_guard` while observing)."""
        guard: CallGuard | None = self.__dict__.get("_call_guard")
        if guard is None:
            guard = self.__dict__["_call_guard"] = CallGuard(self)
            if _observe.tracing_newly_configured():  # a store's first call: has OpenTelemetry been set up?
                return ObservedGuard(self)
        return guard

    @property
    def _translating(self) -> CallGuard:
        """The guard without the closed-store check: for opening the engine and for ``close()``."""
        guard: CallGuard | None = self.__dict__.get("_translating_guard")
        if guard is None:
            guard = self.__dict__["_translating_guard"] = CallGuard(self, check_open=False)
        return guard

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if adapter_row(cls) is None:
            return
        if not getattr(cls.__init__, "_takes_keywords", False):
            cls.__init__ = _taking_keywords(cls.__init__)  # type: ignore[method-assign]
        export_module_names(cls.__module__)

    def __bool__(self) -> bool:
        # Stores with a __len__ (memory state) would be falsy when empty; ``if store:`` means "is there one".
        return True

    def _translate_error(self, error: Exception) -> Exception | None:
        """The documented error that a driver's ``error`` stands for; None: :func:`default_error`."""
        return None

    def _close_once(self, shutdown: Callable[[], object]) -> None:
        """``close`` of a store whose ``shutdown`` must run once: later calls do nothing; its errors are translated."""
        if self._closed:
            return
        self._closed = True
        with self._translating:
            shutdown()

    def _import_driver(self, module: str) -> Any:
        """Import ``module`` of this backend's driver; a missing one names the catalogue row's pip extra."""
        return import_driver(module, backend=self.backend, extra=_EXTRAS.get(self.backend))


def _observed_guard(store: GuardedStore) -> CallGuard:
    return ObservedGuard(store)


_PLAIN_GUARD = GuardedStore.__dict__["_guard"]
_OBSERVED_GUARD = property(_observed_guard)


def _switch_observation(on: bool) -> None:
    # Swapping the class's property keeps the unobserved path exactly as cheap as before observability.
    setattr(GuardedStore, "_guard", _OBSERVED_GUARD if on else _PLAIN_GUARD)  # noqa: B010


_observe.on_switch(_switch_observation)


def _taking_keywords(init: Callable[..., None]) -> Callable[..., None]:
    """``init(self, config)`` that also takes the config's keyword arguments (or nothing: the defaults)."""

    @functools.wraps(init)
    def __init__(self: GuardedStore, *args: Any, **kwargs: Any) -> None:
        if not args and len(kwargs) == 1 and getattr(type(kwargs.get("config")), "is_store_config", False):
            init(self, kwargs["config"])  # Store(config=...)
        elif len(args) == 1 and not kwargs and getattr(type(args[0]), "is_store_config", False):
            init(self, args[0])
        elif args and getattr(type(args[0]), "is_store_config", False):
            raise TypeError(f"{type(self).__qualname__}(config) takes no other arguments")
        else:
            init(self, store_config(type(self), args, kwargs))

    __init__._takes_keywords = True  # type: ignore[attr-defined]
    return __init__
