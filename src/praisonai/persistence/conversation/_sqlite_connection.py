"""How the sqlite and async_sqlite stores open and read their connection: the file, pragmas, constraint errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ._sql_operations import IntegrityViolation
from .config import AsyncSqliteConversationConfig, SqliteConversationConfig

__all__ = ["classify_sqlite_error", "prepare_path", "sqlite_pragmas"]


def prepare_path(config: SqliteConversationConfig | AsyncSqliteConversationConfig) -> str:
    """Create the database file's directory; ``:memory:`` and ``file:`` URIs pass through."""
    if config.path != ":memory:" and not config.path.startswith("file:"):
        Path(config.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return str(Path(config.path).expanduser())
    return config.path


def sqlite_pragmas(config: SqliteConversationConfig | AsyncSqliteConversationConfig) -> tuple[str, ...]:
    # WAL lets readers run beside the writer; synchronous=FULL makes each
    # commit durable when it returns (NORMAL may lose the last ones on power loss).
    pragmas = [
        f"PRAGMA busy_timeout = {int(config.busy_timeout * 1000)}",
        "PRAGMA foreign_keys = ON",
        f"PRAGMA synchronous = {'FULL' if config.durable else 'NORMAL'}",
    ]
    if config.path != ":memory:":
        pragmas.insert(0, "PRAGMA journal_mode = WAL")
    return tuple(pragmas)


def classify_sqlite_error(error: BaseException) -> IntegrityViolation | None:
    if not isinstance(error, sqlite3.IntegrityError):
        return None
    text = str(error)
    if "UNIQUE" in text or "PRIMARY KEY" in text:
        return IntegrityViolation("unique", text)
    if "FOREIGN KEY" in text:
        return IntegrityViolation("foreign_key", text)
    return IntegrityViolation("other", text)
