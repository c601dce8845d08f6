"""The registry machinery: :class:`StoreRegistry` and what it knows about each backend.

The public home of these names is :mod:`praisonai.persistence.registry`, which also
holds the typed registries of each kind; see its docstring.
"""

from __future__ import annotations

import _thread  # threading's C locks, without importing threading (~1 ms of a cold start)
from collections.abc import Callable

from ._loading import driver_installed, load_object
from .errors import BackendNotFoundError, ContractError, PluginLoadError, RegistrationError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _typing_lite.py)
if TYPE_CHECKING:
    from typing import Any, Generic, Literal, NamedTuple, TypeAlias, TypeVar

    from ._catalogue import BuiltinBackend, Kind, Tier
    from ._config import StoreConfig

    Factory: TypeAlias = Callable[..., Any]
    Source: TypeAlias = Literal["builtin", "entry_point", "runtime"]
else:
    from ._typing_lite import Generic, NamedTuple, TypeVar

__all__ = ["BackendInfo", "Factory", "PluginWarning", "Source", "StoreRegistry"]

T = TypeVar("T")

_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyz")
_NAME_REST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def __getattr__(name: str) -> object:
    # The public aliases Factory and Source are built with typing on first use, not at import.
    if name in ("Factory", "Source"):
        from typing import Any, Literal

        value = Callable[..., Any] if name == "Factory" else Literal["builtin", "entry_point", "runtime"]
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PluginWarning(UserWarning):
    """An entry-point plugin failed to load or tried to take a name that is already used."""


class BackendInfo(NamedTuple):
    """What a registry knows about one backend."""

    name: str
    kind: Kind
    aliases: tuple[str, ...]
    source: Source
    distribution: str | None  # for entry points: the distribution that declared it
    target: str | None  # for entry points: "module:attr"; for built-ins: the adapter
    extra: str | None  # pip extra that installs its driver
    tier: Tier | None  # how our tests exercise it (built-ins only)
    driver_installed: bool | None  # None when unknown (plugins and run-time factories)
    is_async: bool | None
    error: str | None  # why it cannot be used (broken or shadowed plugin)


class _Entry:
    __slots__ = ("aliases", "builtin", "distribution", "error", "factory", "name", "source", "target")

    def __init__(
        self,
        name: str,
        source: Source,
        *,
        aliases: tuple[str, ...] = (),
        factory: Factory | None = None,
        builtin: BuiltinBackend | None = None,
        distribution: str | None = None,
        target: str | None = None,
        error: BaseException | None = None,
    ) -> None:
        self.name = name
        self.source: Source = source
        self.aliases = aliases
        self.factory = factory
        self.builtin = builtin
        self.distribution = distribution
        self.target = target
        self.error = error


def _normalize(name: object, what: str = "backend name") -> str:
    if not isinstance(name, str):
        raise RegistrationError(f"{what} must be a str, not {type(name).__name__}")
    lowered = name.lower()
    # ^[a-z][a-z0-9_]{0,63}$ without importing re
    if not (0 < len(lowered) <= 64 and lowered[0] in _NAME_START and _NAME_REST.issuperset(lowered)):
        raise RegistrationError(
            f"invalid {what} {name!r}: use a letter followed by up to 63 lowercase letters, digits or underscores"
        )
    return lowered


def _is_coroutine_function(member: object) -> bool:
    function = getattr(member, "__func__", member)
    code = getattr(function, "__code__", None)
    return code is not None and bool(code.co_flags & 0x80)  # CO_COROUTINE


_PROTOCOLS: dict[Kind, tuple[str, str | None]] = {
    "conversation": (
        "praisonai.persistence.conversation.base:ConversationStore",
        "praisonai.persistence.conversation.base:AsyncConversationStore",
    ),
    "knowledge": (
        "praisonai.persistence.knowledge.base:KnowledgeStore",
        "praisonai.persistence.knowledge.base:AsyncKnowledgeStore",
    ),
    "state": (
        "praisonai.persistence.state.base:StateStore",
        "praisonai.persistence.state.base:AsyncStateStore",
    ),
    "embedder": (
        "praisonai.persistence.embedders.base:Embedder",
        "praisonai.persistence.embedders.base:AsyncEmbedder",
    ),
}


class StoreRegistry(Generic[T]):
    """A thread-safe map from backend names (and aliases) to store factories.

    ``T`` is what :meth:`create` returns: the kind's store protocol (or the
    union of its sync and async twins). ``create`` checks at run time that a
    factory's result satisfies it.
    """

    def __init__(self, kind: Kind, entry_point_group: str, *, include_builtins: bool = True) -> None:
        self.kind: Kind = kind
        self.entry_point_group = entry_point_group
        self._lock = _thread.allocate_lock()
        self._discovery_lock = _thread.RLock()
        self._rejected: list[BackendInfo] = []
        self._discovered = False
        self._discovering = False
        self._verified_types: set[tuple[type, bool]] = set()
        self._verified_classes: set[type] = set()  # satisfy the protocol with their own methods
        self._member_names: frozenset[str] | None = None
        self._protocol_members: dict[bool, tuple[str, ...]] = {}
        self._builtins_lock = _thread.allocate_lock()
        self._entries: dict[str, _Entry]
        self._aliases: dict[str, str]
        if not include_builtins:
            self._entries, self._aliases = {}, {}

    if not TYPE_CHECKING:  # hidden from the checkers, which would then accept any attribute

        def __getattr__(self, name: str) -> object:
            # The built-ins' entries are made on first use: importing the registries imports no catalogue.
            if name not in ("_entries", "_aliases"):
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            self._add_builtins()
            return self.__dict__[name]

    def _add_builtins(self) -> None:
        from ._catalogue import BUILTINS

        entries: dict[str, _Entry] = {}
        aliases: dict[str, str] = {}
        for backend in BUILTINS:
            if backend.kind == self.kind:
                entries[backend.name] = _Entry(
                    backend.name, "builtin", aliases=backend.aliases, builtin=backend, target=backend.adapter
                )
                aliases.update(dict.fromkeys(backend.aliases, backend.name))
        with self._builtins_lock:  # not self._lock, which the first reader may hold
            if "_entries" not in self.__dict__:
                self._entries, self._aliases = entries, aliases

    def __repr__(self) -> str:
        return f"<{type(self).__name__} kind={self.kind!r} group={self.entry_point_group!r}>"

    # -- registration -------------------------------------------------------

    def register(
        self,
        name: str,
        factory: Factory,
        *,
        aliases: tuple[str, ...] | list[str] = (),
        replace: bool = False,
    ) -> None:
        """Register ``factory`` under ``name`` (lower-cased) and ``aliases``.

        A name or alias that is already taken raises :class:`RegistrationError`
        unless ``replace=True``. Registering the same factory under the same
        names again is a no-op.
        """
        canonical = _normalize(name)
        if isinstance(aliases, str):  # type: ignore[unreachable]  # a common slip: aliases="x"
            raise RegistrationError(f"aliases of {canonical!r} must be a tuple of names, not a str")
        alias_names = tuple(dict.fromkeys(_normalize(alias, "alias") for alias in aliases))
        if not callable(factory):
            raise TypeError(
                f"factory for {self.kind} backend {canonical!r} must be callable, not {type(factory).__name__}"
            )
        if canonical in alias_names:
            raise RegistrationError(f"{canonical!r} cannot be an alias of itself")
        with self._lock:
            existing = self._entries.get(canonical)
            if existing is not None and not replace:
                if existing.source == "runtime" and existing.factory is factory and existing.aliases == alias_names:
                    return
                raise RegistrationError(
                    f"{self.kind} backend name {canonical!r} is already taken by {self._origin(existing)}; "
                    "pass replace=True to override it"
                )
            owner = self._aliases.get(canonical)
            if owner is not None and not replace:
                raise RegistrationError(
                    f"{canonical!r} is already an alias of {self.kind} backend {owner!r}; "
                    "pass replace=True to override it"
                )
            for alias in alias_names:
                if alias in self._entries and alias != canonical:
                    raise RegistrationError(
                        f"alias {alias!r} is the name of {self.kind} backend {alias!r} "
                        f"({self._origin(self._entries[alias])}); an alias can never replace a backend"
                    )
                alias_owner = self._aliases.get(alias)
                if alias_owner is not None and alias_owner != canonical and not replace:
                    raise RegistrationError(
                        f"alias {alias!r} already points to {self.kind} backend {alias_owner!r}; "
                        "pass replace=True to override it"
                    )
            if existing is not None:
                self._drop(existing)
            if owner is not None:
                self._drop_alias(canonical)
            for alias in alias_names:
                if alias in self._aliases:
                    self._drop_alias(alias)
                self._aliases[alias] = canonical
            self._entries[canonical] = _Entry(canonical, "runtime", aliases=alias_names, factory=factory)

    register_store = register
    """PraisonAI 4.7.19's name of :meth:`register`."""

    def unregister(self, name: str) -> bool:
        """Remove a backend (by name or alias) with all its aliases; True (an unknown name raises)."""
        entry = self._find(name)
        with self._lock:
            if self._entries.get(entry.name) is entry:
                self._drop(entry)
        return True

    def refresh(self) -> None:
        """Forget entry-point plugins and read the entry points again on next use."""
        import importlib

        importlib.invalidate_caches()
        with self._discovery_lock, self._lock:
            for entry in [e for e in self._entries.values() if e.source == "entry_point"]:
                self._drop(entry)
            self._rejected.clear()
            self._discovered = False

    def _drop(self, entry: _Entry) -> None:
        del self._entries[entry.name]
        for alias in entry.aliases:
            if self._aliases.get(alias) == entry.name:
                del self._aliases[alias]

    def _drop_alias(self, alias: str) -> None:
        owner = self._entries.get(self._aliases.pop(alias))
        if owner is not None:
            owner.aliases = tuple(a for a in owner.aliases if a != alias)

    @staticmethod
    def _origin(entry: _Entry) -> str:
        if entry.source == "builtin":
            return "a built-in backend"
        if entry.source == "entry_point":
            return f"the entry point {entry.target!r} of distribution {entry.distribution!r}"
        return "a backend registered at run time"

    # -- lookup -------------------------------------------------------------

    def _lookup(self, key: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                canonical = self._aliases.get(key)
                if canonical is not None:
                    entry = self._entries.get(canonical)
            return entry

    def _find(self, name: str) -> _Entry:
        if not isinstance(name, str):
            raise TypeError(f"backend name must be a str, not {type(name).__name__}")
        key = name.lower()
        entry = self._lookup(key)
        if entry is None:
            self._discover()
            entry = self._lookup(key)
        if entry is None:
            raise self._unknown(name)
        return entry

    def _unknown(self, name: str) -> BackendNotFoundError:
        import difflib

        with self._lock:
            names = sorted(e.name for e in self._entries.values() if e.error is None)
            aliases = dict(sorted(self._aliases.items()))
        candidates = [*names, *aliases]
        close = difflib.get_close_matches(name.lower(), candidates, n=1, cutoff=0.6)
        suggestion = aliases.get(close[0], close[0]) if close else None
        hint = f" Did you mean {close[0]!r}?" if close else ""
        alias_text = ", ".join(f"{alias} -> {target}" for alias, target in aliases.items()) or "none"
        return BackendNotFoundError(
            f"unknown {self.kind} backend {name!r}.{hint} "
            f"Registered: {', '.join(names) or 'none'}. Aliases: {alias_text}.",
            name=name,
            suggestion=suggestion,
        )

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            return self._find(name).error is None
        except BackendNotFoundError:
            return False

    def list_registered(self) -> list[str]:
        """All usable backend names, sorted (broken plugins are left out; see :meth:`describe_all`)."""
        self._discover()
        with self._lock:
            return sorted(e.name for e in self._entries.values() if e.error is None)

    def list_aliases(self) -> dict[str, str]:
        """Alias -> canonical name, sorted by alias."""
        self._discover()
        with self._lock:
            return dict(sorted(self._aliases.items()))

    def list_names(self) -> list[str]:
        """PraisonAI 4.7.19's name of :meth:`list_registered`."""
        return self.list_registered()

    def list_all_names(self) -> list[str]:
        """Backend names and aliases, sorted."""
        return sorted([*self.list_registered(), *self.list_aliases()])

    def has(self, name: str) -> bool:
        """Whether ``name`` is a backend name or alias (a broken plugin's too), without loading anything."""
        try:
            self._find(name)
        except BackendNotFoundError:
            return False
        return True

    def is_available(self, name: str) -> bool:
        """Whether ``name`` is known and usable (not a plugin that failed to load)."""
        return name in self

    def resolve(self, name: str) -> Factory:
        """The callable that :meth:`create` calls with keyword arguments: a built-in's store class
        (which validates them into its config), or a plugin's factory; without the contract check."""
        entry = self._find(name)
        if entry.builtin is not None:
            return load_object(entry.builtin.adapter)  # type: ignore[no-any-return]
        if entry.error is not None or entry.factory is None:
            raise self._load_error(entry)
        return entry.factory

    def get_by_attr(self, module_name: str, attr_name: str) -> Factory:
        """:meth:`resolve` for a module ``__getattr__``: an unknown name raises AttributeError."""
        try:
            return self.resolve(attr_name)
        except BackendNotFoundError:
            raise AttributeError(f"module {module_name!r} has no attribute {attr_name!r}") from None

    def describe(self, name: str) -> BackendInfo:
        """Where a backend (by name or alias) came from, its extra, tier and whether its driver is installed."""
        return self._info(self._find(name))

    def describe_all(self) -> list[BackendInfo]:
        """Every backend, sorted, including plugins that failed to load or were shadowed."""
        self._discover()
        with self._lock:
            entries = sorted(self._entries.values(), key=lambda e: e.name)
            rejected = list(self._rejected)
        return [*map(self._info, entries), *rejected]

    def _info(self, entry: _Entry) -> BackendInfo:
        builtin = entry.builtin
        return BackendInfo(
            name=entry.name,
            kind=self.kind,
            aliases=entry.aliases,
            source=entry.source,
            distribution=entry.distribution,
            target=entry.target,
            extra=builtin.extra if builtin else None,
            tier=builtin.tier if builtin else None,
            driver_installed=all(map(driver_installed, builtin.drivers)) if builtin else None,
            is_async=builtin.is_async if builtin else None,
            error=f"{type(entry.error).__name__}: {entry.error}" if entry.error is not None else None,
        )

    # -- entry points -------------------------------------------------------

    def _discover(self) -> None:
        with self._discovery_lock:
            # A plugin may look names up while it is being imported.
            if self._discovered or self._discovering:
                return
            self._discovering = True
            from ._entry_points import load_entry_points  # reading package metadata: not at import

            try:
                load_entry_points(self)
                self._discovered = True
            finally:
                self._discovering = False

    # -- creation -----------------------------------------------------------

    def create(self, name: str, **kwargs: Any) -> T:
        """Create a store by backend name or alias (or from a config object).

        The typed registries below also accept a config object of their kind;
        for built-ins, ``url`` and ``kwargs`` are validated into the backend's
        config model before its adapter or driver is imported. The result is
        checked against the kind's store protocol.
        """
        if not isinstance(name, str):
            return self._create_from_config(name, kwargs)  # type: ignore[unreachable]
        entry = self._find(name)
        if entry.builtin is not None:
            config = self._config(entry.builtin, kwargs)  # before the adapter (and its driver) is imported
            store = load_object(entry.builtin.adapter)(config)
        elif entry.error is not None:
            raise self._load_error(entry)
        else:
            assert entry.factory is not None
            store = entry.factory(**kwargs)
        self._check_contract(entry.name, store)
        return store  # type: ignore[no-any-return]

    def _load_error(self, entry: _Entry) -> PluginLoadError:
        error = PluginLoadError(
            f"{self.kind} store plugin {entry.name!r} ({entry.target!r} from {entry.distribution!r}) "
            f"failed to load: {type(entry.error).__name__}: {entry.error}",
            backend=entry.name,
            distribution=entry.distribution,
        )
        error.__cause__ = entry.error
        return error

    def validate(self, name: str, **options: Any) -> StoreConfig | None:
        """Check a backend name and its options without creating a store, importing no adapter or driver.

        ``name`` is a backend name or alias; an unknown one raises the same
        :class:`~praisonai.persistence.errors.BackendNotFoundError` as :meth:`create`.
        For a built-in backend, ``url`` and ``options`` are validated into its
        config model, which is returned (pass it to :meth:`create`); a bad one
        raises :class:`~praisonai.persistence.errors.ConfigError` naming the
        backend and every bad field, secrets masked. A plugin backend has no
        config model: once its name resolves, None is returned, and its factory
        sees the options only in :meth:`create`.
        """
        entry = self._find(name)
        return None if entry.builtin is None else self._config(entry.builtin, options)

    @staticmethod
    def _config(builtin: BuiltinBackend, options: dict[str, Any]) -> StoreConfig:
        config_class = load_object(builtin.config)
        return config_class.from_options(options.pop("url", None), options)  # type: ignore[no-any-return]

    def _create_from_config(self, config: Any, kwargs: dict[str, Any]) -> T:
        if not getattr(type(config), "is_store_config", False):
            raise TypeError(f"create() takes a backend name or a config object, not {type(config).__name__}")
        if config.kind != self.kind:
            raise TypeError(f"{type(config).__name__} configures a {config.kind} backend, not a {self.kind} backend")
        if kwargs:
            raise TypeError(f"create(config) takes no other arguments; got {', '.join(sorted(kwargs))}")
        store = config.open()
        self._check_contract(config.backend, store)
        return store  # type: ignore[no-any-return]

    def _members(self, is_async: bool) -> tuple[str, ...]:
        members = self._protocol_members.get(is_async)
        if members is None:
            from typing_extensions import get_protocol_members

            sync_path, async_path = _PROTOCOLS[self.kind]
            path = async_path if is_async and async_path else sync_path
            members = tuple(sorted(get_protocol_members(load_object(path))))
            self._protocol_members[is_async] = members
        return members

    def _all_members(self) -> frozenset[str]:
        """Member names of the kind's sync and async protocols."""
        names = self._member_names
        if names is None:
            names = self._member_names = frozenset(self._members(False)) | frozenset(self._members(True))
        return names

    def _check_contract(self, backend: str, store: object) -> None:
        cls = type(store)
        # Instance attributes named like a member hide the class's methods: check such stores in full.
        shadowed = not self._all_members().isdisjoint(getattr(store, "__dict__", ()))
        if not shadowed and cls in self._verified_classes:
            return  # the fast path: create() of a built-in is timed in microseconds
        has_async = _PROTOCOLS[self.kind][1] is not None
        sync_members = self._members(False)
        present = [getattr(store, member, None) for member in sync_members]
        coroutines = sum(_is_coroutine_function(member) for member in present if member is not None)
        is_async = has_async and coroutines > len(sync_members) // 4
        cache_key = (cls, is_async)
        if not shadowed and cache_key in self._verified_types:
            return
        members = self._members(is_async)
        missing = [m for m in members if not callable(getattr(store, m, None))]
        wrong = [
            m
            for m in members
            if m not in missing and not m.startswith("__") and _is_coroutine_function(getattr(store, m)) != is_async
        ]
        if not missing and not wrong:
            if not shadowed:
                self._verified_types.add(cache_key)
                # Methods of the class itself hold for every instance; a __getattr__ proxy's may not.
                if all(callable(getattr(cls, name, None)) for name in members):
                    self._verified_classes.add(cls)
            return
        sync_path, async_path = _PROTOCOLS[self.kind]
        protocol = (async_path if is_async and async_path else sync_path).rpartition(":")[2]
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if wrong:
            problems.append(f"{'not async' if is_async else 'async in a sync store'}: {', '.join(wrong)}")
        close = getattr(store, "close", None)
        if callable(close) and not _is_coroutine_function(close):
            # Do not leak what the factory opened; the object is unusable anyway.
            try:  # noqa: SIM105 - contextlib.suppress would cost its import at start-up
                close()
            except Exception:  # noqa: S110 - the contract error below is what matters
                pass
        raise ContractError(
            f"{self.kind} backend {backend!r} returned a {type(store).__qualname__}, which does not satisfy "
            f"{protocol}: {'; '.join(problems)}",
            backend=backend,
            missing=missing + wrong,
        )
