"""The raw side of the conversation benchmarks: statements, rows, schema checks.

The raw baselines run these statements, written out here by hand; ``check_same`` asserts
at start-up that they are character for character the statements our store renders, so
the comparison cannot drift into measuring different SQL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from praisonai.persistence.conversation._sql_statements import ConversationStatements
from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession

from ._harness import Options, Row, alternating, rate_row

__all__ = [
    "SESSION_ID",
    "Statements",
    "bulk_rows",
    "check_same",
    "decode_rows",
    "encode",
    "format_mark",
    "message",
    "messages",
    "numeric_mark",
    "qmark",
    "raw_row",
    "raw_rows",
    "session",
    "stored_row",
    "write_rows",
]

SESSION_ID = "bench-session"
_FILLER = "The quick brown fox jumps over the lazy dog; " * 4  # ~180 characters of content
_MODEL = "gpt-4o-mini"
_COLUMNS = "id, session_id, role, content, tool_calls, tool_call_id, metadata, created_at"
encode: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode


def _metadata(index: int) -> dict[str, Any]:
    return {"model": _MODEL, "tokens": index % 977}


def message(index: int, tag: str, created_at: float) -> ConversationMessage:
    """Message ``index`` of a run; ``tag`` keeps ids unique across rounds."""
    return ConversationMessage(
        id=f"{tag}-{index:07d}",
        role="user" if index % 2 == 0 else "assistant",
        content=f"#{index} {_FILLER}",
        metadata=_metadata(index),
        created_at=created_at,
    )


def messages(count: int, tag: str, start: float) -> list[ConversationMessage]:
    return [message(index, tag, start + index * 1e-3) for index in range(count)]


def raw_row(item: ConversationMessage) -> tuple[Any, ...]:
    """The same message for the raw side, metadata still a dict (the raw side encodes it when it writes)."""
    return (item.id, SESSION_ID, item.role, item.content, None, None, item.metadata, item.created_at)


def raw_rows(items: list[ConversationMessage]) -> list[tuple[Any, ...]]:
    return [raw_row(item) for item in items]


def stored_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A raw row as the database stores it: metadata as JSON text."""
    return (*row[:6], None if row[6] is None else encode(row[6]), row[7])


def bulk_rows(count: int, start: float = 1_700_000_000.0) -> Iterator[tuple[Any, ...]]:
    """``count`` stored rows for building big sessions fast (the bulk path, not timed)."""
    for index in range(count):
        yield (
            f"m-{index:07d}",
            SESSION_ID,
            "user" if index % 2 == 0 else "assistant",
            f"#{index} {_FILLER}",
            None,
            None,
            encode(_metadata(index)),
            start + index * 1e-3,
        )


def session() -> ConversationSession:
    return ConversationSession(session_id=SESSION_ID, user_id="bench-user", agent_id="bench-agent", name="bench")


class Statements:
    """The statements the raw side runs, for tables ``sessions``/``messages`` and a placeholder style."""

    def __init__(self, sessions: str, messages: str, mark: Callable[[int], str]) -> None:
        marks = ", ".join(mark(n) for n in range(1, 9))
        self.insert_session = (
            f"INSERT INTO {sessions} (session_id, user_id, agent_id, name, state, metadata, created_at, updated_at) "
            f"VALUES ({marks})"
        )
        self.touch = f"UPDATE {sessions} SET updated_at = {mark(1)} WHERE session_id = {mark(2)}"
        self.insert_message = f"INSERT INTO {messages} ({_COLUMNS}) VALUES ({marks})"
        self.last_messages = (
            f"SELECT {_COLUMNS} FROM {messages} WHERE session_id = {mark(1)} "
            f"ORDER BY created_at DESC, seq DESC LIMIT {mark(2)}"
        )
        self.first_page = (
            f"SELECT {_COLUMNS}, seq FROM {messages} WHERE session_id = {mark(1)} "
            f"ORDER BY created_at ASC, seq ASC LIMIT {mark(2)}"
        )
        self.next_page = (
            f"SELECT {_COLUMNS}, seq FROM {messages} WHERE session_id = {mark(1)} "
            f"AND created_at >= {mark(2)} AND (created_at > {mark(3)} OR seq > {mark(4)}) "
            f"ORDER BY created_at ASC, seq ASC LIMIT {mark(5)}"
        )


def qmark(_: int) -> str:
    return "?"


def format_mark(_: int) -> str:
    return "%s"


def numeric_mark(n: int) -> str:
    return f"${n}"


def check_same(ours: ConversationStatements, raw: Statements) -> None:
    """Fail loudly if the raw statements differ from those our store runs."""
    pairs = {
        "insert_session": (ours.insert_session(), raw.insert_session),
        "touch_session": (ours.touch_session(), raw.touch),
        "insert_message": (ours.insert_message(), raw.insert_message),
        "select_messages(limit)": (ours.select_messages(False, False, True), raw.last_messages),
        "message_page(first)": (ours.message_page(True), raw.first_page),
        "message_page(next)": (ours.message_page(False), raw.next_page),
    }
    for name, (theirs, mine) in pairs.items():
        if theirs != mine:
            raise AssertionError(f"raw statement {name} differs from ours:\n  ours: {theirs}\n  raw:  {mine}")


def decode_rows(rows: list[Any]) -> list[tuple[Any, ...]]:
    """What the raw side does with fetched rows to match our result: newest-last, JSON decoded."""
    rows.reverse()
    return [
        (
            r[0],
            r[1],
            r[2],
            r[3],
            None if r[4] is None else json.loads(r[4]),
            r[5],
            None if r[6] is None else json.loads(r[6]),
            r[7],
        )
        for r in rows
    ]


def write_rows(
    suite: str,
    options: Options,
    ours: Any,
    raw: Any,
    tags: Iterator[int],
    minimum_ratio: float | None,
    label: str = "",
    batches: bool = True,
) -> list[Row]:
    """``add_message`` one per transaction, and ``add_messages`` in batches, ours against ``raw``.

    ``raw`` has ``add_message(row)`` and ``add_messages(rows)``; each round writes fresh
    messages (built outside the clock) to both sides' ever-growing sessions, the two sides'
    calls alternating one by one (:func:`~._harness.alternating`).
    """

    def ours_messages() -> Callable[[int], object]:
        batch = messages(options.messages, f"o{next(tags)}", time.time())
        return lambda index: ours.add_message(SESSION_ID, batch[index])

    def raw_messages() -> Callable[[int], object]:
        rows = raw_rows(messages(options.messages, f"r{next(tags)}", time.time()))
        return lambda index: raw.add_message(rows[index])

    def ours_batches() -> Callable[[int], object]:
        lists = [messages(options.batch, f"o{next(tags)}", time.time()) for _ in range(options.batches)]
        return lambda index: ours.add_messages(SESSION_ID, lists[index])

    def raw_batches() -> Callable[[int], object]:
        lists = [raw_rows(messages(options.batch, f"r{next(tags)}", time.time())) for _ in range(options.batches)]
        return lambda index: raw.add_messages(lists[index])

    one = alternating(ours_messages, raw_messages, options.messages, options.rounds)
    rows = [rate_row(suite, f"add_message, one per transaction{label}", one, options.messages, "msg/s", minimum_ratio)]
    if batches:
        many = alternating(ours_batches, raw_batches, options.batches, options.rounds)
        count = options.batch * options.batches
        rows.append(
            rate_row(suite, f"add_messages, batches of {options.batch:,}{label}", many, count, "msg/s", minimum_ratio)
        )
    return rows
