"""Copying state: keys with their values (plain JSON values or hashes) and remaining TTLs.

The contract's ``keys()`` has no cursor, so a copy lists the keys at once;
values move in batches. A key whose TTL runs out during the copy is counted as
expired, not copied. In a file, a key is a ``value`` or a ``hash`` record with
its absolute ``expires_at`` (epoch seconds, or null).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import WrongTypeError
from ..state.base import StateStore
from ._compare import canonical
from ._kind import KindTransfer, Reading, Run, StoreWriter
from .jsonl import FileReader, LineWriter, Scan, batches
from .report import Ticker, Verification

__all__ = ["STATE"]


@dataclass(slots=True)
class _Entry:
    key: str
    is_hash: bool
    value: Any  # the JSON value, or the hash's fields
    expires_at: float | None  # epoch seconds

    def same_value(self, other: _Entry) -> bool:
        return self.is_hash == other.is_hash and canonical(self.value) == canonical(other.value)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> _Entry:
        is_hash = record["type"] == "hash"
        return cls(record["key"], is_hash, record["fields" if is_hash else "value"], record["expires_at"])

    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"type": "hash" if self.is_hash else "value", "key": self.key}
        record["fields" if self.is_hash else "value"] = self.value
        record["expires_at"] = self.expires_at
        return record


def _read_entries(store: StateStore, keys: list[str]) -> dict[str, _Entry]:
    """The live entries among ``keys``. TTLs are read first, so a key that expires meanwhile is skipped."""
    now = time.time()
    ttls = {key: store.ttl(key) for key in keys}
    try:
        values: dict[str, Any] | None = store.get_many(keys)
    except WrongTypeError:
        values = None
    entries: dict[str, _Entry] = {}
    for key in keys:
        ttl = ttls[key]
        expires_at = None if ttl is None else now + ttl
        if values is not None and key in values:
            entries[key] = _Entry(key, False, values[key], expires_at)
            continue
        try:
            value = store.get(key)
        except WrongTypeError:
            fields = store.hgetall(key)
            if fields:
                entries[key] = _Entry(key, True, fields, expires_at)
            continue
        if value is not None or store.exists(key):
            entries[key] = _Entry(key, False, value, expires_at)
    return entries


class _StateWriter(StoreWriter[StateStore]):
    def write(self, entries: list[_Entry]) -> None:
        target = self.target
        current = _read_entries(target, [entry.key for entry in entries])
        plain: dict[str, Any] = {}
        now = time.time()
        for entry in entries:
            remaining = None if entry.expires_at is None else entry.expires_at - now
            if remaining is not None and remaining <= 0:
                self.report.expired += 1
                continue
            have = current.get(entry.key)
            if have is not None:
                if entry.same_value(have):
                    if remaining is not None and have.expires_at is None:
                        target.expire(entry.key, remaining)  # a hash whose copy stopped before its expire
                    self.report.add("skipped", "keys")
                    continue
                partial_hash = (
                    entry.is_hash
                    and have.is_hash
                    and all(
                        name in entry.value and canonical(entry.value[name]) == canonical(value)
                        for name, value in have.value.items()
                    )
                )
                if not partial_hash:
                    if not self._conflict("keys", f"key {entry.key!r} holds a different value in the target"):
                        continue
                    target.delete(entry.key)
            if entry.is_hash:
                for name, value in entry.value.items():
                    target.hset(entry.key, name, value)
                if remaining is not None:
                    target.expire(entry.key, remaining)
            elif remaining is None:
                plain[entry.key] = entry.value
            else:
                target.set(entry.key, entry.value, ttl=remaining)
            self.report.add("copied", "keys")
        if plain:
            target.set_many(plain)


class StateKind(KindTransfer[StateStore, list[_Entry], list[_Entry]]):
    name = "state"
    units = ("keys",)
    probe = "get"
    copy_unit = "keys"
    verify_unit = "keys"
    record_types = frozenset({"value", "hash", "end"})

    def read(self, source: StateStore, run: Run) -> Reading[list[_Entry], list[_Entry]]:
        keys = source.keys("*")

        def parts() -> Iterator[list[_Entry]]:
            for chunk in batches(keys, run.batch_size):
                entries = _read_entries(source, chunk)
                run.report.expired += len(chunk) - len(entries)
                yield list(entries.values())

        def reference() -> tuple[int, Iterable[list[_Entry]]]:
            again = source.keys("*")
            chunks = batches(again, run.batch_size)
            return len(again), (list(_read_entries(source, chunk).values()) for chunk in chunks)

        return Reading(len(keys), parts(), reference)

    def writer(self, target: StateStore, run: Run) -> Callable[[list[_Entry]], None]:
        return _StateWriter(target, run).write

    def verify(
        self,
        reference: Iterable[list[_Entry]],
        other: StateStore,
        checker: Ticker,
        batch_size: int,
        content: bool = True,
    ) -> Verification:
        """Each live reference entry must be in ``other``: a hash with as many fields, and the same content."""
        verification = Verification(checked={"keys": 0})
        checker.tick(verification.checked)
        now = time.time()
        for entries in reference:
            live = [entry for entry in entries if entry.expires_at is None or entry.expires_at > now + 1]
            found = _read_entries(other, [entry.key for entry in live])
            for entry in live:
                verification.checked["keys"] += 1
                have = found.get(entry.key)
                if have is None:
                    verification.mismatch(f"key {entry.key!r} is missing")
                elif have.is_hash != entry.is_hash:
                    verification.mismatch(f"key {entry.key!r} is a {'hash' if have.is_hash else 'value'} in the target")
                elif entry.is_hash and len(have.value) != len(entry.value):
                    verification.mismatch(
                        f"hash {entry.key!r}: {len(entry.value)} fields expected, {len(have.value)} found"
                    )
                elif content and not entry.same_value(have):
                    verification.mismatch(f"key {entry.key!r} differs in content from the source's")
            checker.tick(verification.checked)
        return verification

    def export(self, part: list[_Entry], lines: LineWriter, run: Run) -> None:
        for entry in part:
            lines.write(entry.record())
        run.report.add("copied", "keys", len(part))

    def check_record(self, record_type: str, record: dict[str, Any], scan: Scan) -> None:
        if not isinstance(record["key"], str):
            raise scan.bad("key must be a string")
        if record_type == "hash" and not isinstance(record["fields"], dict):
            raise scan.bad("fields must be an object")
        if record_type == "value" and "value" not in record:
            raise scan.bad("a value record without its value")
        expires_at = record["expires_at"]
        if expires_at is not None and not isinstance(expires_at, (int, float)):
            raise scan.bad("expires_at must be a number or null")
        scan.count("keys")

    def read_file(self, reader: FileReader, run: Run) -> Iterator[list[_Entry]]:
        return self.file_reference(reader, run.batch_size)

    def file_reference(self, reader: FileReader, batch_size: int) -> Iterator[list[_Entry]]:
        return batches((_Entry.from_record(record) for record in reader.until_end()), batch_size)


STATE = StateKind()
