"""The state store contract: JSON values and hashes under string keys, with TTLs.

``StateStore`` and ``AsyncStateStore`` are runtime-checkable Protocols.
Subclass one explicitly to inherit the defaults written here (``get_json`` /
``set_json``, ``scan_prefix``, ``get_many`` / ``set_many``, context manager).

Semantics every backend keeps (checked by ``praisonai.persistence.testing``):

- Values are plain JSON and come back with their type (``"123"`` stays a
  string). Anything else raises :class:`NotJSONSerializableError`, a
  ``TypeError``; nothing is pickled.
- ``ttl`` arguments are seconds (> 0). An expired key is never returned by any
  read. ``ttl(key)`` is the remaining lifetime rounded up to whole seconds, or
  None when the key has no TTL or does not exist.
- ``keys(pattern)`` uses Redis glob semantics (``*``, ``?``, ``[abc]``,
  ``[^a]``, ``\\`` escapes) on every backend.
- A key holds a value or a hash. ``get`` on a hash key and ``hget`` on a value
  key raise :class:`WrongTypeError`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias, runtime_checkable

from .._closing import AsyncClosing, Closing
from .._glob import glob_escape

__all__ = ["AsyncStateStore", "JSONInput", "StateStore"]

JSONInput: TypeAlias = bool | int | float | str | Sequence["JSONInput"] | Mapping[str, "JSONInput"] | None
"""What ``set`` accepts. Sequences come back as lists and mappings as dicts."""


@runtime_checkable
class StateStore(Closing, Protocol):
    """A synchronous key-value store for agent state and caches."""

    @abstractmethod
    def get(self, key: str) -> Any:
        """The value, or None when the key is absent or expired."""

    @abstractmethod
    def set(self, key: str, value: JSONInput, ttl: float | None = None) -> None:
        """Store a JSON value, replacing what was there; expire it after ``ttl`` seconds."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Delete a key of either type; False if it did not exist."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def keys(self, pattern: str = "*") -> list[str]:
        """Live keys matching a Redis-style glob, sorted."""

    @abstractmethod
    def ttl(self, key: str) -> int | None:
        """Remaining seconds, rounded up; None without a TTL or key."""

    @abstractmethod
    def expire(self, key: str, ttl: float) -> bool:
        """Set a TTL on an existing key; False if the key does not exist."""

    @abstractmethod
    def hget(self, key: str, field: str) -> Any: ...

    @abstractmethod
    def hset(self, key: str, field: str, value: JSONInput) -> None: ...

    @abstractmethod
    def hgetall(self, key: str) -> dict[str, Any]: ...

    @abstractmethod
    def hdel(self, key: str, *fields: str) -> int:
        """Delete fields; the key disappears with its last field. Returns how many were deleted."""

    def get_json(self, key: str) -> Any:
        """Same as :meth:`get`: values are always JSON."""
        return self.get(key)

    def set_json(self, key: str, value: JSONInput, ttl: float | None = None) -> None:
        """Same as :meth:`set`: values are always JSON."""
        self.set(key, value, ttl)

    def scan_prefix(self, prefix: str) -> list[str]:
        """Live keys starting with ``prefix`` (glob characters in it match literally)."""
        return self.keys(glob_escape(prefix) + "*")

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The present keys among ``keys`` with their values."""
        found: dict[str, Any] = {}
        for key in keys:
            if self.exists(key):
                found[key] = self.get(key)
        return found

    def set_many(self, items: Mapping[str, JSONInput], ttl: float | None = None) -> None:
        for key, value in items.items():
            self.set(key, value, ttl)


@runtime_checkable
class AsyncStateStore(AsyncClosing, Protocol):
    """The asyncio twin of :class:`StateStore`, with the same semantics."""

    @abstractmethod
    async def get(self, key: str) -> Any: ...

    @abstractmethod
    async def set(self, key: str, value: JSONInput, ttl: float | None = None) -> None: ...

    @abstractmethod
    async def delete(self, key: str) -> bool: ...

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def keys(self, pattern: str = "*") -> list[str]: ...

    @abstractmethod
    async def ttl(self, key: str) -> int | None: ...

    @abstractmethod
    async def expire(self, key: str, ttl: float) -> bool: ...

    @abstractmethod
    async def hget(self, key: str, field: str) -> Any: ...

    @abstractmethod
    async def hset(self, key: str, field: str, value: JSONInput) -> None: ...

    @abstractmethod
    async def hgetall(self, key: str) -> dict[str, Any]: ...

    @abstractmethod
    async def hdel(self, key: str, *fields: str) -> int: ...

    async def get_json(self, key: str) -> Any:
        return await self.get(key)

    async def set_json(self, key: str, value: JSONInput, ttl: float | None = None) -> None:
        await self.set(key, value, ttl)

    async def scan_prefix(self, prefix: str) -> list[str]:
        return await self.keys(glob_escape(prefix) + "*")

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key in keys:
            if await self.exists(key):
                found[key] = await self.get(key)
        return found

    async def set_many(self, items: Mapping[str, JSONInput], ttl: float | None = None) -> None:
        for key, value in items.items():
            await self.set(key, value, ttl)
