"""The json conversation store's file work: reading message files, appending to them, and the directory lock.

The format is :mod:`._json_format`'s. A message file is only ever appended to
(:class:`Appending`) or replaced whole; a reader takes its complete lines and
ignores an unterminated last one, which a writer killed mid-append left and which
was never acknowledged (the next writer cuts it off: :func:`open_for_appending`).
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._files import write_all
from .._values import load_json
from ..errors import StoreError
from ._json_format import WRITTEN_AT_TAIL, header_line, last_written_at, messages_of

if sys.platform != "win32":
    import fcntl

__all__ = [
    "Appending",
    "DirectoryLock",
    "Index",
    "caught_up",
    "flush_data",
    "open_for_appending",
    "read_lines",
    "written_at",
]

_WINDOW = 65536  # bytes read at a time when looking back for the end of the last complete line

# fdatasync: the appended bytes and the new size (what reading them back needs), not the timestamps.
flush_data = getattr(os, "fdatasync", os.fsync)


@dataclass(slots=True)
class Index:
    """What this process knows of one message file: its identity, how far it has read, the ids seen."""

    file_id: str
    offset: int
    ids: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Appending:
    """A message file that the group being committed appends to."""

    fd: int
    start: int  # its size before the group: what a failed group cuts it back to
    size: int
    file_id: str | None  # set: the group began this file (its header line), so the directory needs a flush
    broken: OSError | None = None  # a failed append could not be cut back: the group must fail

    def append(self, line: str) -> None:
        if self.broken is not None:
            raise self.broken
        payload = (line + "\n").encode("ascii")
        try:
            write_all(self.fd, payload)
        except BaseException:
            try:  # a line half written must not precede the group's next lines
                os.ftruncate(self.fd, self.size)
            except OSError as error:
                self.broken = error
            raise
        self.size += len(payload)


def _complete_end(fd: int, size: int) -> int:
    """The offset just after the last newline of the open file ``fd`` of ``size`` bytes (0 if none)."""
    start = size
    while start > 0:
        start = max(0, start - _WINDOW)
        cut = os.pread(fd, min(_WINDOW, size - start), start).rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
    return 0


def open_for_appending(path: Path) -> Appending:
    """The message file at ``path``, open for a group's lines: a torn tail cut off, a header line if new."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":  # a torn last line: cut it off
            size = _complete_end(fd, size)
            os.ftruncate(fd, size)
        appending = Appending(fd, size, size, None if size else uuid.uuid4().hex)
        if appending.file_id is not None:
            appending.append(header_line(appending.file_id))
    except BaseException:
        os.close(fd)
        raise
    return appending


def written_at(path: Path) -> float | None:
    """The ``written_at`` of the last complete line of the message file at ``path``, if it is a write line."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        end = os.fstat(fd).st_size
        tail = os.pread(fd, min(end, WRITTEN_AT_TAIL), max(0, end - WRITTEN_AT_TAIL))
        if not tail.endswith(b"\n"):  # a torn last line (never acknowledged): the one before it
            end = _complete_end(fd, end)
            tail = os.pread(fd, min(end, WRITTEN_AT_TAIL), max(0, end - WRITTEN_AT_TAIL))
    finally:
        os.close(fd)
    return last_written_at(tail)


def read_lines(path: Path) -> tuple[str | None, list[Any], int]:
    """(file id, records, offset after the last complete line); ignores a torn last line."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return None, [], 0
    return _parse(data, path)


def _parse(data: bytes, path: Path) -> tuple[str | None, list[Any], int]:
    end = data.rfind(b"\n") + 1  # a last line without its newline was never acknowledged
    header_end = data.find(b"\n") + 1
    if header_end == 0:
        return None, [], 0
    try:
        header = load_json(data[:header_end])
        file_id = header["file_id"]
    except (ValueError, KeyError, TypeError) as error:
        raise StoreError(f"message file {path} has no valid header line") from error
    return file_id, _records(data[header_end:end], path, 2), end


def _records(lines: bytes, path: Path, first: int | None) -> list[Any]:
    """The parsed ``lines``, numbered from ``first`` in an error (None: numbers unknown)."""
    records = []
    for number, line in enumerate(lines.splitlines(), first or 0):
        try:
            records.append(load_json(line))
        except ValueError as error:
            where = f" (line {number})" if first is not None else ""
            raise StoreError(f"message file {path} is corrupt{where}") from error
    return records


def _read_at(fd: int, size: int, offset: int) -> bytes:
    """``size`` bytes of the open file ``fd`` from ``offset`` (one pread may return less)."""
    parts = []
    while size > 0:
        part = os.pread(fd, size, offset)
        if not part:
            break
        parts.append(part)
        size -= len(part)
        offset += len(part)
    return b"".join(parts)


def caught_up(appending: Appending, index: Index | None, path: Path) -> Index:
    """The index of the message file open in ``appending`` (before the group appends to it), up to its end.

    ``index`` is what this process read of the file before: still good if the file begins with
    its header (a rewrite gives the file a new ``file_id``), so only what was appended since is read.
    """
    if appending.file_id is not None:  # the group began the file
        return Index(appending.file_id, appending.size)
    size = appending.size
    if index is not None and index.offset <= size:
        header = (header_line(index.file_id) + "\n").encode("ascii")
        if os.pread(appending.fd, len(header), 0) == header:
            if index.offset < size:
                records = _records(_read_at(appending.fd, size - index.offset, index.offset), path, None)
                index.ids.update(record["id"] for record in messages_of(records))
                index.offset = size
            return index
    file_id, records, end = _parse(_read_at(appending.fd, size, 0), path)
    return Index(file_id or "", end, {record["id"] for record in messages_of(records)})


class DirectoryLock:
    """``flock`` on a lock file, with a timeout. Callers serialize their threads around it."""

    def __init__(self, path: Path, timeout: float) -> None:
        if sys.platform == "win32":
            raise StoreError("needs POSIX file locks (fcntl.flock), which Windows lacks")
        self.path = path
        self.timeout = timeout
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def acquire(self, exclusive: bool) -> None:
        mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(self.fd, mode)
                return
            except BlockingIOError:
                pass
            if time.monotonic() >= deadline:
                raise StoreError(f"another process has held {self.path} for more than {self.timeout} s (lock_timeout)")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self.fd)
