"""The state contract for document stores (DynamoDB, MongoDB, Firestore, GCS), written once.

Every key is one document (an "item")::

    {key, kind: "v" | "h", value: JSON text (kind "v") | {field: JSON text} (kind "h"),
     expires_at: epoch seconds or absent, version: opaque}

A backend supplies a handful of primitives (load one item with a version
token, create-if-absent, replace-if-unchanged, delete-if-unchanged, blind put,
scan by key prefix); :class:`DocumentStateStore` and its asyncio twin
:class:`AsyncDocumentStateStore` implement the contract on top of them, so the
semantics cannot drift between backends:

- Reads hide expired items themselves (read-time expiry); the engine's own TTL
  mechanism, where there is one, only reclaims space later.
- Writes that depend on the current item (``expire``, ``hset``, ``hdel``,
  ``delete``) are optimistic: read, decide with a pure function, write only if
  the item is unchanged, retry on conflict. Plain ``set`` is a blind put.
- ``keys(pattern)`` asks the engine for the pattern's literal prefix and
  matches the rest with :func:`~praisonai.persistence._values.glob_to_regex`.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Final, TypeAlias, TypeVar

from .._values import check_key, check_ttl, dump_json, glob_to_regex, load_json
from ..errors import InvalidInputError, StoreError, WrongTypeError
from .base import AsyncStateStore, JSONInput, StateStore

__all__ = [
    "HASH",
    "VALUE",
    "AsyncDocumentStateStore",
    "DocumentStateStore",
    "Item",
    "decode_field_name",
    "encode_field_name",
    "glob_literal_prefix",
    "prefix_upper_bound",
]

VALUE: Final = "v"
HASH: Final = "h"
MAX_ATTEMPTS: Final = 64
_TIMESTAMP_SLACK: Final = 0.001

R = TypeVar("R")
Token: TypeAlias = Any
"""What a backend uses to detect a concurrent change: a version string, a generation, an update time."""


@dataclass(frozen=True, slots=True)
class Item:
    """One key's document. ``value`` is JSON text for kind "v"; ``fields`` maps field -> JSON text for "h"."""

    kind: str
    value: str | None = None
    fields: Mapping[str, str] | None = None
    expires_at: float | None = None

    def is_live(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at > now


class _Keep:
    """Sentinel: the change leaves the stored item as it is."""


KEEP: Final = _Keep()
Change: TypeAlias = "tuple[Item | _Keep | None, R]"


# -- helpers for backends ---------------------------------------------------------


def glob_literal_prefix(pattern: str) -> str:
    """The literal text every key matching ``pattern`` starts with (``\\`` escapes resolved)."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char in "*?[":
            break
        if char == "\\" and index + 1 < len(pattern):
            index += 1
            char = pattern[index]
        out.append(char)
        index += 1
    return "".join(out)


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string greater than every string that starts with ``prefix`` (code-point order).

    Code-point order is UTF-8 byte order, which is how MongoDB (without a
    collation) and Firestore compare strings. None when there is no bound.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            following = last + 1
            if 0xD800 <= following <= 0xDFFF:  # surrogates cannot be encoded; skip past them
                following = 0xE000
            return "".join(chars) + chr(following)
    return None


_FIELD_ESCAPES: Final = {"%": "%25", ".": "%2E", "$": "%24"}


def encode_field_name(field: str) -> str:
    """A hash field as a map key that no engine reads as a path or operator.

    ``%``, ``.`` and ``$`` are percent-encoded everywhere and ``_`` at the
    start, so an encoded name never contains a dot, never starts with ``$``
    (MongoDB operators) and never looks like ``__name__`` (reserved in Firestore).
    """
    encoded = "".join(_FIELD_ESCAPES.get(char, char) for char in field)
    return "%5F" + encoded[1:] if encoded.startswith("_") else encoded


def decode_field_name(name: str) -> str:
    if "%" not in name:
        return name
    out: list[str] = []
    index = 0
    while index < len(name):
        if name[index] == "%":
            out.append(chr(int(name[index + 1 : index + 3], 16)))
            index += 3
        else:
            out.append(name[index])
            index += 1
    return "".join(out)


def remaining_seconds(expires_at: float, now: float) -> int:
    """Whole seconds left, rounded up, ignoring the sub-millisecond rounding of engines' timestamps.

    MongoDB keeps milliseconds and Firestore microseconds, so a TTL of 30 s
    read back a moment later can be 30.0004 s; that is still 30.
    """
    return max(1, math.ceil(expires_at - now - _TIMESTAMP_SLACK))


# -- the pure part of every operation (shared by the sync and async stores) ------


def _value_text(item: Item | None, key: str, backend: str) -> str | None:
    if item is None:
        return None
    if item.kind != VALUE:
        raise WrongTypeError(f"key {key!r} holds a hash; use hget/hgetall", backend=backend)
    return item.value


def _hash_fields(item: Item | None, key: str, backend: str) -> Mapping[str, str] | None:
    if item is None:
        return None
    if item.kind != HASH:
        raise WrongTypeError(f"key {key!r} holds a plain value; use get", backend=backend)
    return item.fields or {}


def _change_delete(item: Item | None, now: float) -> Change[bool]:
    # An expired item is removed too (the caller does so only when one is stored), but reported absent.
    return None, item is not None


def _change_expire(expires_at: float) -> Callable[[Item | None, float], Change[bool]]:
    def change(item: Item | None, now: float) -> Change[bool]:
        if item is None:
            return KEEP, False
        return replace(item, expires_at=expires_at), True

    return change


def _change_hset(key: str, field: str, text: str, backend: str) -> Callable[[Item | None, float], Change[None]]:
    def change(item: Item | None, now: float) -> Change[None]:
        fields = _hash_fields(item, key, backend)
        if item is None or fields is None:
            return Item(HASH, fields={field: text}), None
        return replace(item, fields={**fields, field: text}), None

    return change


def _change_hdel(key: str, fields: tuple[str, ...], backend: str) -> Callable[[Item | None, float], Change[int]]:
    def change(item: Item | None, now: float) -> Change[int]:
        current = _hash_fields(item, key, backend)
        if item is None or current is None:
            return KEEP, 0
        present = [field for field in dict.fromkeys(fields) if field in current]
        if not present:
            return KEEP, 0
        kept = {name: text for name, text in current.items() if name not in present}
        return (replace(item, fields=kept) if kept else None), len(present)

    return change


class _Shared:
    """Argument checks and key mapping, common to the sync and async stores."""

    backend: ClassVar[str]
    max_key_bytes: ClassVar[int | None] = None
    """The engine's limit on a stored key (prefix included), in UTF-8 bytes."""

    def __init__(self, key_prefix: str = "") -> None:
        self._prefix = key_prefix
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed", backend=self.backend)

    def _stored(self, key: str) -> str:
        stored = self._prefix + check_key(key, self.backend)
        limit = self.max_key_bytes
        if limit is not None and len(stored.encode("utf-8")) > limit:
            raise InvalidInputError(
                f"key is {len(stored.encode('utf-8'))} bytes long in UTF-8 with the key prefix; "
                f"{self.backend} allows {limit}",
                backend=self.backend,
            )
        return stored

    def _field(self, field: str) -> str:
        return check_key(field, self.backend, "field")

    def _expiry(self, ttl: float | None) -> float | None:
        return None if ttl is None else time.time() + check_ttl(ttl, self.backend)

    def _pattern(self, pattern: str) -> tuple[str, Any]:
        if not isinstance(pattern, str):
            raise InvalidInputError(f"pattern must be a str, not {type(pattern).__name__}", backend=self.backend)
        return self._prefix + glob_literal_prefix(pattern), glob_to_regex(pattern)

    def _matching(self, scanned: Iterable[tuple[str, float | None]], regex: Any, now: float) -> Iterator[str]:
        cut = len(self._prefix)
        for stored, expires_at in scanned:
            if not stored.startswith(self._prefix) or (expires_at is not None and expires_at <= now):
                continue
            key = stored[cut:]
            if regex.fullmatch(key):
                yield key

    def _conflict(self, key: str) -> StoreError:
        return StoreError(f"key {key!r} kept changing under {MAX_ATTEMPTS} attempts to update it", backend=self.backend)


def _backoff(attempt: int) -> float:
    return 0.0 if attempt < 2 else random.uniform(0, min(0.05, 0.001 * 2**attempt))


class DocumentStateStore(_Shared, StateStore):
    """A synchronous state store over a document engine; subclasses supply the primitives."""

    # -- primitives -----------------------------------------------------------

    @abstractmethod
    def _load(self, key: str) -> tuple[Item, Token] | None:
        """The stored item (expired or not) with its version token."""

    @abstractmethod
    def _create(self, key: str, item: Item) -> bool:
        """Store ``item`` only if nothing is stored under ``key``; False otherwise."""

    @abstractmethod
    def _replace(self, key: str, item: Item, token: Token) -> bool:
        """Store ``item`` only if the stored item still has ``token``; False otherwise."""

    @abstractmethod
    def _remove(self, key: str, token: Token) -> bool:
        """Delete the item only if it still has ``token``; False otherwise."""

    @abstractmethod
    def _put(self, key: str, item: Item) -> None:
        """Store ``item`` whatever is stored now."""

    @abstractmethod
    def _scan(self, prefix: str) -> Iterable[tuple[str, float | None]]:
        """Every stored key starting with ``prefix``, with its ``expires_at`` (expired ones may be left out)."""

    @abstractmethod
    def _shutdown(self) -> None:
        """Release the client (called once)."""

    def _load_many(self, keys: list[str]) -> dict[str, Item]:
        found = {}
        for key in keys:
            loaded = self._load(key)
            if loaded is not None:
                found[key] = loaded[0]
        return found

    def _put_many(self, items: list[tuple[str, Item]]) -> None:
        for key, item in items:
            self._put(key, item)

    # -- the contract ---------------------------------------------------------

    def _live(self, stored: str) -> Item | None:
        self._check_open()
        loaded = self._load(stored)
        if loaded is None or not loaded[0].is_live(time.time()):
            return None
        return loaded[0]

    def _mutate(self, stored: str, change: Callable[[Item | None, float], Change[R]]) -> R:
        self._check_open()
        for attempt in range(MAX_ATTEMPTS):
            loaded = self._load(stored)
            now = time.time()
            current, token = loaded if loaded is not None else (None, None)
            new, result = change(current if current is not None and current.is_live(now) else None, now)
            if isinstance(new, _Keep):
                return result
            if new is None:
                done = current is None or self._remove(stored, token)
            elif current is None:
                done = self._create(stored, new)
            else:
                done = self._replace(stored, new, token)
            if done:
                return result
            time.sleep(_backoff(attempt))
        raise self._conflict(stored[len(self._prefix) :])

    def get(self, key: str) -> Any:
        text = _value_text(self._live(self._stored(key)), key, self.backend)
        return None if text is None else load_json(text)

    def set(self, key: str, value: JSONInput, ttl: float | None = None) -> None:
        stored = self._stored(key)
        item = Item(VALUE, value=dump_json(value, self.backend), expires_at=self._expiry(ttl))
        self._check_open()
        self._put(stored, item)

    def delete(self, key: str) -> bool:
        return self._mutate(self._stored(key), _change_delete)

    def exists(self, key: str) -> bool:
        return self._live(self._stored(key)) is not None

    def keys(self, pattern: str = "*") -> list[str]:
        prefix, regex = self._pattern(pattern)
        self._check_open()
        return sorted(self._matching(self._scan(prefix), regex, time.time()))

    def ttl(self, key: str) -> int | None:
        item = self._live(self._stored(key))
        if item is None or item.expires_at is None:
            return None
        return remaining_seconds(item.expires_at, time.time())

    def expire(self, key: str, ttl: float) -> bool:
        stored = self._stored(key)
        return self._mutate(stored, _change_expire(time.time() + check_ttl(ttl, self.backend)))

    def hget(self, key: str, field: str) -> Any:
        stored, field = self._stored(key), self._field(field)
        fields = _hash_fields(self._live(stored), key, self.backend)
        text = None if fields is None else fields.get(field)
        return None if text is None else load_json(text)

    def hset(self, key: str, field: str, value: JSONInput) -> None:
        stored, field = self._stored(key), self._field(field)
        self._mutate(stored, _change_hset(key, field, dump_json(value, self.backend), self.backend))

    def hgetall(self, key: str) -> dict[str, Any]:
        fields = _hash_fields(self._live(self._stored(key)), key, self.backend)
        return {} if fields is None else {field: load_json(text) for field, text in fields.items()}

    def hdel(self, key: str, *fields: str) -> int:
        stored = self._stored(key)
        names = tuple(self._field(field) for field in fields)
        return self._mutate(stored, _change_hdel(key, names, self.backend))

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        wanted = {key: self._stored(key) for key in keys}
        self._check_open()
        items = self._load_many(list(dict.fromkeys(wanted.values()))) if wanted else {}
        now = time.time()
        found = {}
        for key, stored in wanted.items():
            item = items.get(stored)
            text = _value_text(item if item is not None and item.is_live(now) else None, key, self.backend)
            if text is not None:
                found[key] = load_json(text)
        return found

    def set_many(self, items: Mapping[str, JSONInput], ttl: float | None = None) -> None:
        # Everything is checked before anything is written.
        encoded = [(self._stored(key), dump_json(value, self.backend)) for key, value in items.items()]
        expires_at = self._expiry(ttl)
        self._check_open()
        if encoded:
            self._put_many([(stored, Item(VALUE, value=text, expires_at=expires_at)) for stored, text in encoded])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._shutdown()


class AsyncDocumentStateStore(_Shared, AsyncStateStore):
    """The asyncio twin of :class:`DocumentStateStore`: the same decisions, awaited primitives."""

    @abstractmethod
    async def _load(self, key: str) -> tuple[Item, Token] | None: ...

    @abstractmethod
    async def _create(self, key: str, item: Item) -> bool: ...

    @abstractmethod
    async def _replace(self, key: str, item: Item, token: Token) -> bool: ...

    @abstractmethod
    async def _remove(self, key: str, token: Token) -> bool: ...

    @abstractmethod
    async def _put(self, key: str, item: Item) -> None: ...

    @abstractmethod
    def _scan(self, prefix: str) -> AsyncIterator[tuple[str, float | None]]: ...

    @abstractmethod
    async def _shutdown(self) -> None: ...

    async def _load_many(self, keys: list[str]) -> dict[str, Item]:
        found = {}
        for key in keys:
            loaded = await self._load(key)
            if loaded is not None:
                found[key] = loaded[0]
        return found

    async def _put_many(self, items: list[tuple[str, Item]]) -> None:
        for key, item in items:
            await self._put(key, item)

    async def _live(self, stored: str) -> Item | None:
        self._check_open()
        loaded = await self._load(stored)
        if loaded is None or not loaded[0].is_live(time.time()):
            return None
        return loaded[0]

    async def _mutate(self, stored: str, change: Callable[[Item | None, float], Change[R]]) -> R:
        self._check_open()
        for attempt in range(MAX_ATTEMPTS):
            loaded = await self._load(stored)
            now = time.time()
            current, token = loaded if loaded is not None else (None, None)
            new, result = change(current if current is not None and current.is_live(now) else None, now)
            if isinstance(new, _Keep):
                return result
            if new is None:
                done = current is None or await self._remove(stored, token)
            elif current is None:
                done = await self._create(stored, new)
            else:
                done = await self._replace(stored, new, token)
            if done:
                return result
            await asyncio.sleep(_backoff(attempt))
        raise self._conflict(stored[len(self._prefix) :])

    async def get(self, key: str) -> Any:
        text = _value_text(await self._live(self._stored(key)), key, self.backend)
        return None if text is None else load_json(text)

    async def set(self, key: str, value: JSONInput, ttl: float | None = None) -> None:
        stored = self._stored(key)
        item = Item(VALUE, value=dump_json(value, self.backend), expires_at=self._expiry(ttl))
        self._check_open()
        await self._put(stored, item)

    async def delete(self, key: str) -> bool:
        return await self._mutate(self._stored(key), _change_delete)

    async def exists(self, key: str) -> bool:
        return await self._live(self._stored(key)) is not None

    async def keys(self, pattern: str = "*") -> list[str]:
        prefix, regex = self._pattern(pattern)
        self._check_open()
        scanned = [entry async for entry in self._scan(prefix)]
        return sorted(self._matching(scanned, regex, time.time()))

    async def ttl(self, key: str) -> int | None:
        item = await self._live(self._stored(key))
        if item is None or item.expires_at is None:
            return None
        return remaining_seconds(item.expires_at, time.time())

    async def expire(self, key: str, ttl: float) -> bool:
        stored = self._stored(key)
        return await self._mutate(stored, _change_expire(time.time() + check_ttl(ttl, self.backend)))

    async def hget(self, key: str, field: str) -> Any:
        stored, field = self._stored(key), self._field(field)
        fields = _hash_fields(await self._live(stored), key, self.backend)
        text = None if fields is None else fields.get(field)
        return None if text is None else load_json(text)

    async def hset(self, key: str, field: str, value: JSONInput) -> None:
        stored, field = self._stored(key), self._field(field)
        await self._mutate(stored, _change_hset(key, field, dump_json(value, self.backend), self.backend))

    async def hgetall(self, key: str) -> dict[str, Any]:
        fields = _hash_fields(await self._live(self._stored(key)), key, self.backend)
        return {} if fields is None else {field: load_json(text) for field, text in fields.items()}

    async def hdel(self, key: str, *fields: str) -> int:
        stored = self._stored(key)
        names = tuple(self._field(field) for field in fields)
        return await self._mutate(stored, _change_hdel(key, names, self.backend))

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        wanted = {key: self._stored(key) for key in keys}
        self._check_open()
        items = await self._load_many(list(dict.fromkeys(wanted.values()))) if wanted else {}
        now = time.time()
        found = {}
        for key, stored in wanted.items():
            item = items.get(stored)
            text = _value_text(item if item is not None and item.is_live(now) else None, key, self.backend)
            if text is not None:
                found[key] = load_json(text)
        return found

    async def set_many(self, items: Mapping[str, JSONInput], ttl: float | None = None) -> None:
        encoded = [(self._stored(key), dump_json(value, self.backend)) for key, value in items.items()]
        expires_at = self._expiry(ttl)
        self._check_open()
        if encoded:
            await self._put_many([(stored, Item(VALUE, value=text, expires_at=expires_at)) for stored, text in encoded])

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._shutdown()
