"""Run-time stand-ins for the few ``typing`` constructs that ``import praisonai.persistence.registry`` needs.

That import must stay cheap, and ``typing`` (with the ``re``, ``enum``, ``functools``
and ``contextlib`` it imports) was about half of it. Type checkers see the real
``typing``: each user imports from here only in the ``else`` branch of
``if TYPE_CHECKING``. At run time these do the same job for the uses on the import
path: class-syntax named tuples, a subscriptable generic base and ``@overload``.
Annotations are never evaluated there (``from __future__ import annotations``).
"""

from __future__ import annotations

import types
from collections import namedtuple
from collections.abc import Callable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:  # pragma: no cover - the checker's view only
    from typing import Any

__all__ = ["Generic", "NamedTuple", "TypeVar", "overload"]

# What a class body holds besides its fields and members.
_CLASS_KEYS = frozenset({"__annotations__", "__module__", "__qualname__", "__orig_bases__"})


class _NamedTupleMeta(type):
    def __new__(mcls, typename: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        if namespace.get("_root", False):
            return super().__new__(mcls, typename, bases, namespace)
        fields = list(namespace.get("__annotations__", {}))
        defaults = [namespace[name] for name in fields if name in namespace]
        built = namedtuple(typename, fields, defaults=defaults, module=namespace["__module__"])  # type: ignore[misc]
        for key, value in namespace.items():
            if key not in _CLASS_KEYS and key not in fields:
                setattr(built, key, value)
        built.__qualname__ = namespace.get("__qualname__", typename)
        built.__annotations__ = dict(namespace.get("__annotations__", {}))
        return built


class NamedTuple(metaclass=_NamedTupleMeta):
    """``class Point(NamedTuple): x: int`` builds ``collections.namedtuple("Point", ["x"])``, members kept."""

    _root = True


def TypeVar(name: str, *constraints: object, **options: object) -> str:
    return name


class Generic:
    """A base whose subclasses can be subscripted (``Registry[Store]``), as ``typing.Generic`` allows."""

    __slots__ = ()

    def __class_getitem__(cls, parameters: object) -> types.GenericAlias:
        return types.GenericAlias(cls, parameters)


def overload(function: Callable[..., Any]) -> Callable[..., Any]:
    """The overloads are for type checkers; the last (real) definition replaces them."""
    return function
