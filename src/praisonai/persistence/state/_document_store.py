"""The state contract for document stores (DynamoDB, MongoDB, Firestore, GCS), written once for sync and async.

Every key is one document (an "item")::

    {key, kind: "v" | "h", value: JSON text (kind "v") | {field: JSON text} (kind "h"),
     expires_at: epoch seconds or absent, version: opaque}

A backend supplies a handful of primitives (load one item with a version
token, create-if-absent, replace-if-unchanged, delete-if-unchanged, blind put,
scan by key prefix) and hands its config to ``super().__init__(config, key_prefix)``:
the base keeps it as ``self.config`` and takes the store's ``backend`` name from it.
Each contract method is an operation (``_sansio.py``): a
generator of :class:`~.._sansio.Call` requests for those primitives, written
once in :class:`_DocumentContract`; :class:`DocumentStateStore` drives it on
synchronous primitives, :class:`AsyncDocumentStateStore` on awaitable ones, each
call under the store's call guard. So the semantics cannot drift between
backends, nor between a store and its asyncio twin:

- Reads hide expired items themselves (read-time expiry); the engine's own TTL
  mechanism, where there is one, only reclaims space later.
- Writes that depend on the current item (``expire``, ``hset``, ``hdel``,
  ``delete``) are optimistic: read, decide with a pure function, write only if
  the item is unchanged, retry on conflict. Plain ``set`` is a blind put.
- ``keys(pattern)`` asks the engine for the pattern's literal prefix and
  matches the rest with :func:`~praisonai.persistence._glob.compile_glob`.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeAlias, TypeVar

from .._glob import compile_glob, glob_literal_prefix
from .._guard import GuardedStore
from .._sansio import Call, call_on, call_on_async, drive, drive_async
from .._values import check_key, check_ttl, dump_json, load_json
from ..errors import InvalidInputError, StoreError, WrongTypeError
from .base import AsyncStateStore, JSONInput, StateStore

if TYPE_CHECKING:
    from .._config import StoreConfig

__all__ = [
    "HASH",
    "VALUE",
    "AsyncDocumentStateStore",
    "DocumentStateStore",
    "Operation",
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
K = TypeVar("K", bound="StoreConfig")
"""The backend's config model, kept as ``self.config``."""
Token: TypeAlias = Any
"""What a backend uses to detect a concurrent change: a version string, a generation, an update time."""
Operation: TypeAlias = Generator[Call, Any, R]


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


def _value_text(item: Item | None, key: str) -> str | None:
    if item is None:
        return None
    if item.kind != VALUE:
        raise WrongTypeError(f"key {key!r} holds a hash; use hget/hgetall")
    return item.value


def _hash_fields(item: Item | None, key: str) -> Mapping[str, str] | None:
    if item is None:
        return None
    if item.kind != HASH:
        raise WrongTypeError(f"key {key!r} holds a plain value; use get")
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


def _change_hset(key: str, field: str, text: str) -> Callable[[Item | None, float], Change[None]]:
    def change(item: Item | None, now: float) -> Change[None]:
        fields = _hash_fields(item, key)
        if item is None or fields is None:
            return Item(HASH, fields={field: text}), None
        return replace(item, fields={**fields, field: text}), None

    return change


def _change_hdel(key: str, fields: tuple[str, ...]) -> Callable[[Item | None, float], Change[int]]:
    def change(item: Item | None, now: float) -> Change[int]:
        current = _hash_fields(item, key)
        if item is None or current is None:
            return KEEP, 0
        present = [field for field in dict.fromkeys(fields) if field in current]
        if not present:
            return KEEP, 0
        kept = {name: text for name, text in current.items() if name not in present}
        return (replace(item, fields=kept) if kept else None), len(present)

    return change


def _backoff(attempt: int) -> float:
    return 0.0 if attempt < 2 else random.uniform(0, min(0.05, 0.001 * 2**attempt))


class _DocumentContract(GuardedStore, Generic[K]):
    """The contract as operations on the primitives; argument checks and key mapping."""

    max_key_bytes: ClassVar[int | None] = None
    """The engine's limit on a stored key (prefix included), in UTF-8 bytes."""

    def __init__(self, config: K, key_prefix: str = "") -> None:
        self.config = config
        self.backend = config.backend  # the name its config model states (the catalogue row's)
        self._prefix = key_prefix

    # -- arguments ------------------------------------------------------------

    def _stored(self, key: str) -> str:
        stored = self._prefix + check_key(key)
        limit = self.max_key_bytes
        if limit is not None and len(stored.encode("utf-8")) > limit:
            raise InvalidInputError(
                f"key is {len(stored.encode('utf-8'))} bytes long in UTF-8 with the key prefix; "
                f"{self.backend} allows {limit}"
            )
        return stored

    @staticmethod
    def _field(field: str) -> str:
        return check_key(field, what="field")

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else time.time() + check_ttl(ttl)

    def _pattern(self, pattern: str) -> tuple[str, Any]:
        if not isinstance(pattern, str):
            raise InvalidInputError(f"pattern must be a str, not {type(pattern).__name__}")
        return self._prefix + glob_literal_prefix(pattern), compile_glob(pattern)

    def _matching(self, scanned: Iterable[tuple[str, float | None]], regex: Any, now: float) -> Iterator[str]:
        cut = len(self._prefix)
        for stored, expires_at in scanned:
            if not stored.startswith(self._prefix) or (expires_at is not None and expires_at <= now):
                continue
            key = stored[cut:]
            if regex.fullmatch(key):
                yield key

    # -- the contract, as operations --------------------------------------------

    def _live(self, stored: str) -> Operation[Item | None]:
        loaded = yield Call("_load", (stored,))
        if loaded is None or not loaded[0].is_live(time.time()):
            return None
        item: Item = loaded[0]
        return item

    def _mutate(self, stored: str, change: Callable[[Item | None, float], Change[R]]) -> Operation[R]:
        for attempt in range(MAX_ATTEMPTS):
            loaded = yield Call("_load", (stored,))
            now = time.time()
            current, token = loaded if loaded is not None else (None, None)
            new, result = change(current if current is not None and current.is_live(now) else None, now)
            if isinstance(new, _Keep):
                return result
            if new is None:
                done = current is None or (yield Call("_remove", (stored, token)))
            elif current is None:
                done = yield Call("_create", (stored, new))
            else:
                done = yield Call("_replace", (stored, new, token))
            if done:
                return result
            yield Call("_sleep", (_backoff(attempt),))
        key = stored[len(self._prefix) :]
        raise StoreError(f"key {key!r} kept changing under {MAX_ATTEMPTS} attempts to update it")

    def _get(self, key: str) -> Operation[Any]:
        text = _value_text((yield from self._live(self._stored(key))), key)
        return None if text is None else load_json(text)

    def _set(self, key: str, value: JSONInput, ttl: float | None) -> Operation[None]:
        stored = self._stored(key)
        yield Call("_put", (stored, Item(VALUE, value=dump_json(value), expires_at=self._expiry(ttl))))

    def _delete(self, key: str) -> Operation[bool]:
        return (yield from self._mutate(self._stored(key), _change_delete))

    def _exists(self, key: str) -> Operation[bool]:
        return (yield from self._live(self._stored(key))) is not None

    def _keys(self, pattern: str) -> Operation[list[str]]:
        prefix, regex = self._pattern(pattern)
        scanned = yield Call("_scan", (prefix,))
        return sorted(self._matching(scanned, regex, time.time()))

    def _ttl(self, key: str) -> Operation[int | None]:
        item = yield from self._live(self._stored(key))
        if item is None or item.expires_at is None:
            return None
        return remaining_seconds(item.expires_at, time.time())

    def _expire(self, key: str, ttl: float) -> Operation[bool]:
        stored = self._stored(key)
        return (yield from self._mutate(stored, _change_expire(time.time() + check_ttl(ttl))))

    def _hget(self, key: str, field: str) -> Operation[Any]:
        stored, field = self._stored(key), self._field(field)
        fields = _hash_fields((yield from self._live(stored)), key)
        text = None if fields is None else fields.get(field)
        return None if text is None else load_json(text)

    def _hset(self, key: str, field: str, value: JSONInput) -> Operation[None]:
        stored, field = self._stored(key), self._field(field)
        yield from self._mutate(stored, _change_hset(key, field, dump_json(value)))

    def _hgetall(self, key: str) -> Operation[dict[str, Any]]:
        fields = _hash_fields((yield from self._live(self._stored(key))), key)
        return {} if fields is None else {field: load_json(text) for field, text in fields.items()}

    def _hdel(self, key: str, fields: tuple[str, ...]) -> Operation[int]:
        stored = self._stored(key)
        names = tuple(self._field(field) for field in fields)
        return (yield from self._mutate(stored, _change_hdel(key, names)))

    def _get_many(self, keys: Iterable[str]) -> Operation[dict[str, Any]]:
        wanted = {key: self._stored(key) for key in keys}
        items = (yield Call("_load_many", (list(dict.fromkeys(wanted.values())),))) if wanted else {}
        now = time.time()
        found = {}
        for key, stored in wanted.items():
            item = items.get(stored)
            text = _value_text(item if item is not None and item.is_live(now) else None, key)
            if text is not None:
                found[key] = load_json(text)
        return found

    def _set_many(self, items: Mapping[str, JSONInput], ttl: float | None) -> Operation[None]:
        # Everything is checked before anything is written.
        encoded = [(self._stored(key), dump_json(value)) for key, value in items.items()]
        expires_at = self._expiry(ttl)
        if encoded:
            yield Call(
                "_put_many", ([(stored, Item(VALUE, value=text, expires_at=expires_at)) for stored, text in encoded],)
            )


class DocumentStateStore(_DocumentContract[K], StateStore):
    """A synchronous state store over a document engine; subclasses supply the primitives."""

    def __init__(self, config: K, key_prefix: str = "") -> None:
        super().__init__(config, key_prefix)
        self._on_primitives = call_on(self)

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

    @staticmethod
    def _sleep(seconds: float) -> None:
        time.sleep(seconds)

    # -- the contract ---------------------------------------------------------

    def _run(self, operation: Operation[R]) -> R:
        with self._guard:
            return drive(operation, self._on_primitives)

    def get(self, key: str) -> Any:
        return self._run(self._get(key))

    def set(self, key: str, value: JSONInput, ttl: float | None = None) -> None:
        self._run(self._set(key, value, ttl))

    def delete(self, key: str) -> bool:
        return self._run(self._delete(key))

    def exists(self, key: str) -> bool:
        return self._run(self._exists(key))

    def keys(self, pattern: str = "*") -> list[str]:
        return self._run(self._keys(pattern))

    def ttl(self, key: str) -> int | None:
        return self._run(self._ttl(key))

    def expire(self, key: str, ttl: float) -> bool:
        return self._run(self._expire(key, ttl))

    def hget(self, key: str, field: str) -> Any:
        return self._run(self._hget(key, field))

    def hset(self, key: str, field: str, value: JSONInput) -> None:
        self._run(self._hset(key, field, value))

    def hgetall(self, key: str) -> dict[str, Any]:
        return self._run(self._hgetall(key))

    def hdel(self, key: str, *fields: str) -> int:
        return self._run(self._hdel(key, fields))

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        return self._run(self._get_many(keys))

    def set_many(self, items: Mapping[str, JSONInput], ttl: float | None = None) -> None:
        self._run(self._set_many(items, ttl))

    def close(self) -> None:
        self._close_once(self._shutdown)


class AsyncDocumentStateStore(_DocumentContract[K], AsyncStateStore):
    """The asyncio twin of :class:`DocumentStateStore`: the same operations, on awaited primitives."""

    def __init__(self, config: K, key_prefix: str = "") -> None:
        super().__init__(config, key_prefix)
        self._on_primitives = call_on_async(self)

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
    async def _scan(self, prefix: str) -> Iterable[tuple[str, float | None]]: ...

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

    @staticmethod
    def _sleep(seconds: float) -> Awaitable[None]:
        return asyncio.sleep(seconds)

    async def _run(self, operation: Operation[R]) -> R:
        with self._guard:
            return await drive_async(operation, self._on_primitives)

    async def get(self, key: str) -> Any:
        return await self._run(self._get(key))

    async def set(self, key: str, value: JSONInput, ttl: float | None = None) -> None:
        await self._run(self._set(key, value, ttl))

    async def delete(self, key: str) -> bool:
        return await self._run(self._delete(key))

    async def exists(self, key: str) -> bool:
        return await self._run(self._exists(key))

    async def keys(self, pattern: str = "*") -> list[str]:
        return await self._run(self._keys(pattern))

    async def ttl(self, key: str) -> int | None:
        return await self._run(self._ttl(key))

    async def expire(self, key: str, ttl: float) -> bool:
        return await self._run(self._expire(key, ttl))

    async def hget(self, key: str, field: str) -> Any:
        return await self._run(self._hget(key, field))

    async def hset(self, key: str, field: str, value: JSONInput) -> None:
        await self._run(self._hset(key, field, value))

    async def hgetall(self, key: str) -> dict[str, Any]:
        return await self._run(self._hgetall(key))

    async def hdel(self, key: str, *fields: str) -> int:
        return await self._run(self._hdel(key, fields))

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        return await self._run(self._get_many(keys))

    async def set_many(self, items: Mapping[str, JSONInput], ttl: float | None = None) -> None:
        await self._run(self._set_many(items, ttl))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._translating:
            await self._shutdown()
