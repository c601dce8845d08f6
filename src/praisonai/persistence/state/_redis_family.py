"""The state contract on Redis commands, shared by ``redis`` (redis-py) and ``upstash`` (REST).

Values are Redis strings holding JSON text, hashes are Redis hashes of JSON
texts, TTLs are Redis's own (``PX``/``PEXPIRE``/``PTTL``, so fractions of a
second survive), and every key is stored as ``key_prefix + key``. Redis itself
answers WRONGTYPE, hides expired keys and deletes a hash with its last field,
so the semantics are the engine's, not emulated. ``keys()`` iterates with
``SCAN MATCH`` (never ``KEYS``) on the escaped prefix plus the pattern.

A subclass adapts one client: it sends single commands through
``_client`` (whose methods share redis-py's signatures) and supplies the
pipelined batches and the mapping of driver errors.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

from .._values import check_key, check_ttl, dump_json, glob_escape, load_json
from ..errors import InvalidInputError, StoreError, WrongTypeError
from .base import JSONInput, StateStore

__all__ = ["RedisFamilyStateStore"]

SCAN_COUNT = 1000


def milliseconds(ttl: object, backend: str) -> int:
    """A TTL in whole milliseconds, never rounded down to zero."""
    return max(1, math.ceil(check_ttl(ttl, backend) * 1000))


class _Calling:
    """The context of every driver call, made once per store: a ``@contextmanager`` would build a
    generator per call, a measurable share of a ~40 µs GET/SET on loopback."""

    __slots__ = ("_store",)

    def __init__(self, store: RedisFamilyStateStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        if self._store._closed:
            raise StoreError("the store is closed", backend=self._store.backend)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> Literal[False]:
        if not isinstance(error, Exception) or isinstance(error, StoreError):
            return False
        translated = self._store._translate(error)
        if translated is None:
            return False
        raise translated from error


class RedisFamilyStateStore(StateStore):
    """The contract in Redis commands; subclasses bind a client."""

    backend: ClassVar[str]

    def __init__(self, key_prefix: str) -> None:
        self._prefix = key_prefix
        self._prefix_pattern = glob_escape(key_prefix)
        self._closed = False
        self._guard = _Calling(self)

    # -- what a client adapter supplies -------------------------------------

    @property
    @abstractmethod
    def _client(self) -> Any:
        """The driver's client, with redis-py's method names and signatures."""

    @abstractmethod
    def _translate(self, error: Exception) -> Exception | None:
        """Our error for a driver error (None: not the driver's, re-raise as is)."""

    @abstractmethod
    def _get_pipelined(self, keys: list[str]) -> list[str | None]:
        """GET of every key in one round trip; a WRONGTYPE reply raises."""

    @abstractmethod
    def _set_atomically(self, items: list[tuple[str, str]], px: int | None) -> None:
        """SET (with PX when given) of every item in one MULTI/EXEC transaction."""

    @abstractmethod
    def _scan_page(self, cursor: int, match: str) -> tuple[int, list[str]]:
        """One ``SCAN cursor MATCH match COUNT n`` step."""

    @abstractmethod
    def _shutdown(self) -> None: ...

    # -- plumbing ------------------------------------------------------------

    def _calling(self) -> _Calling:
        """``with self._calling():`` around a driver call: refuse a closed store, translate driver errors."""
        return self._guard

    def _stored(self, key: str) -> str:
        return self._prefix + check_key(key, self.backend)

    def _field(self, field: str) -> str:
        return check_key(field, self.backend, "field")

    def _wrong_type(self, message: str) -> StoreError:
        if message.startswith("WRONGTYPE"):
            return WrongTypeError(f"{message} (a value key used as a hash, or the reverse)", backend=self.backend)
        return StoreError(f"the server answered: {message}", backend=self.backend)

    # -- the contract --------------------------------------------------------

    def get(self, key: str) -> Any:
        stored = self._stored(key)
        with self._calling():
            text = self._client.get(stored)
        return None if text is None else load_json(text)

    def set(self, key: str, value: JSONInput, ttl: float | None = None) -> None:
        stored = self._stored(key)
        text = dump_json(value, self.backend)
        px = None if ttl is None else milliseconds(ttl, self.backend)
        with self._calling():
            self._client.set(stored, text, px=px)

    def delete(self, key: str) -> bool:
        stored = self._stored(key)
        with self._calling():
            return bool(self._client.delete(stored))

    def exists(self, key: str) -> bool:
        stored = self._stored(key)
        with self._calling():
            return bool(self._client.exists(stored))

    def keys(self, pattern: str = "*") -> list[str]:
        if not isinstance(pattern, str):
            raise InvalidInputError(f"pattern must be a str, not {type(pattern).__name__}", backend=self.backend)
        match = self._prefix_pattern + pattern
        found: set[str] = set()  # SCAN may return a key more than once
        cursor = 0
        with self._calling():
            while True:
                cursor, page = self._scan_page(cursor, match)
                found.update(page)
                if cursor == 0:
                    break
        cut = len(self._prefix)
        return sorted(key[cut:] for key in found)

    def ttl(self, key: str) -> int | None:
        stored = self._stored(key)
        with self._calling():
            remaining = int(self._client.pttl(stored))
        # -2: no such key, -1: no TTL. 0 ms left still counts as a live key.
        return None if remaining < 0 else max(1, math.ceil(remaining / 1000))

    def expire(self, key: str, ttl: float) -> bool:
        stored = self._stored(key)
        px = milliseconds(ttl, self.backend)
        with self._calling():
            return bool(self._client.pexpire(stored, px))

    def hget(self, key: str, field: str) -> Any:
        stored, field = self._stored(key), self._field(field)
        with self._calling():
            text = self._client.hget(stored, field)
        return None if text is None else load_json(text)

    def hset(self, key: str, field: str, value: JSONInput) -> None:
        stored, field = self._stored(key), self._field(field)
        text = dump_json(value, self.backend)
        with self._calling():
            self._client.hset(stored, field, text)

    def hgetall(self, key: str) -> dict[str, Any]:
        stored = self._stored(key)
        with self._calling():
            fields: Mapping[str, str] = self._client.hgetall(stored) or {}
        return {field: load_json(text) for field, text in fields.items()}

    def hdel(self, key: str, *fields: str) -> int:
        stored = self._stored(key)
        names = list(dict.fromkeys(self._field(field) for field in fields))
        if not names:
            return 0
        with self._calling():
            return int(self._client.hdel(stored, *names))

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        wanted = {key: self._stored(key) for key in keys}
        if not wanted:
            return {}
        with self._calling():
            texts = self._get_pipelined(list(wanted.values()))
        return {key: load_json(text) for key, text in zip(wanted, texts, strict=True) if text is not None}

    def set_many(self, items: Mapping[str, JSONInput], ttl: float | None = None) -> None:
        # Everything is checked before anything is sent.
        encoded = [(self._stored(key), dump_json(value, self.backend)) for key, value in items.items()]
        px = None if ttl is None else milliseconds(ttl, self.backend)
        if not encoded:
            return
        with self._calling():
            self._set_atomically(encoded, px)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._shutdown()
