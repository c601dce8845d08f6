"""Entry-point discovery: the plugins a registry finds in its ``praisonai.*_stores`` group.

:meth:`StoreRegistry._discover <praisonai.persistence._store_registry.StoreRegistry>`
imports this module on first need, so that ``import praisonai.persistence`` reads
no package metadata. A plugin that fails to load, or that would take a name
already used, is recorded with its reason and warned about; the other backends
keep working.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from ._store_registry import BackendInfo, PluginWarning, StoreRegistry, _Entry, _normalize
from .errors import RegistrationError


def load_entry_points(registry: StoreRegistry[Any]) -> None:
    """Read the registry's entry-point group once: register each plugin, or record why not."""
    seen: set[tuple[str, str]] = set()
    for point in entry_points(group=registry.entry_point_group):
        if (point.name, point.value) in seen:
            continue  # the same distribution found twice on sys.path
        seen.add((point.name, point.value))
        distribution = point.dist.name if point.dist is not None else None
        try:
            name = _normalize(point.name)
        except RegistrationError as error:
            _reject(registry, point.name, distribution, point.value, str(error))
            continue
        with registry._lock:
            taken = registry._entries.get(name)
            owner = registry._aliases.get(name)
        if taken is not None or owner is not None:
            where = registry._origin(taken) if taken is not None else f"an alias of {owner!r}"
            _reject(registry, name, distribution, point.value, f"name {name!r} is already taken by {where}")
            continue
        failure: BaseException | None = None
        factory: Callable[..., Any] | None = None
        try:
            loaded = point.load()
            if not callable(loaded):
                raise TypeError(f"entry point {point.value!r} is a {type(loaded).__name__}, not a factory")
            factory = loaded
        except (Exception, SystemExit) as exc:  # a broken plugin must not take the host down, sys.exit() included
            failure = exc
            from ._observe import logger  # logging loads threading: only on this rare path

            logger.warning(
                "%s store plugin %r (%r from %r) failed to load: %s: %s",
                registry.kind,
                name,
                point.value,
                distribution,
                type(exc).__name__,
                exc,
            )
            warnings.warn(
                f"{registry.kind} store plugin {name!r} ({point.value!r} from {distribution!r}) failed to load: "
                f"{type(exc).__name__}: {exc}; other backends are unaffected",
                PluginWarning,
                stacklevel=4,
            )
        with registry._lock:
            if name in registry._entries or name in registry._aliases:
                continue  # registered at run time while the plugin was importing
            registry._entries[name] = _Entry(
                name, "entry_point", factory=factory, distribution=distribution, target=point.value, error=failure
            )


def _reject(registry: StoreRegistry[Any], name: str, distribution: str | None, target: str, reason: str) -> None:
    from ._observe import logger  # logging loads threading: only on this rare path

    logger.warning("%s store plugin %r (%r from %r) ignored: %s", registry.kind, name, target, distribution, reason)
    warnings.warn(
        f"{registry.kind} store plugin {name!r} ({target!r} from {distribution!r}) ignored: {reason}",
        PluginWarning,
        stacklevel=5,
    )
    info = BackendInfo(name, registry.kind, (), "entry_point", distribution, target, None, None, None, None, reason)
    with registry._lock:
        registry._rejected.append(info)
