"""The state contract on Redis commands, shared by ``redis`` (redis-py) and ``upstash`` (REST).

Values are Redis strings holding JSON text, hashes are Redis hashes of JSON
texts, TTLs are Redis's own (``PX``/``PEXPIRE``/``PTTL``, so fractions of a
second survive), and every key is stored as ``key_prefix + key``. Redis itself
answers WRONGTYPE, hides expired keys and deletes a hash with its last field,
so the semantics are the engine's, not emulated. ``keys()`` iterates with
``SCAN MATCH`` (never ``KEYS``) on the escaped prefix plus the pattern.

A subclass adapts one client: it sends single commands through
``_client`` (whose methods share redis-py's signatures) and supplies the
pipelined batches and the mapping of driver errors (``_translate_error`` of the
call guard, ``_guard.py``, which every method runs under).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

from .._glob import glob_escape
from .._guard import GuardedStore
from .._values import (
    MAX_KEY_LENGTH,
    check_key,
    check_ttl,
    dump_json,
    encode_plain_json,
    load_json,
    plain_ids,
    plain_json_values,
)
from ..errors import InvalidInputError, StoreError, WrongTypeError
from .base import JSONInput, StateStore

__all__ = ["RedisCommandsStateStore"]

SCAN_COUNT = 1000


def milliseconds(ttl: object) -> int:
    """A TTL in whole milliseconds, never rounded down to zero."""
    return max(1, math.ceil(check_ttl(ttl) * 1000))


class RedisCommandsStateStore(GuardedStore, StateStore):
    """The contract in Redis commands; subclasses bind a client."""

    def __init__(self, key_prefix: str) -> None:
        self._prefix = key_prefix
        self._prefix_pattern = glob_escape(key_prefix)

    # -- what a client adapter supplies -------------------------------------

    @property
    @abstractmethod
    def _client(self) -> Any:
        """The driver's client, with redis-py's method names and signatures."""

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

    def _stored(self, key: str) -> str:
        return self._prefix + check_key(key)

    def _quick_encoded(self, items: Mapping[str, JSONInput]) -> list[tuple[str, str]] | None:
        """``(stored key, JSON text)`` of ordinary items, checked at C speed, or None: check each."""
        if type(items) is not dict or not plain_ids(list(items), MAX_KEY_LENGTH):
            return None
        values = list(items.values())
        if not plain_json_values(values):
            return None
        try:
            texts = list(map(encode_plain_json, values))
        except ValueError:  # an int too long to write as text: dump_json says so
            return None
        return list(zip(map(self._prefix.__add__, items), texts, strict=True))

    def _stored_keys(self, keys: Iterable[str]) -> dict[str, str]:
        """Each distinct key, checked, and its stored name (a batch of ordinary keys at C speed)."""
        batch = keys if type(keys) is list else list(keys)
        if plain_ids(batch, MAX_KEY_LENGTH):
            return dict(zip(batch, map(self._prefix.__add__, batch), strict=True))
        return {key: self._stored(key) for key in batch}

    @staticmethod
    def _field(field: str) -> str:
        return check_key(field, what="field")

    @staticmethod
    def _wrong_type(message: str) -> StoreError:
        if message.startswith("WRONGTYPE"):
            return WrongTypeError(f"{message} (a value key used as a hash, or the reverse)")
        return StoreError(f"the server answered: {message}")

    # -- the contract --------------------------------------------------------

    def get(self, key: str) -> Any:
        with self._guard:
            stored = self._stored(key)
            text = self._client.get(stored)
            return None if text is None else load_json(text)

    def set(self, key: str, value: JSONInput, ttl: float | None = None) -> None:
        with self._guard:
            stored = self._stored(key)
            text = dump_json(value)
            px = None if ttl is None else milliseconds(ttl)
            self._client.set(stored, text, px=px)

    def delete(self, key: str) -> bool:
        with self._guard:
            stored = self._stored(key)
            return bool(self._client.delete(stored))

    def exists(self, key: str) -> bool:
        with self._guard:
            stored = self._stored(key)
            return bool(self._client.exists(stored))

    def keys(self, pattern: str = "*") -> list[str]:
        with self._guard:
            if not isinstance(pattern, str):
                raise InvalidInputError(f"pattern must be a str, not {type(pattern).__name__}")
            match = self._prefix_pattern + pattern
            found: set[str] = set()  # SCAN may return a key more than once
            cursor = 0
            while True:
                cursor, page = self._scan_page(cursor, match)
                found.update(page)
                if cursor == 0:
                    break
            cut = len(self._prefix)
            return sorted(key[cut:] for key in found)

    def ttl(self, key: str) -> int | None:
        with self._guard:
            stored = self._stored(key)
            remaining = int(self._client.pttl(stored))
            # -2: no such key, -1: no TTL. 0 ms left still counts as a live key.
            return None if remaining < 0 else max(1, math.ceil(remaining / 1000))

    def expire(self, key: str, ttl: float) -> bool:
        with self._guard:
            stored = self._stored(key)
            px = milliseconds(ttl)
            return bool(self._client.pexpire(stored, px))

    def hget(self, key: str, field: str) -> Any:
        with self._guard:
            stored, field = self._stored(key), self._field(field)
            text = self._client.hget(stored, field)
            return None if text is None else load_json(text)

    def hset(self, key: str, field: str, value: JSONInput) -> None:
        with self._guard:
            stored, field = self._stored(key), self._field(field)
            text = dump_json(value)
            self._client.hset(stored, field, text)

    def hgetall(self, key: str) -> dict[str, Any]:
        with self._guard:
            stored = self._stored(key)
            fields: Mapping[str, str] = self._client.hgetall(stored) or {}
            return {field: load_json(text) for field, text in fields.items()}

    def hdel(self, key: str, *fields: str) -> int:
        with self._guard:
            stored = self._stored(key)
            names = list(dict.fromkeys(self._field(field) for field in fields))
            if not names:
                return 0
            return int(self._client.hdel(stored, *names))

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        with self._guard:
            wanted = self._stored_keys(keys)
            if not wanted:
                return {}
            texts = self._get_pipelined(list(wanted.values()))
            return {key: load_json(text) for key, text in zip(wanted, texts, strict=True) if text is not None}

    def set_many(self, items: Mapping[str, JSONInput], ttl: float | None = None) -> None:
        with self._guard:
            # Everything is checked before anything is sent.
            encoded = self._quick_encoded(items)
            if encoded is None:
                encoded = [(self._stored(key), dump_json(value)) for key, value in items.items()]
            px = None if ttl is None else milliseconds(ttl)
            if not encoded:
                return
            self._set_atomically(encoded, px)

    def close(self) -> None:
        self._close_once(self._shutdown)
