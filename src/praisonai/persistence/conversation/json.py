"""JSON-file conversation store: one directory of plain files, no server, no driver.

Engine: files in one directory, written with the standard library only.
URL forms: a directory path, ``json:///relative/dir``, ``json:////absolute/dir``.
With no argument the directory is ``$PRAISONAI_DATA_DIR/conversations``
(``~/.praisonai/conversations``).
Test tier: embedded (real files in a temporary directory, including writer
processes killed with SIGKILL mid-stream).

Layout::

    <dir>/format.json              {"format": "praisonai-conversations-json", "version": 1}
    <dir>/.lock                    locked (flock) by every operation
    <dir>/sessions/<name>.json     one session, replaced atomically on every change
    <dir>/sessions/<name>.jsonl    its messages: a header line, then one line per write

``<name>`` encodes the session id: lowercase letters, digits, ``-`` and ``_``
stand for themselves, every other byte of its UTF-8 form is ``%XX``; a name
longer than 200 characters becomes ``~`` and the id's SHA-256. The mapping is
one-to-one even on case-insensitive file systems, and no id can name a path
outside ``sessions/`` (``../x`` becomes ``%2E%2E%2Fx``). Each file also holds
the id, which is checked on every read.

Durability: a session file is written to a temporary file, fsynced, renamed
over the old one and the directory fsynced. A message write appends one line
(a batch is one line, so it lands whole or not at all) and flushes it (fdatasync) before
returning; appending never rewrites the history. A writer killed mid-append
leaves an unterminated last line: readers ignore it and the next writer
truncates it away, and it was never acknowledged. Then the session file's
``updated_at`` is bumped (fsynced, renamed; the directory is not fsynced for
it: a power loss may only leave ``updated_at`` stale). ``delete_messages`` rewrites
the message file through a temporary file and a rename. ``durable=False``
skips the fsyncs (still atomic; the last writes may be lost on power loss).

Group commit (``_group_commit.py``): message writes from other threads that arrive
while a write is being flushed are committed together by the next one: each
appends its line (checked first, so a refused write appends nothing), then each
message file written is fsynced once and each session file rewritten once. Each
call returns only after that flush; if it fails, every file is cut back to its
length before the group and every call of the group fails. A lone writer does
exactly what it did alone.

Concurrency: a thread lock plus ``flock`` on ``<dir>/.lock`` (shared for
reads, exclusive for writes), so threads, store instances and processes on one
directory take turns. ``create_session`` links the new file into place, which
fails rather than overwrite an existing session.

A directory PraisonAI 4.7 wrote is converted on first open (``_praisonai_json.py``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._files import fsync_directory, write_all, write_atomically
from .._guard import GuardedStore
from .._values import check_id, check_ids, check_limit, load_json, load_optional_json
from ..errors import AlreadyExistsError, NotFoundError, StoreClosedError, StoreError
from ._group_commit import GroupCommitter, Write
from ._praisonai_json import convert_praisonai_session, praisonai_session_files
from ._sql_operations import ConversationOperations, timestamp
from ._sql_statements import SQLITE, ConversationStatements
from .base import ConversationMessage, ConversationSession, ConversationStore
from .config import JsonConversationConfig

if sys.platform != "win32":
    import fcntl

__all__ = ["JsonConversationStore", "session_file_stem"]

FORMAT = {"format": "praisonai-conversations-json", "version": 1}
_MAX_STEM = 200
_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_")
_INDEXES_KEPT = 256
_encode = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode

_SESSION_KEYS = ("session_id", "user_id", "agent_id", "name", "state", "metadata", "created_at", "updated_at")
_MESSAGE_KEYS = ("id", "session_id", "role", "content", "tool_calls", "tool_call_id", "metadata", "created_at")
_JSON_VALUED = frozenset({"state", "metadata", "tool_calls"})


@functools.lru_cache(maxsize=1024)  # every write of a session names its two files
def session_file_stem(session_id: str) -> str:
    """The file name (without suffix) of a session: injective, case-insensitively too, and path-safe."""
    encoded = "".join(chr(byte) if byte in _PLAIN else f"%{byte:02X}" for byte in session_id.encode("utf-8"))
    if len(encoded) <= _MAX_STEM:
        return encoded
    return "~" + hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _json_object(keys: Sequence[str], row: Sequence[Any]) -> str:
    """A JSON object of ``row``; its JSON-valued columns already hold JSON text (or None)."""
    parts = []
    for key, value in zip(keys, row, strict=True):
        text = (value if value is not None else "null") if key in _JSON_VALUED else _encode(value)
        parts.append(f'"{key}":{text}')
    return "{" + ",".join(parts) + "}"


def _session_from_record(record: dict[str, Any]) -> ConversationSession:
    return ConversationSession(**{key: record[key] for key in _SESSION_KEYS})


def _message_from_record(record: dict[str, Any]) -> ConversationMessage:
    return ConversationMessage(**{key: record[key] for key in _MESSAGE_KEYS})


@dataclass(slots=True)
class _Index:
    """What this process knows of one message file: its identity, how far it has read, the ids seen."""

    file_id: str
    offset: int
    ids: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Appending:
    """A message file that the group being committed appends to."""

    fd: int
    start: int  # its size before the group: what a failed group cuts it back to
    size: int
    stored: dict[str, Any]  # the session's record, whose updated_at the group bumps
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


# fdatasync: the appended bytes and the new size (what reading them back needs), not the timestamps.
_flush_data = getattr(os, "fdatasync", os.fsync)


class _DirectoryLock:
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


class JsonConversationStore(GuardedStore, ConversationStore):
    """Conversations as JSON files in one directory, safe across threads and processes."""

    backend = "json"

    def __init__(self, config: JsonConversationConfig | None = None) -> None:
        self.config = config or JsonConversationConfig()
        self._root = Path(self.config.path).expanduser()
        self._sessions = self._root / "sessions"
        # The SQL stores' encoders: the same validation, and JSON text for state and metadata.
        self._encoder = ConversationOperations(ConversationStatements(SQLITE, ""))
        self._thread_lock = threading.Lock()
        self._indexes: OrderedDict[str, _Index] = OrderedDict()
        self._committer = GroupCommitter(lambda: self._locked(exclusive=True), self._commit_messages)
        self._appendings: dict[str, _Appending] = {}  # of the group being committed
        self._known_paths: dict[str, tuple[Path, Path]] = {}
        with self._translating:
            self._sessions.mkdir(parents=True, exist_ok=True)
            self._file_lock = _DirectoryLock(self._root / ".lock", self.config.lock_timeout)
            try:
                with self._locked(exclusive=True):
                    self._check_format()
                    # Writers hold the exclusive lock, so any temporary file now is a dead writer's.
                    for leftover in self._sessions.glob(".tmp-*"):
                        leftover.unlink(missing_ok=True)
            except BaseException:
                self._file_lock.close()
                raise

    # -- files --------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        with self._thread_lock:
            if self._closed:  # closed while this call waited for the lock
                raise StoreClosedError("the store is closed")
            lock = self._file_lock
            lock.acquire(exclusive)
            try:
                yield
            finally:
                lock.release()

    def _check_format(self) -> None:
        path = self._root / "format.json"
        try:
            found = load_json(path.read_bytes())
        except FileNotFoundError:
            self._convert_praisonai_files()
            self._write_file(path, _encode(FORMAT).encode("ascii"))
            return
        except ValueError as error:
            raise StoreError(f"{path} is not a JSON file: {error}") from error
        if not isinstance(found, dict) or found.get("format") != FORMAT["format"]:
            raise StoreError(f"{self._root} is not a conversation store directory ({path})")
        if found.get("version") != FORMAT["version"]:
            raise StoreError(
                f"{self._root} holds format version {found.get('version')!r}; this release reads version "
                f"{FORMAT['version']}"
            )

    def _convert_praisonai_files(self) -> None:
        """A directory PraisonAI 4.7 wrote: its sessions in our layout, before format.json commits them."""

        def encode_record(kind: str, row: tuple[Any, ...]) -> str:
            return _json_object(_SESSION_KEYS if kind == "session" else _MESSAGE_KEYS, row)

        def write(session_id: str, session: bytes, messages: bytes) -> None:
            self._write_file(self._messages_path(session_id), messages)
            self._write_file(self._session_path(session_id), session)

        for path in praisonai_session_files(self._root):
            convert_praisonai_session(path, self._encoder, encode_record, write, self._header)

    def _fsync_directory(self, directory: Path) -> None:
        if self.config.durable:
            fsync_directory(directory)

    def _write_file(self, target: Path, data: bytes, *, create: bool = False, sync_directory: bool = True) -> None:
        """Atomically put ``data`` at ``target``; with ``create``, fail if ``target`` exists."""
        write_atomically(target, data, durable=self.config.durable, create=create, sync_directory=sync_directory)

    def _session_path(self, session_id: str) -> Path:
        return self._paths(session_id)[0]

    def _messages_path(self, session_id: str) -> Path:
        return self._paths(session_id)[1]

    def _paths(self, session_id: str) -> tuple[Path, Path]:
        """The session's file and its message file (kept: a Path is slow to build, and each write names both)."""
        paths = self._known_paths.get(session_id)
        if paths is None:
            if len(self._known_paths) >= _INDEXES_KEPT:
                self._known_paths.clear()
            stem = session_file_stem(session_id)
            paths = self._known_paths[session_id] = (self._sessions / f"{stem}.json", self._sessions / f"{stem}.jsonl")
        return paths

    def _read_session(self, session_id: str) -> dict[str, Any] | None:
        path = self._session_path(session_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            record = load_json(data)
        except ValueError as error:
            raise StoreError(f"session file {path} is corrupt: {error}") from error
        if not isinstance(record, dict) or record.get("session_id") != session_id:
            raise StoreError(f"session file {path} does not hold session {session_id!r}")
        return record

    def _save_session(self, record: dict[str, Any], *, create: bool = False, sync_directory: bool = True) -> None:
        row = [record[key] for key in _SESSION_KEYS]
        for index, key in enumerate(_SESSION_KEYS):
            if key in _JSON_VALUED:
                row[index] = None if row[index] is None else _encode(row[index])
        text = _json_object(_SESSION_KEYS, row)
        path = self._session_path(record["session_id"])
        self._write_file(path, text.encode("ascii"), create=create, sync_directory=sync_directory)

    # -- message files -------------------------------------------------------------

    def _read_lines(self, path: Path) -> tuple[str | None, list[Any], int]:
        """(file id, records, offset after the last complete line); ignores a torn last line."""
        try:
            with open(path, "rb") as file:
                data = file.read()
        except FileNotFoundError:
            return None, [], 0
        end = data.rfind(b"\n") + 1  # a last line without its newline was never acknowledged
        header_end = data.find(b"\n") + 1
        if header_end == 0:
            return None, [], 0
        try:
            header = load_json(data[:header_end])
            file_id = header["file_id"]
        except (ValueError, KeyError, TypeError) as error:
            raise StoreError(f"message file {path} has no valid header line") from error
        records = []
        for number, line in enumerate(data[header_end:end].splitlines(), 2):
            try:
                records.append(load_json(line))
            except ValueError as error:
                raise StoreError(f"message file {path} is corrupt (line {number})") from error
        return file_id, records, end

    @staticmethod
    def _flatten(records: Iterable[Any]) -> Iterator[dict[str, Any]]:
        for record in records:
            if isinstance(record, list):  # one batch of add_messages
                yield from record
            else:
                yield record

    def _index(self, session_id: str) -> _Index:
        """The ids already stored for a session, reading only what was appended since last time."""
        path = self._messages_path(session_id)
        index = self._indexes.get(session_id)
        if index is not None:
            file_id, records, end = self._read_tail(path, index)
            if file_id == index.file_id:
                index.ids.update(record["id"] for record in self._flatten(records))
                index.offset = end
                self._indexes.move_to_end(session_id)
                return index
        file_id, records, end = self._read_lines(path)
        index = _Index(file_id or "", end, {record["id"] for record in self._flatten(records)})
        self._indexes[session_id] = index
        while len(self._indexes) > _INDEXES_KEPT:
            self._indexes.popitem(last=False)
        return index

    def _read_tail(self, path: Path, index: _Index) -> tuple[str | None, list[Any], int]:
        """Like :meth:`_read_lines`, but only from ``index.offset`` when the file is still the one indexed."""
        try:
            with open(path, "rb") as file:
                header = file.readline()
                if not header.endswith(b"\n"):
                    return None, [], 0
                try:
                    file_id = load_json(header)["file_id"]
                except (ValueError, KeyError, TypeError):
                    return None, [], 0
                if file_id != index.file_id:
                    return file_id, [], 0
                file.seek(index.offset)
                data = file.read()
        except FileNotFoundError:
            return None, [], 0
        end = data.rfind(b"\n") + 1
        try:
            records = [load_json(line) for line in data[:end].splitlines()]
        except ValueError:
            return None, [], 0  # unexpected: fall back to a full read, which reports corruption
        return file_id, records, index.offset + end

    def _open_for_appending(self, session_id: str, stored: dict[str, Any]) -> _Appending:
        """The session's message file, open for this group's lines: a torn tail cut off, a header if new."""
        path = self._messages_path(session_id)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":  # a torn last line: cut it off
                tail_start = max(0, size - 65536)
                tail = os.pread(fd, size - tail_start, tail_start)
                cut = tail.rfind(b"\n")
                while cut < 0 and tail_start > 0:  # a torn line longer than the window
                    tail_start = max(0, tail_start - 65536)
                    tail = os.pread(fd, size - tail_start, tail_start)
                    cut = tail.rfind(b"\n")
                size = tail_start + cut + 1
                os.ftruncate(fd, size)
            appending = _Appending(fd, size, size, stored, None if size else uuid.uuid4().hex)
            if appending.file_id is not None:
                appending.append(self._header(appending.file_id))
        except BaseException:
            os.close(fd)
            raise
        self._appendings[session_id] = appending
        return appending

    def _commit_messages(self, group: list[Write[Any]]) -> None:
        """Commit a group of message writes (:mod:`._group_commit`): each appends its line, then one flush.

        The flush fsyncs each message file written once, and then bumps each session's
        ``updated_at``. If it fails, every file is cut back to where the group began.
        """
        appendings = self._appendings = {}
        try:
            for write in group:
                write.attempt()
            if any(appending.broken is not None for appending in appendings.values()):
                raise StoreError("a message file could not be repaired after a failed append")
            if self.config.durable:
                for appending in appendings.values():
                    _flush_data(appending.fd)
            if any(appending.file_id is not None for appending in appendings.values()):
                self._fsync_directory(self._sessions)
            # Bump updated_at after the messages are safe: a crash in between only leaves it stale, and so
            # may a power loss before the rename reaches the disk (hence no fsync of the directory for it).
            now = time.time()
            for appending in appendings.values():
                self._save_session({**appending.stored, "updated_at": now}, sync_directory=False)
        except BaseException:
            for session_id, appending in appendings.items():
                self._indexes.pop(session_id, None)
                with contextlib.suppress(OSError):  # best effort: the lines were never acknowledged
                    os.ftruncate(appending.fd, appending.start)
                    if self.config.durable:
                        os.fsync(appending.fd)
            raise
        finally:
            self._appendings = {}
            for appending in appendings.values():
                os.close(appending.fd)

    @staticmethod
    def _header(file_id: str) -> str:
        return _encode({"praisonai_messages": 1, "file_id": file_id})

    # -- sessions -----------------------------------------------------------------

    def create_session(self, session: ConversationSession) -> ConversationSession:
        with self._guard:
            row = self._encoder.session_row(session)
            text = _json_object(_SESSION_KEYS, row).encode("ascii")
            session_id = row[0]
            with self._locked(exclusive=True):
                path = self._session_path(session_id)
                if path.exists():
                    raise AlreadyExistsError(f"session {session_id!r} already exists")
                # Messages left by a delete_session that died between its two unlinks belong to no one.
                self._messages_path(session_id).unlink(missing_ok=True)
                self._indexes.pop(session_id, None)
                try:
                    self._write_file(path, text, create=True)
                except FileExistsError:
                    raise AlreadyExistsError(f"session {session_id!r} already exists") from None
            return session

    def get_session(self, session_id: str) -> ConversationSession | None:
        with self._guard:
            check_id(session_id)
            with self._locked(exclusive=False):
                record = self._read_session(session_id)
            return None if record is None else _session_from_record(record)

    def update_session(self, session: ConversationSession) -> ConversationSession:
        with self._guard:
            row = self._encoder.session_row(session)
            now = time.time()
            with self._locked(exclusive=True):
                stored = self._read_session(row[0])
                if stored is None:
                    raise NotFoundError(f"session {row[0]!r} does not exist")
                self._save_session(self._merged(stored, row, now))
            session.updated_at = now
            return session

    def upsert_session(self, session: ConversationSession) -> ConversationSession:
        with self._guard:
            row = self._encoder.session_row(session)
            with self._locked(exclusive=True):
                stored = self._read_session(row[0])
                if stored is None:
                    self._messages_path(row[0]).unlink(missing_ok=True)
                    self._indexes.pop(row[0], None)
                    record = dict(zip(_SESSION_KEYS, row, strict=True))
                    for key in ("state", "metadata"):
                        record[key] = load_optional_json(record[key])
                    self._save_session(record, create=True)
                else:
                    record = self._merged(stored, row, time.time())
                    self._save_session(record)
            return _session_from_record(record)

    @staticmethod
    def _merged(stored: dict[str, Any], row: Sequence[Any], now: float) -> dict[str, Any]:
        """``stored`` with the caller's fields, its creation time kept and ``updated_at`` bumped."""
        return {
            **stored,
            "user_id": row[1],
            "agent_id": row[2],
            "name": row[3],
            "state": load_optional_json(row[4]),
            "metadata": load_optional_json(row[5]),
            "updated_at": now,
        }

    def delete_session(self, session_id: str) -> bool:
        with self._guard:
            check_id(session_id)
            with self._locked(exclusive=True):
                path = self._session_path(session_id)
                try:
                    path.unlink()  # the commit point: without its session file, the messages are garbage
                except FileNotFoundError:
                    return False
                self._messages_path(session_id).unlink(missing_ok=True)
                self._indexes.pop(session_id, None)
                self._fsync_directory(self._sessions)
            return True

    def list_sessions(
        self, user_id: str | None = None, agent_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[ConversationSession]:
        with self._guard:
            for value, what in ((user_id, "user_id"), (agent_id, "agent_id")):
                if value is not None:
                    check_id(value, what=what)
            check_limit(limit, what="limit")
            check_limit(offset, what="offset")
            if limit == 0:
                return []
            records = []
            with self._locked(exclusive=False):
                for path in self._sessions.glob("*.json"):
                    try:
                        record = load_json(path.read_bytes())
                    except FileNotFoundError:
                        continue
                    except ValueError as error:
                        raise StoreError(f"session file {path} is corrupt: {error}") from error
                    if (user_id is None or record["user_id"] == user_id) and (
                        agent_id is None or record["agent_id"] == agent_id
                    ):
                        records.append(record)
            records.sort(key=lambda record: record["session_id"])
            records.sort(key=lambda record: record["updated_at"], reverse=True)
            return [_session_from_record(record) for record in records[offset : offset + limit]]

    # -- messages -----------------------------------------------------------------

    def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage:
        with self._guard:
            check_id(session_id)
            row = self._encoder.message_row(session_id, message)
            self._write_messages(session_id, [row], _json_object(_MESSAGE_KEYS, row))
            return message

    def add_messages(self, session_id: str, messages: Iterable[ConversationMessage]) -> list[ConversationMessage]:
        with self._guard:
            check_id(session_id)
            batch = list(messages)
            rows = [self._encoder.message_row(session_id, message) for message in batch]
            if not rows:
                return batch
            if len({row[0] for row in rows}) < len(rows):
                raise AlreadyExistsError(
                    f"a message id appears twice in this batch for session {session_id!r}; none was stored"
                )
            # One line for the whole batch: a crash stores all of it or none.
            line = "[" + ",".join(_json_object(_MESSAGE_KEYS, row) for row in rows) + "]"
            self._write_messages(session_id, rows, line)
            return batch

    def _write_messages(self, session_id: str, rows: list[tuple[Any, ...]], line: str) -> None:
        self._committer.write(lambda: self._append_messages(session_id, rows, line))

    def _append_messages(self, session_id: str, rows: list[tuple[Any, ...]], line: str) -> None:
        """One write of a group (:meth:`_commit_messages`): its checks, then its line appended, not yet flushed."""
        appending = self._appendings.get(session_id)
        stored = appending.stored if appending is not None else self._read_session(session_id)
        if stored is None:
            raise NotFoundError(f"session {session_id!r} does not exist")
        # A file this group already appends to is indexed up to its end: no need to read it again.
        index = (appending is not None and self._indexes.get(session_id)) or self._index(session_id)
        clash = [row[0] for row in rows if row[0] in index.ids]
        if clash:
            what = "message" if len(rows) == 1 else "a message id of this batch"
            raise AlreadyExistsError(f"{what} {clash[0]!r} already exists in session {session_id!r}; none was stored")
        if appending is None:
            appending = self._open_for_appending(session_id, stored)
            if appending.file_id is not None:  # it began a new file
                index = self._indexes[session_id] = _Index(appending.file_id, 0)
        appending.append(line)
        index.ids.update(row[0] for row in rows)
        index.offset = appending.size

    def get_messages(
        self, session_id: str, limit: int | None = None, before: float | None = None, after: float | None = None
    ) -> list[ConversationMessage]:
        with self._guard:
            check_id(session_id)
            if before is not None:
                before = timestamp(before, "before")
            if after is not None:
                after = timestamp(after, "after")
            if limit is not None:
                check_limit(limit, what="limit")
                if limit == 0:
                    return []
            with self._locked(exclusive=False):
                if not self._session_path(session_id).exists():
                    return []
                _, records, _ = self._read_lines(self._messages_path(session_id))
            messages = [
                record
                for record in self._flatten(records)
                if (before is None or record["created_at"] < before) and (after is None or record["created_at"] > after)
            ]
            messages.sort(key=lambda record: record["created_at"])  # stable: equal times keep file order
            if limit is not None:
                messages = messages[-limit:]
            return [_message_from_record(record) for record in messages]

    def delete_messages(self, session_id: str, message_ids: Sequence[str] | None = None) -> int:
        with self._guard:
            check_id(session_id)
            ids = check_ids(message_ids, what="message id")
            if ids is not None and not ids:
                return 0
            doomed = None if ids is None else set(ids)
            with self._locked(exclusive=True):
                path = self._messages_path(session_id)
                if not self._session_path(session_id).exists():
                    return 0
                _, records, _ = self._read_lines(path)
                messages = list(self._flatten(records))
                kept = [m for m in messages if doomed is not None and m["id"] not in doomed]
                removed = len(messages) - len(kept)
                if removed:
                    lines = [self._header(uuid.uuid4().hex)] + [_encode(message) for message in kept]
                    self._write_file(path, ("\n".join(lines) + "\n").encode("ascii"))
                    self._indexes.pop(session_id, None)
            return removed

    # -- lifecycle ----------------------------------------------------------------

    def close(self) -> None:
        with self._thread_lock, self._translating:
            if not self._closed:
                self._closed = True
                self._file_lock.close()
                self._indexes.clear()

    def __repr__(self) -> str:
        return f"JsonConversationStore(path={self.config.path!r})"
