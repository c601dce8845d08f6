"""JSON-file conversation store: one directory of plain files, no server, no driver.

Engine: files in one directory, written with the standard library only.
URL forms: a directory path, ``json:///relative/dir``, ``json:////absolute/dir``.
With no argument the directory is ``$PRAISONAI_DATA_DIR/conversations``
(``~/.praisonai/conversations``).
Test tier: embedded (real files in a temporary directory, including writer
processes killed with SIGKILL mid-stream).

Layout (the format, version 2, and how version 1 is read: :mod:`._json_format`)::

    <dir>/format.json              {"format": "praisonai-conversations-json", "version": 2}
    <dir>/.lock                    locked (flock) by every operation
    <dir>/sessions/<name>.json     one session, replaced atomically when the session changes
    <dir>/sessions/<name>.jsonl    its messages: a header line, then one line per write

Durability: a session file is written to a temporary file, fsynced, renamed
over the old one and the directory fsynced. A message write appends one line
holding its messages and its time (a batch is one line, so it lands whole or
not at all) and flushes it (fdatasync) before returning; appending never
rewrites the history, and a message write touches no other file: the session's
``updated_at`` is the later of its session file's and the time on its message
file's last line. A writer killed mid-append leaves an unterminated last line:
readers ignore it and the next writer truncates it away, and it was never
acknowledged. ``delete_messages`` rewrites the message file through a temporary
file and a rename. ``durable=False`` skips the fsyncs (still atomic; the last
writes may be lost on power loss).

Group commit (``_group_commit.py``): message writes from other threads that arrive
while a write is being flushed are committed together by the next one: each
appends its line (checked first, so a refused write appends nothing), then each
message file written is flushed once (and the directory, if the group began a
file). Each call returns only after that flush; if it fails, every file is cut
back to its length before the group and every call of the group fails. A lone
writer does exactly what it did alone.

Concurrency: a thread lock plus ``flock`` on ``<dir>/.lock`` (shared for
reads, exclusive for writes), so threads, store instances and processes on one
directory take turns. ``create_session`` links the new file into place, which
fails rather than overwrite an existing session.

A directory PraisonAI 4.7 wrote is converted on first open (``_praisonai_json.py``);
one of format version 1 is upgraded in place (:mod:`._json_format`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .._files import fsync_directory, write_atomically
from .._guard import GuardedStore
from .._values import check_id, check_ids, check_limit, load_json, load_optional_json
from ..errors import AlreadyExistsError, NotFoundError, StoreClosedError, StoreError
from ._group_commit import GroupCommitter, Write
from ._json_files import (
    Appending,
    DirectoryLock,
    Index,
    caught_up,
    flush_data,
    open_for_appending,
    read_lines,
    written_at,
)
from ._json_format import (
    SESSION_KEYS,
    check_format,
    encode,
    format_file,
    header_line,
    json_object,
    message_from_record,
    message_object,
    messages_of,
    session_file_stem,
    session_from_record,
    session_text,
    time_line,
    write_line,
    written_at_of,
)
from ._praisonai_json import convert_praisonai_session, praisonai_session_files
from ._sql_operations import ConversationOperations, timestamp
from ._sql_statements import SQLITE, ConversationStatements
from .base import ConversationMessage, ConversationSession, ConversationStore
from .config import JsonConversationConfig

__all__ = ["JsonConversationStore", "session_file_stem"]

_INDEXES_KEPT = 256


def _session_record(path: Path) -> dict[str, Any] | None:
    """The record of session file ``path``, or None if it is gone; a StoreError if it is not a session's."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        record = load_json(data)
    except ValueError as error:
        raise StoreError(f"session file {path} is corrupt: {error}") from error
    if not isinstance(record, dict) or not all(key in record for key in SESSION_KEYS):
        raise StoreError(f"session file {path} does not hold a session")
    return record


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
        self._indexes: OrderedDict[str, Index] = OrderedDict()
        self._committer = GroupCommitter(lambda: self._locked(exclusive=True), self._commit_messages)
        self._appendings: dict[str, Appending] = {}  # of the group being committed
        self._known_paths: dict[str, tuple[Path, Path]] = {}
        with self._translating:
            self._sessions.mkdir(parents=True, exist_ok=True)
            self._file_lock = DirectoryLock(self._root / ".lock", self.config.lock_timeout)
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
            self._write_file(path, format_file())
            return
        except ValueError as error:
            raise StoreError(f"{path} is not a JSON file: {error}") from error
        if check_format(found, str(self._root), str(path)):
            # Its files are read as they are; from now on this directory holds lines older releases misread.
            self._write_file(path, format_file())

    def _convert_praisonai_files(self) -> None:
        """A directory PraisonAI 4.7 wrote: its sessions in our layout, before format.json commits them."""

        def write(session_id: str, session: bytes, messages: bytes) -> None:
            self._write_file(self._messages_path(session_id), messages)
            self._write_file(self._session_path(session_id), session)

        for path in praisonai_session_files(self._root):
            convert_praisonai_session(path, self._encoder, write)

    def _fsync_directory(self, directory: Path) -> None:
        if self.config.durable:
            fsync_directory(directory)

    def _write_file(self, target: Path, data: bytes, *, create: bool = False) -> None:
        """Atomically put ``data`` at ``target``; with ``create``, fail if ``target`` exists."""
        write_atomically(target, data, durable=self.config.durable, create=create)

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
        record = _session_record(path)
        if record is not None and record["session_id"] != session_id:
            raise StoreError(f"session file {path} does not hold session {session_id!r}")
        return record

    def _save_session(self, record: dict[str, Any], *, create: bool = False) -> None:
        self._write_file(self._session_path(record["session_id"]), session_text(record), create=create)

    def _session(self, record: dict[str, Any]) -> ConversationSession:
        """The session of a session file's record, its ``updated_at`` its messages' last write if later."""
        return session_from_record(record, written_at(self._messages_path(record["session_id"])))

    # -- message files -------------------------------------------------------------

    def _commit_messages(self, group: list[Write[Any]]) -> None:
        """Commit a group of message writes (:mod:`._group_commit`): each appends its line, then one flush.

        The flush fdatasyncs each message file written once (and the directory if the
        group began a file). If it fails, every file is cut back to where the group began.
        """
        appendings = self._appendings = {}
        try:
            for write in group:
                write.attempt()
            if any(appending.broken is not None for appending in appendings.values()):
                raise StoreError("a message file could not be repaired after a failed append")
            if self.config.durable:
                for appending in appendings.values():
                    flush_data(appending.fd)
            if any(appending.file_id is not None for appending in appendings.values()):
                self._fsync_directory(self._sessions)
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
            while len(self._indexes) > _INDEXES_KEPT:
                self._indexes.popitem(last=False)

    # -- sessions -----------------------------------------------------------------

    def create_session(self, session: ConversationSession) -> ConversationSession:
        with self._guard:
            row = self._encoder.session_row(session)
            text = json_object(SESSION_KEYS, row).encode("ascii")
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
                return None if record is None else self._session(record)

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
                    record = dict(zip(SESSION_KEYS, row, strict=True))
                    for key in ("state", "metadata"):
                        record[key] = load_optional_json(record[key])
                    self._save_session(record, create=True)
                    return session_from_record(record)
                record = self._merged(stored, row, time.time())
                self._save_session(record)
                return self._session(record)

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
            sessions = []
            with self._locked(exclusive=False):
                for path in self._sessions.glob("*.json"):
                    record = _session_record(path)
                    if record is None:
                        continue
                    if (user_id is None or record["user_id"] == user_id) and (
                        agent_id is None or record["agent_id"] == agent_id
                    ):
                        sessions.append(session_from_record(record, written_at(path.with_suffix(".jsonl"))))
            sessions.sort(key=lambda session: session.session_id)
            sessions.sort(key=lambda session: session.updated_at, reverse=True)
            return sessions[offset : offset + limit]

    # -- messages -----------------------------------------------------------------

    def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage:
        with self._guard:
            check_id(session_id)
            row = self._encoder.message_row(session_id, message)
            self._write_messages(session_id, (row[0],), message_object(row))
            return message

    def add_messages(self, session_id: str, messages: Iterable[ConversationMessage]) -> list[ConversationMessage]:
        with self._guard:
            check_id(session_id)
            batch = list(messages)
            rows = [self._encoder.message_row(session_id, message) for message in batch]
            if not rows:
                return batch
            ids = tuple(row[0] for row in rows)
            if len(set(ids)) < len(ids):
                raise AlreadyExistsError(
                    f"a message id appears twice in this batch for session {session_id!r}; none was stored"
                )
            # One line for the whole batch: a crash stores all of it or none.
            self._write_messages(session_id, ids, ",".join(map(message_object, rows)))
            return batch

    def _write_messages(self, session_id: str, ids: tuple[str, ...], objects: str) -> None:
        self._committer.write(lambda: self._append_messages(session_id, ids, objects))

    def _append_messages(self, session_id: str, ids: tuple[str, ...], objects: str) -> None:
        """One write of a group (:meth:`_commit_messages`): its checks, then its line appended, not yet flushed.

        ``objects`` are the messages' JSON objects, comma-separated; the line gets the time of its append,
        so that the last line of a file always holds its latest write (what ``updated_at`` is read from).
        """
        appending = self._appendings.get(session_id)
        index = self._indexes.get(session_id)
        if appending is None or index is None:
            if appending is None:
                if not self._session_path(session_id).exists():
                    raise NotFoundError(f"session {session_id!r} does not exist")
                appending = self._appendings[session_id] = open_for_appending(self._messages_path(session_id))
            # Indexed to the file's end from here on (no eviction during a group); none if reading it fails.
            self._indexes.pop(session_id, None)
            index = self._indexes[session_id] = caught_up(appending, index, self._messages_path(session_id))
        clash = [message_id for message_id in ids if message_id in index.ids]
        if clash:
            what = "message" if len(ids) == 1 else "a message id of this batch"
            raise AlreadyExistsError(f"{what} {clash[0]!r} already exists in session {session_id!r}; none was stored")
        appending.append(write_line((objects,), time.time()))
        index.ids.update(ids)
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
                _, records, _ = read_lines(self._messages_path(session_id))
            messages = [
                record
                for record in messages_of(records)
                if (before is None or record["created_at"] < before) and (after is None or record["created_at"] > after)
            ]
            messages.sort(key=lambda record: record["created_at"])  # stable: equal times keep file order
            if limit is not None:
                messages = messages[-limit:]
            return [message_from_record(record) for record in messages]

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
                _, records, _ = read_lines(path)
                messages = list(messages_of(records))
                kept = [m for m in messages if doomed is not None and m["id"] not in doomed]
                removed = len(messages) - len(kept)
                if removed:
                    lines = [header_line(uuid.uuid4().hex)] + [encode(message) for message in kept]
                    last_write = written_at_of(records)
                    if last_write is not None:  # deleting does not change updated_at: keep the last write's time
                        lines.append(time_line(last_write))
                    self._write_file(path, ("\n".join(lines) + "\n").encode("ascii"))
                    self._indexes.pop(session_id, None)
            return removed

    # -- lifecycle ----------------------------------------------------------------

    def close(self) -> None:
        with self._thread_lock:
            self._close_once(self._release_files)

    def _release_files(self) -> None:
        self._file_lock.close()
        self._indexes.clear()

    def __repr__(self) -> str:
        return f"JsonConversationStore(path={self.config.path!r})"
