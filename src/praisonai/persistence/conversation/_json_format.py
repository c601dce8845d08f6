"""The json conversation store's format: its directory layout, ``format.json``, file names, records and lines.

Layout (format version 2)::

    <dir>/format.json              {"format": "praisonai-conversations-json", "version": 2}
    <dir>/.lock                    locked (flock) by every operation
    <dir>/sessions/<name>.json     one session, replaced atomically when the session itself changes
    <dir>/sessions/<name>.jsonl    its messages: a header line, then one line per write

A session file is one JSON object: ``session_id``, ``user_id``, ``agent_id``,
``name``, ``state``, ``metadata``, ``created_at``, ``updated_at`` (seconds since
the epoch). A message file begins with a header line
``{"praisonai_messages":1,"file_id":"<random hex>"}`` (a new ``file_id`` whenever
the file is rewritten, so a cached reading of the old file is not mistaken for the
new one); then each ``add_message`` or ``add_messages`` call appends one *write
line*::

    {"messages":[<message>, ...],"written_at":<seconds>}

where a message is an object with ``id``, ``session_id``, ``role``, ``content``,
``tool_calls``, ``tool_call_id``, ``metadata``, ``created_at``. ``written_at`` is
the time of the write and always the line's last key, so it can be read from the
last bytes of the file without parsing the line (a batch's line can be large).

A session's ``updated_at`` is the later of its session file's ``updated_at`` (the
last change of the session itself) and the ``written_at`` of its message file's
last line: a message write appends and flushes one file, and never rewrites the
session's. ``delete_messages`` rewrites the message file (temporary file and
rename) and ends it with a write line of no messages that carries the old last
line's ``written_at``, so deleting leaves ``updated_at`` as it was.

Version 1 (the first release) had the same layout, with the message lines of
version 2 written differently: a single message's object, or a batch as a JSON
list of them, with no ``written_at``; its session files' ``updated_at`` was
bumped by every message write. Both kinds of line are read in version 2 (they
stand for writes with no recorded time: the session file's ``updated_at`` covers
them), and the rewrite of ``delete_messages`` keeps messages as such lines. So a
version 1 directory is upgraded in place by rewriting its ``format.json`` as
version 2 on its first open; from then on, releases that read only version 1
refuse the directory rather than misread its new lines.

``<name>`` encodes the session id (:func:`session_file_stem`): lowercase letters,
digits, ``-`` and ``_`` stand for themselves, every other byte of its UTF-8 form is
``%XX``; a name longer than 200 characters becomes ``~`` and the id's SHA-256. The
mapping is one-to-one even on case-insensitive file systems, and no id can name a
path outside ``sessions/`` (``../x`` becomes ``%2E%2E%2Fx``). Each file also holds
the id, which is checked on every read.

All text is ASCII (JSON escapes), written without spaces.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

from ..errors import StoreError
from .base import ConversationMessage, ConversationSession

__all__ = [
    "FORMAT_NAME",
    "JSON_VALUED",
    "MESSAGE_KEYS",
    "SESSION_KEYS",
    "VERSION",
    "WRITTEN_AT_TAIL",
    "check_format",
    "encode",
    "format_file",
    "header_line",
    "json_object",
    "last_written_at",
    "message_from_record",
    "message_object",
    "messages_of",
    "session_file_stem",
    "session_from_record",
    "session_text",
    "time_line",
    "write_line",
    "written_at_of",
]

FORMAT_NAME = "praisonai-conversations-json"
VERSION = 2
_UPGRADABLE = (1,)  # versions read as they are once format.json says VERSION
_MAX_STEM = 200
_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_")
encode = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode
_string = encode_basestring_ascii  # what ``encode`` does with a str, without its dispatch
_float = float.__repr__  # and with a finite float

SESSION_KEYS = ("session_id", "user_id", "agent_id", "name", "state", "metadata", "created_at", "updated_at")
MESSAGE_KEYS = ("id", "session_id", "role", "content", "tool_calls", "tool_call_id", "metadata", "created_at")
JSON_VALUED = frozenset({"state", "metadata", "tool_calls"})

# The end of a write line: its last key. Our writer puts nothing after it, and no line of version 1 ends so.
_WRITTEN_AT = re.compile(rb',"written_at":(-?[0-9][0-9.eE+-]*)\}\n\Z')
WRITTEN_AT_TAIL = 64  # bytes before a line's end that hold its written_at


def format_file(version: int = VERSION) -> bytes:
    """The contents of ``format.json``."""
    return encode({"format": FORMAT_NAME, "version": version}).encode("ascii")


def check_format(found: Any, where: str, path: str) -> bool:
    """Whether ``found`` (``format.json`` parsed) is a version to upgrade; raises if it cannot be read at all."""
    if not isinstance(found, dict) or found.get("format") != FORMAT_NAME:
        raise StoreError(f"{where} is not a conversation store directory ({path})")
    version = found.get("version")
    if version == VERSION:
        return False
    if version in _UPGRADABLE and type(version) is int:
        return True
    readable = ", ".join(str(number) for number in (*_UPGRADABLE, VERSION))
    raise StoreError(f"{where} holds format version {version!r}; this release reads versions {readable}")


@functools.lru_cache(maxsize=1024)  # every write of a session names its two files
def session_file_stem(session_id: str) -> str:
    """The file name (without suffix) of a session: injective, case-insensitively too, and path-safe."""
    encoded = "".join(chr(byte) if byte in _PLAIN else f"%{byte:02X}" for byte in session_id.encode("utf-8"))
    if len(encoded) <= _MAX_STEM:
        return encoded
    return "~" + hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def json_object(keys: Sequence[str], row: Sequence[Any]) -> str:
    """A JSON object of ``row``; its JSON-valued columns already hold JSON text (or None)."""
    parts = []
    for key, value in zip(keys, row, strict=True):
        text = (value if value is not None else "null") if key in JSON_VALUED else encode(value)
        parts.append(f'"{key}":{text}')
    return "{" + ",".join(parts) + "}"


def message_object(row: Sequence[Any]) -> str:
    """:func:`json_object` of a message row, the same text written out field by field (each write pays it).

    The row is validated (``message_row``): its texts are ``str``, ``created_at`` a finite ``float``.
    """
    id_, session_id, role, content, tool_calls, tool_call_id, metadata, created_at = row
    return (
        f'{{"id":{_string(id_)},"session_id":{_string(session_id)},"role":{_string(role)},'
        f'"content":{_string(content)},"tool_calls":{"null" if tool_calls is None else tool_calls},'
        f'"tool_call_id":{"null" if tool_call_id is None else _string(tool_call_id)},'
        f'"metadata":{"null" if metadata is None else metadata},"created_at":{_float(created_at)}}}'
    )


def session_text(record: dict[str, Any]) -> bytes:
    """A session file's contents for ``record`` (its JSON values decoded, as read)."""
    row = [record[key] for key in SESSION_KEYS]
    for index, key in enumerate(SESSION_KEYS):
        if key in JSON_VALUED:
            row[index] = None if row[index] is None else encode(row[index])
    return json_object(SESSION_KEYS, row).encode("ascii")


def session_from_record(record: dict[str, Any], updated_at: float | None = None) -> ConversationSession:
    """The session of a session file's record; ``updated_at``: its messages' last write, if later."""
    session = ConversationSession(**{key: record[key] for key in SESSION_KEYS})
    if updated_at is not None and updated_at > session.updated_at:
        session.updated_at = updated_at
    return session


def message_from_record(record: dict[str, Any]) -> ConversationMessage:
    return ConversationMessage(**{key: record[key] for key in MESSAGE_KEYS})


def header_line(file_id: str) -> str:
    return encode({"praisonai_messages": 1, "file_id": file_id})


def write_line(messages: Iterable[str], written_at: float) -> str:
    """The line of one write: ``messages`` (each a JSON object) and the time it was written (a finite float)."""
    return '{"messages":[' + ",".join(messages) + '],"written_at":' + _float(written_at) + "}"


def time_line(written_at: float) -> str:
    """A write line of no messages: it only carries ``written_at`` (ending a rewritten message file)."""
    return write_line((), written_at)


def messages_of(records: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """The messages of a message file's lines (parsed, header excluded), in file order."""
    for record in records:
        if isinstance(record, list):  # version 1: one batch of add_messages
            yield from record
        elif "written_at" in record:  # a write line
            yield from record["messages"]
        else:  # version 1 (or a rewrite): one message
            yield record


def written_at_of(records: Sequence[Any]) -> float | None:
    """The ``written_at`` of the last of these lines, if it is a write line."""
    last = records[-1] if records else None
    value = last.get("written_at") if isinstance(last, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def last_written_at(line_end: bytes) -> float | None:
    """The ``written_at`` of the line that ``line_end`` (its last bytes, newline included) ends, if a write line."""
    found = _WRITTEN_AT.search(line_end)
    return None if found is None else float(found[1])
