"""In-memory state store: the embedded default.

Engine: a dict in this process (no extra needed), optionally kept across
restarts in a snapshot file.
URL forms: ``memory://`` or ``memory:///path/to/snapshot.json``; or ``snapshot_path=``.
Test tier: embedded.

With a snapshot file every write is appended to ``<snapshot>.journal`` (and
fsynced unless ``fsync=False``) before it is acknowledged; every
``compact_every`` entries the whole state is written to a temporary file,
fsynced and renamed over the snapshot, then the journal is emptied. Journal
entries carry absolute expiry times, so replaying one twice is harmless, and a
torn last line (a crash mid-append) is ignored; a ``set_many`` is one entry, so a
crash keeps all of it or none. An ``hset`` entry also carries the time of the write, so
replay starts a new hash where the live store did (the old one had expired), rather
than adding the field to the expired one. An exclusive lock on the
journal keeps a second process from sharing the files. A state file PraisonAI 4.7
wrote is read and rewritten as a snapshot on open (``_praisonai_snapshot.py``).
"""

from __future__ import annotations

import heapq
import math
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from .._files import lock_exclusively, write_atomically
from .._glob import compile_glob
from .._guard import GuardedStore
from .._values import check_key, check_ttl, dump_json, load_json
from ..errors import InvalidInputError, StoreClosedError, StoreError, WrongTypeError
from ._praisonai_snapshot import snapshot_items_from_praisonai
from .base import JSONInput, StateStore
from .config import MemoryStateConfig

__all__ = ["MemoryStateStore"]

_VALUE, _HASH = "v", "h"


class _Item:
    """One key: a JSON text, or a hash of field -> JSON text; ``expires_at`` is epoch seconds."""

    __slots__ = ("expires_at", "kind", "payload")

    def __init__(self, kind: str, payload: Any, expires_at: float | None) -> None:
        self.kind = kind
        self.payload = payload
        self.expires_at = expires_at


class MemoryStateStore(GuardedStore, StateStore):
    """Thread-safe in-process state with TTLs, hashes and optional durability."""

    backend = "memory"

    def __init__(self, config: MemoryStateConfig | None = None) -> None:
        self.config = config or MemoryStateConfig()
        self._lock = threading.Lock()
        self._items: dict[str, _Item] = {}
        self._expiries: list[tuple[float, str]] = []  # heap; stale entries are skipped
        self._journal: IO[str] | None = None
        self._journal_entries = 0
        if self.config.snapshot_path is not None:
            with self._translating:
                self._open_files(Path(self.config.snapshot_path).expanduser())

    # -- durability ---------------------------------------------------------

    def _open_files(self, snapshot: Path) -> None:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        self._snapshot = snapshot
        journal_path = snapshot.with_name(snapshot.name + ".journal")
        journal = open(journal_path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open for the store's life
        try:
            lock_exclusively(journal.fileno(), f"{journal_path} is in use by another process")
            if snapshot.exists():
                data = load_json(snapshot.read_text(encoding="utf-8"))
                praisonai = snapshot_items_from_praisonai(data, time.time(), _VALUE)
                if praisonai is not None:  # PraisonAI 4.7's state file: rewritten as ours, atomically
                    data = {"version": 1, "items": praisonai}
                    write_atomically(snapshot, dump_json(data, what="snapshot"))
                for key, (kind, payload, expires_at) in data["items"].items():
                    self._put(key, _Item(kind, payload, expires_at))
            journal.seek(0)
            for line in journal:
                try:
                    entry = load_json(line)
                except ValueError:
                    break  # a torn last line: the write it held was never acknowledged
                self._replay(entry)
                self._journal_entries += 1
            journal.seek(0, os.SEEK_END)
        except BaseException:
            journal.close()
            raise
        self._journal = journal
        self._purge_expired(time.time())

    def _replay(self, entry: list[Any]) -> None:
        op, key = entry[0], entry[1]
        if op == "set":
            self._put(key, _Item(_VALUE, entry[2], entry[3]))
        elif op == "mset":  # one line for a whole set_many: a crash keeps all of it or none
            for each_key, text in key:
                self._put(each_key, _Item(_VALUE, text, entry[2]))
        elif op == "hset":
            item = self._items.get(key)
            if item is not None and len(entry) > 4 and item.expires_at is not None and item.expires_at <= entry[4]:
                item = None  # the hash had expired when this field was set: it began a new one
            if item is None or item.kind != _HASH:
                item = _Item(_HASH, {}, None)
                self._items[key] = item
            item.payload[entry[2]] = entry[3]
        elif op == "hdel":
            item = self._items.get(key)
            if item is not None and item.kind == _HASH:
                for field in entry[2]:
                    item.payload.pop(field, None)
                if not item.payload:
                    del self._items[key]
        elif op == "del":
            self._items.pop(key, None)
        elif op == "exp":
            item = self._items.get(key)
            if item is not None:
                self._set_expiry(key, item, entry[2])

    def _log(self, entry: list[Any]) -> None:
        journal = self._journal
        if journal is None:
            return
        journal.write(dump_json(entry, what="journal entry") + "\n")
        journal.flush()
        if self.config.fsync:
            os.fsync(journal.fileno())
        self._journal_entries += 1

    def _maybe_compact(self) -> None:
        # Called after the mutation is applied, so the snapshot includes it.
        if self._journal is not None and self._journal_entries >= self.config.compact_every:
            self._compact()

    def _compact(self) -> None:
        journal = self._journal
        assert journal is not None
        now = time.time()
        self._purge_expired(now)
        items = {key: [item.kind, item.payload, item.expires_at] for key, item in self._items.items()}
        text = dump_json({"version": 1, "items": items}, what="snapshot")
        write_atomically(self._snapshot, text)
        # Only now is the journal redundant; a crash before this line replays it harmlessly.
        journal.truncate(0)
        journal.seek(0)
        journal.flush()
        os.fsync(journal.fileno())
        self._journal_entries = 0

    def save_snapshot(self) -> None:
        """Write the snapshot now and empty the journal (also done by ``close``)."""
        with self._guard, self._lock:
            self._check_still_open()
            if self._journal is None:
                raise StoreError("no snapshot_path was configured")
            self._compact()

    # -- bookkeeping --------------------------------------------------------

    def _check_still_open(self) -> None:
        # Called with the lock held: the guard refused a closed store before the lock was taken,
        # and a close() may have run since.
        if self._closed:
            raise StoreClosedError("the store is closed")

    def _put(self, key: str, item: _Item) -> None:
        self._items[key] = item
        if item.expires_at is not None:
            heapq.heappush(self._expiries, (item.expires_at, key))

    def _set_expiry(self, key: str, item: _Item, expires_at: float | None) -> None:
        item.expires_at = expires_at
        if expires_at is not None:
            heapq.heappush(self._expiries, (expires_at, key))

    def _purge_expired(self, now: float) -> None:
        # Amortised: each TTL'd write pushes one heap entry and each is popped once.
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            _, key = heapq.heappop(expiries)
            item = self._items.get(key)
            if item is not None and item.expires_at is not None and item.expires_at <= now:
                del self._items[key]

    def _live(self, key: str, now: float) -> _Item | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item.expires_at is not None and item.expires_at <= now:
            del self._items[key]
            return None
        return item

    def _value_item(self, key: str, now: float) -> _Item | None:
        item = self._live(key, now)
        if item is not None and item.kind != _VALUE:
            raise WrongTypeError(f"key {key!r} holds a hash; use hget/hgetall")
        return item

    def _hash_item(self, key: str, now: float) -> _Item | None:
        item = self._live(key, now)
        if item is not None and item.kind != _HASH:
            raise WrongTypeError(f"key {key!r} holds a plain value; use get")
        return item

    # -- the contract -------------------------------------------------------

    def get(self, key: str) -> Any:
        with self._guard:
            check_key(key)
            with self._lock:
                self._check_still_open()
                item = self._value_item(key, time.time())
                text = None if item is None else item.payload
            return None if text is None else load_json(text)

    def set(self, key: str, value: JSONInput, ttl: float | None = None) -> None:
        with self._guard:
            check_key(key)
            text = dump_json(value)
            with self._lock:
                self._check_still_open()
                now = time.time()
                expires_at = None if ttl is None else now + check_ttl(ttl)
                self._log(["set", key, text, expires_at])
                self._put(key, _Item(_VALUE, text, expires_at))
                self._purge_expired(now)
                self._maybe_compact()

    def delete(self, key: str) -> bool:
        with self._guard:
            check_key(key)
            with self._lock:
                self._check_still_open()
                if self._live(key, time.time()) is None:
                    return False
                self._log(["del", key])
                del self._items[key]
                self._maybe_compact()
                return True

    def exists(self, key: str) -> bool:
        with self._guard:
            check_key(key)
            with self._lock:
                self._check_still_open()
                return self._live(key, time.time()) is not None

    def keys(self, pattern: str = "*") -> list[str]:
        with self._guard:
            if not isinstance(pattern, str):
                raise InvalidInputError(f"pattern must be a str, not {type(pattern).__name__}")
            regex = compile_glob(pattern)
            with self._lock:
                self._check_still_open()
                now = time.time()
                self._purge_expired(now)
                return sorted(
                    key
                    for key, item in self._items.items()
                    if (item.expires_at is None or item.expires_at > now) and regex.fullmatch(key)
                )

    def ttl(self, key: str) -> int | None:
        with self._guard:
            check_key(key)
            with self._lock:
                self._check_still_open()
                now = time.time()
                item = self._live(key, now)
                if item is None or item.expires_at is None:
                    return None
                return max(1, math.ceil(item.expires_at - now))

    def expire(self, key: str, ttl: float) -> bool:
        with self._guard:
            check_key(key)
            seconds = check_ttl(ttl)
            with self._lock:
                self._check_still_open()
                now = time.time()
                item = self._live(key, now)
                if item is None:
                    return False
                self._log(["exp", key, now + seconds])
                self._set_expiry(key, item, now + seconds)
                self._maybe_compact()
                return True

    def hget(self, key: str, field: str) -> Any:
        with self._guard:
            check_key(key)
            check_key(field, what="field")
            with self._lock:
                self._check_still_open()
                item = self._hash_item(key, time.time())
                text = None if item is None else item.payload.get(field)
            return None if text is None else load_json(text)

    def hset(self, key: str, field: str, value: JSONInput) -> None:
        with self._guard:
            check_key(key)
            check_key(field, what="field")
            text = dump_json(value)
            with self._lock:
                self._check_still_open()
                now = time.time()
                item = self._hash_item(key, now)
                # The time: on replay, whether the old hash had expired is decided as of this write.
                self._log(["hset", key, field, text, now])
                if item is None:
                    self._items[key] = _Item(_HASH, {field: text}, None)
                else:
                    item.payload[field] = text
                self._maybe_compact()

    def hgetall(self, key: str) -> dict[str, Any]:
        with self._guard:
            check_key(key)
            with self._lock:
                self._check_still_open()
                item = self._hash_item(key, time.time())
                payload = {} if item is None else dict(item.payload)
            return {field: load_json(text) for field, text in payload.items()}

    def hdel(self, key: str, *fields: str) -> int:
        with self._guard:
            check_key(key)
            for field in fields:
                check_key(field, what="field")
            with self._lock:
                self._check_still_open()
                item = self._hash_item(key, time.time())
                if item is None:
                    return 0
                present = [field for field in dict.fromkeys(fields) if field in item.payload]
                if not present:
                    return 0
                self._log(["hdel", key, present])
                for field in present:
                    del item.payload[field]
                if not item.payload:
                    del self._items[key]
                self._maybe_compact()
                return len(present)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        with self._guard:
            wanted = [check_key(key) for key in keys]
            with self._lock:
                self._check_still_open()
                now = time.time()
                texts = {}
                for key in wanted:
                    item = self._value_item(key, now)
                    if item is not None:
                        texts[key] = item.payload
            return {key: load_json(text) for key, text in texts.items()}

    def set_many(self, items: Mapping[str, JSONInput], ttl: float | None = None) -> None:
        with self._guard:
            # Validate everything first so a bad value stores nothing.
            encoded = [(check_key(key), dump_json(value)) for key, value in items.items()]
            with self._lock:
                self._check_still_open()
                now = time.time()
                expires_at = None if ttl is None else now + check_ttl(ttl)
                if encoded:
                    self._log(["mset", [[key, text] for key, text in encoded], expires_at])
                for key, text in encoded:
                    self._put(key, _Item(_VALUE, text, expires_at))
                self._purge_expired(now)
                self._maybe_compact()

    def close(self) -> None:
        with self._lock, self._translating:
            if self._closed:
                return
            self._closed = True
            if self._journal is not None:
                try:
                    self._compact()
                finally:
                    self._journal.close()
                    self._journal = None

    def __len__(self) -> int:
        with self._lock:
            self._purge_expired(time.time())
            return len(self._items)

    def __repr__(self) -> str:
        return f"MemoryStateStore(snapshot_path={self.config.snapshot_path!r})"
