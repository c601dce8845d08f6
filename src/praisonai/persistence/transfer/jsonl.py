"""The JSON Lines export format: writing a file, checking it whole, reading it back.

A file is a header line, the records of one kind, and an ``end`` record that
counts them (the format is described in ``docs/cli.md``). Files ending in
``.gz`` are gzip-compressed. What the records of a kind hold is the kind's
business (:mod:`.conversation`, :mod:`.knowledge`, :mod:`.state`); this module
knows the framing, and the layout that conversations and knowledge share: a
group record (a session, a collection), its items, and a closing record that
counts them (:class:`Groups`).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar, cast

from ..errors import InvalidExportError

__all__ = ["FORMAT", "FORMAT_VERSION", "FileReader", "Groups", "Layout", "LineWriter", "Scan", "batches", "scan"]

T = TypeVar("T")

FORMAT = "praisonai-persistence"
FORMAT_VERSION = 1


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter), never an empty one."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return cast("IO[str]", gzip.open(path, "rt", encoding="utf-8", newline="\n"))
    return open(path, encoding="utf-8", newline="\n")


class LineWriter:
    """Writes records, one JSON object per line, to a temporary file renamed over ``path`` on commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        self.temporary = Path(name)
        self.raw = os.fdopen(descriptor, "wb")
        self.gzip = gzip.GzipFile(fileobj=self.raw, mode="wb") if path.suffix == ".gz" else None
        self.file = io.TextIOWrapper(cast("IO[bytes]", self.gzip or self.raw), encoding="utf-8", newline="\n")

    def header(self, kind: str, source: str | None) -> None:
        self.write(
            {"format": FORMAT, "version": FORMAT_VERSION, "kind": kind, "created_at": time.time(), "source": source}
        )

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        try:
            self.file.write(line + "\n")
        except UnicodeEncodeError:  # lone surrogates: \u escapes keep them exact
            self.file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")

    def commit(self) -> None:
        self.file.flush()
        if self.gzip is not None:
            self.gzip.close()  # writes the gzip trailer; the file itself stays open
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        os.replace(self.temporary, self.path)

    def abort(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.raw.close()
        with contextlib.suppress(OSError):
            self.temporary.unlink()


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with _open_text(path) as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise InvalidExportError(f"{path}:{number}: not JSON ({error})") from None
            if not isinstance(record, dict):
                raise InvalidExportError(f"{path}:{number}: expected a JSON object")
            yield number, record


# -- checking a whole file --------------------------------------------------------------------------------------------


class Scan:
    """Where :func:`scan` is in a file: the line, the open group, the counts so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.number = 0
        self.totals: dict[str, int] = {}
        self.group: str | None = None  # the session or collection being read
        self.in_group = 0

    def bad(self, text: str) -> InvalidExportError:
        return InvalidExportError(f"{self.path}:{self.number}: {text}")

    def count(self, unit: str) -> None:
        self.totals[unit] = self.totals.get(unit, 0) + 1

    def end(self, record: dict[str, Any], units: tuple[str, ...]) -> None:
        if self.group is not None:
            raise self.bad(f"{self.group!r} is not closed before the end record")
        declared = {unit: record.get(unit) for unit in units}
        counted = {unit: self.totals.get(unit, 0) for unit in units}
        if declared != counted:
            raise self.bad(f"the end record declares {declared} but the file holds {counted}")


class Layout(Protocol):
    """What :func:`scan` needs to know of a kind's records."""

    @property
    def name(self) -> str: ...
    @property
    def units(self) -> tuple[str, ...]: ...
    @property
    def record_types(self) -> frozenset[str]: ...
    def check_record(self, record_type: str, record: dict[str, Any], scan: Scan) -> None:
        """Validate one record other than ``end`` (raise ``scan.bad(...)``), counting what it holds."""


def scan(path: Path, layout: Layout) -> dict[str, int]:
    """Read the whole file once: its structure and counts must be right before anything is imported."""
    state = Scan(path)
    try:
        records = _records(path)
        first = next(records, None)
        if first is None:
            raise InvalidExportError(f"{path} is empty")
        state.number, header = first
        if header.get("format") != FORMAT:
            raise state.bad(f"not a {FORMAT} export (no header line)")
        if header.get("version") != FORMAT_VERSION:
            raise state.bad(f"unsupported format version {header.get('version')!r}")
        if header.get("kind") != layout.name:
            raise state.bad(f"this file holds {header.get('kind')!r} data, not {layout.name!r}")
        ended = False
        for state.number, record in records:
            record_type = record.get("type")
            if ended:
                raise state.bad("data after the end record")
            if record_type not in layout.record_types:
                raise state.bad(f"unexpected record type {record_type!r}")
            try:
                if record_type == "end":
                    state.end(record, layout.units)
                    ended = True
                else:
                    layout.check_record(record_type, record, state)
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                if isinstance(error, InvalidExportError):
                    raise
                raise state.bad(f"malformed {record_type} record ({type(error).__name__}: {error})") from None
        if not ended:
            raise InvalidExportError(f"{path} is truncated: it has no end record")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise InvalidExportError(f"cannot read {path}: {error}") from None
    return {unit: state.totals.get(unit, 0) for unit in layout.units}


@dataclass(frozen=True, slots=True)
class Groups:
    """Records in groups: a ``head`` record, its ``item`` records, and an ``end`` record that counts them.

    The ``end`` record names its group in ``key`` and gives the number of items in ``count``.
    """

    head: str
    item: str
    end: str
    key: str
    count: str

    @property
    def record_types(self) -> frozenset[str]:
        return frozenset({self.head, self.item, self.end, "end"})

    def check(
        self,
        record_type: str,
        record: dict[str, Any],
        scan: Scan,
        open_group: Callable[[dict[str, Any]], str],
        check_item: Callable[[Any, Scan], None],
    ) -> None:
        """Validate one record: ``open_group`` parses a head record into the group's name, ``check_item`` an item."""
        if record_type == self.head:
            if scan.group is not None:
                raise scan.bad(f"{self.head} {scan.group!r} has no {self.end} record")
            scan.group, scan.in_group = open_group(record), 0
            scan.count(self.head + "s")
        elif record_type == self.item:
            payload = record[self.item]
            if scan.group is None:
                raise scan.bad(f"a {self.item} outside a {self.head}")
            check_item(payload, scan)
            scan.in_group += 1
            scan.count(self.item + "s")
        else:
            name, count = record[self.key], record[self.count]
            if name != scan.group:
                raise scan.bad(f"{record_type} for {name!r} closes {scan.group!r}")
            if count != scan.in_group:
                raise scan.bad(f"{name!r} declares {count} items but {scan.in_group} precede it")
            scan.group = None


# -- reading a checked file -------------------------------------------------------------------------------------------


class FileReader:
    """Walks a file :func:`scan` has accepted: one record of look-ahead."""

    def __init__(self, path: Path) -> None:
        self._records = _records(path)
        next(self._records)  # the header
        self._peeked: dict[str, Any] | None = None

    def next(self) -> dict[str, Any]:
        if self._peeked is not None:
            record, self._peeked = self._peeked, None
            return record
        return next(self._records)[1]

    def peek(self) -> dict[str, Any]:
        if self._peeked is None:
            self._peeked = next(self._records)[1]
        return self._peeked

    def close(self) -> None:
        cast("Any", self._records).close()

    def until_end(self) -> Iterator[dict[str, Any]]:
        """The records up to the ``end`` record."""
        while (record := self.next())["type"] != "end":
            yield record

    def groups(self, groups: Groups, batch_size: int) -> Iterator[tuple[dict[str, Any], Iterator[list[Any]]]]:
        """(head record, batches of its items' payloads) for each group."""
        while self.peek()["type"] != "end":
            head = self.next()
            items = batches(self._items(groups.item), batch_size)
            yield head, items
            for _ in items:  # the consumer skipped the items
                pass

    def _items(self, item: str) -> Iterator[Any]:
        while (record := self.next())["type"] == item:  # the loop ends on the group's end record
            yield record[item]

    def group_counts(self, groups: Groups) -> Iterator[tuple[str, int]]:
        """(name, item count) of each group, from its end record."""
        for record in self.until_end():
            if record["type"] == groups.end:
                yield record[groups.key], record[groups.count]
