"""Reading the directory of PraisonAI 4.7's ``JSONConversationStore(path=...)`` into the json store's layout.

PraisonAI keeps ``<dir>/_sessions_index.json`` and one ``<dir>/<session_id>.json`` per session,
``{"session": {...}, "messages": [{...}, ...]}``. When the json store opens a directory that
has no ``format.json`` yet but holds such files, it writes each session in its own layout
(``sessions/<name>.json`` and ``sessions/<name>.jsonl``, each file written to a temporary
file, fsynced and renamed into place) and only then ``format.json``: that last rename is the
commit. A conversion that dies half-way left no ``format.json``, so the next open converts
again from PraisonAI's files, which are never modified (delete them once you are satisfied).

Messages are kept in PraisonAI's reading order (by ``created_at``, file order for ties).
PraisonAI appends without checking ids, so one id may appear twice in its file: the first
is kept, as our store holds one message per id and session.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

from ..errors import InvalidInputError, StoreError
from ._json_format import MESSAGE_KEYS, SESSION_KEYS, header_line, json_object
from ._sql_operations import ConversationOperations
from .base import ConversationMessage, ConversationSession

__all__ = ["praisonai_session_files", "convert_praisonai_session"]

_INDEX = "_sessions_index.json"


def praisonai_session_files(root: Path) -> list[Path]:
    """PraisonAI's session files directly in ``root`` (empty when ``root`` is not PraisonAI's directory)."""
    if not (root / _INDEX).is_file():
        return []
    return sorted(path for path in root.glob("*.json") if path.name not in (_INDEX, "format.json"))


def convert_praisonai_session(
    path: Path, encoder: ConversationOperations, write: Callable[[str, bytes, bytes], None]
) -> None:
    """Write one PraisonAI session file in our layout: ``write(session_id, session bytes, messages bytes)``.

    ``encoder`` validates the rows (as the store does); their text is :mod:`._json_format`'s.
    """
    try:
        data = json.loads(path.read_bytes())
        session = ConversationSession.from_dict(data["session"])
        raw_messages = list(data.get("messages") or [])
    except (ValueError, KeyError, TypeError) as error:
        raise StoreError(f"PraisonAI session file {path} cannot be read: {error}") from error
    try:
        row = encoder.session_row(session)
        seen: set[str] = set()
        lines = []
        ordered = sorted(raw_messages, key=lambda message: float(message.get("created_at") or 0.0))
        for record in ordered:
            message = ConversationMessage.from_dict({**record, "content": record.get("content") or ""})
            if message.id in seen:
                continue
            seen.add(message.id)
            message.session_id = ""  # message_row sets it from the session
            lines.append(json_object(MESSAGE_KEYS, encoder.message_row(row[0], message)))
    except (InvalidInputError, TypeError, ValueError, AttributeError) as error:
        raise StoreError(f"PraisonAI session file {path} holds a value this store cannot keep: {error}") from error
    messages = header_line(uuid.uuid4().hex) + "\n" + ("[" + ",".join(lines) + "]\n" if lines else "")
    write(row[0], json_object(SESSION_KEYS, row).encode("ascii"), messages.encode("ascii"))
