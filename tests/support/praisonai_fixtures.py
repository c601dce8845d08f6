"""The PraisonAI 4.7.19 fixtures (tests/fixtures/praisonai_4_7_19): copying, loading and reading them raw.

Tests never open the committed files: they copy them to a temporary directory (opening
can write) or load the SQL dumps into a schema or database of their own. What PraisonAI
stored is read back here with the plain drivers, straight from its tables, so a test can
compare every record our store returns with what was really there.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from tests.support.sql_servers import mysql_connect

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "praisonai_4_7_19"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "manifest.json").read_text())
T0: float = MANIFEST["t0"]

_SESSIONS = "session_id, user_id, agent_id, name, state, metadata, created_at, updated_at"
_MESSAGES = "id, session_id, role, content, tool_calls, tool_call_id, metadata, created_at"


def copy_fixture(relative: str, into: Path) -> Path:
    """A copy of the fixture file or folder ``relative`` inside ``into``."""
    source, target = FIXTURES / relative, into / Path(relative).name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)
    return target


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


class Stored:
    """What PraisonAI's two tables hold, as our contract's records (read before any upgrade)."""

    def __init__(self, query: Callable[[str], Sequence[Sequence[Any]]], prefix: str = "praison_") -> None:
        self.sessions = {
            row[0]: ConversationSession(
                row[0], row[1], row[2], row[3], _json(row[4]), _json(row[5]), float(row[6]), float(row[7])
            )
            for row in query(f"SELECT {_SESSIONS} FROM {prefix}sessions")
        }
        self.messages: dict[str, list[ConversationMessage]] = {sid: [] for sid in self.sessions}
        for row in query(f"SELECT {_MESSAGES} FROM {prefix}messages ORDER BY created_at, id"):
            self.messages[row[1]].append(
                ConversationMessage(
                    row[0], row[1], row[2], row[3] or "", _json(row[4]), row[5], _json(row[6]), float(row[7])
                )
            )


def check_against_manifest(stored: Stored, section: str) -> None:
    """The raw read found what the fixture script wrote (so comparing with it is not comparing with nothing)."""
    expected = MANIFEST[section]["sessions"]
    assert set(stored.sessions) == set(expected)
    for session_id, facts in expected.items():
        messages = stored.messages[session_id]
        assert len(messages) == facts["messages"]
        assert sorted({message.role for message in messages}) == facts["roles"]


def load_postgres_dump(url: str, schema: str) -> None:
    """Load ``postgres/praisonai_fixture.sql`` into ``schema`` (created by the dump)."""
    import psycopg

    text = (FIXTURES / "postgres" / "praisonai_fixture.sql").read_text().replace("praisonai_fixture", schema)
    with psycopg.connect(url, autocommit=True) as connection:
        lines = iter(text.splitlines(keepends=True))
        statement: list[str] = []
        for line in lines:
            if not statement and (line.startswith("--") or not line.strip()):
                continue
            statement.append(line)
            if not line.rstrip().endswith(";"):
                continue
            sql, statement = "".join(statement), []
            if sql.startswith("COPY "):
                with connection.cursor().copy(sql.rstrip().rstrip(";")) as copy:
                    for data in lines:
                        if data.rstrip("\n") == "\\.":
                            break
                        copy.write(data)
            else:
                connection.execute(sql)


def load_mysql_dump(database_url: str) -> None:
    """Load ``mysql/praisonai_fixture.sql`` into the (empty) database of ``database_url``."""
    connection = mysql_connect(database_url, in_database=True)
    try:
        statement: list[str] = []
        with connection.cursor() as cursor:
            for line in (FIXTURES / "mysql" / "praisonai_fixture.sql").read_text().splitlines(keepends=True):
                if not statement and (line.startswith(("--", "/*M!999999")) or not line.strip()):
                    continue
                statement.append(line)
                if line.rstrip().endswith(";"):
                    cursor.execute("".join(statement))
                    statement = []
    finally:
        connection.close()
