"""Opening the conversation tables: the schema version, and the in-place upgrade of PraisonAI's tables.

:func:`prepare_schema` is the one schema operation of the sqlite, async_sqlite, turso, postgres,
async_postgres, mysql and async_mysql stores (a sans-IO operation, see ``_sansio.py``, run as
one write transaction). It records the schema version in ``<table_prefix>schema_version``
(one row per version reached, with when and from what) and decides from what it finds:

- version 1 recorded: nothing to do (the usual case: a few cheap reads);
- PraisonAI 4.7's tables under the same names (a messages table without our ``seq``
  column): upgraded in place, every row kept, then version 1 recorded;
- our tables from before version tables existed: version 1 implicitly, left as they are
  (no DDL, so a role without DDL rights can still open them);
- nothing: our tables are created and version 1 recorded.

The upgrade copies PraisonAI's tables aside (``CREATE TABLE ... AS SELECT``), drops them
(with their indexes and constraints, whose names would clash with ours), creates ours and
copies the rows back, oldest message first so that ``seq`` keeps PraisonAI's order.
SQLite and PostgreSQL run it in one transaction. MySQL commits each DDL statement, so
every step is safe to repeat: the copies aside are the upgrade's journal, and an
interrupted upgrade is finished (or restarted) by the next open. Two processes opening
at once: SQLite's ``BEGIN IMMEDIATE``, a PostgreSQL transaction-scoped advisory lock or
a MySQL named lock lets one upgrade while the other waits and then finds version 1.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable

from ..errors import BackendUnavailableError, EngineError
from ._sql_operations import ConversationOperations, Operation, Step
from ._sql_statements import MESSAGE_COLUMNS, SESSION_COLUMNS, ConversationStatements

__all__ = ["SCHEMA_VERSION", "prepare_schema", "schema_is_current"]

SCHEMA_VERSION = 1
"""Version 1: the tables of ``_sql_statements.py`` (messages ordered by ``seq``)."""

_UPGRADE_NOTE = "upgraded from PraisonAI 4.7 tables"
_LOCK_TIMEOUT_SECONDS = 120  # a MySQL upgrade of a large table may take this long in another process


class _Names:
    """The tables the upgrade touches, unqualified (for catalog probes) and as statements spell them."""

    def __init__(self, sql: ConversationStatements) -> None:
        prefix, d = sql.table_prefix, sql.dialect
        qualifier = f"{d.quote}{sql.namespace}{d.quote}." if sql.namespace else ""
        self.bare = {
            "version": f"{prefix}schema_version",
            "sessions": f"{prefix}sessions",
            "messages": f"{prefix}messages",
            "old_sessions": f"{prefix}sessions_praisonai",
            "old_messages": f"{prefix}messages_praisonai",
        }
        self.full = {key: qualifier + name for key, name in self.bare.items()}


def _columns(sql: ConversationStatements, table: str) -> Operation[set[str]]:
    """The column names of ``table`` (unqualified) in the store's schema; empty when it does not exist."""
    engine = sql.dialect.name
    params: tuple[str, ...] = (table,)
    if engine == "sqlite":
        probe = "SELECT name FROM pragma_table_info(?)"
    elif engine == "postgres":
        probe = "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
        params = (sql.namespace or "public", table)
    else:
        probe = "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?"
    rows = yield Step(sql.get(("praisonai_columns",), lambda: probe), params, "all")
    return {str(row[0]).lower() for row in rows}


def _render(sql: ConversationStatements, key: str, build: Callable[[], str]) -> str:
    return sql.get(("praisonai_schema", key), build)


def _lock(sql: ConversationStatements) -> Operation[Callable[[], Operation[None]]]:
    """Take the engine's upgrade lock; returns the operation that releases it (a no-op where commit does)."""
    engine = sql.dialect.name

    def nothing() -> Operation[None]:
        return
        yield  # a generator

    if engine == "postgres":
        # Engines of the PostgreSQL dialect without advisory locks (older CockroachDB) go without:
        # two first opens at once then fall back on the runner's second attempt.
        found = yield Step("SELECT COUNT(*) FROM pg_catalog.pg_proc WHERE proname = 'pg_advisory_xact_lock'", (), "one")
        if found is not None and int(found[0]):
            key = zlib.crc32(f"praisonai-persistence:{sql.namespace}.{sql.table_prefix}".encode())
            yield Step(_render(sql, "lock", lambda: "SELECT pg_advisory_xact_lock(?)"), (key,), "one")
    elif engine == "mysql":
        name = f"praisonai-persistence:{sql.table_prefix}"
        row = yield Step(
            _render(sql, "lock", lambda: "SELECT GET_LOCK(SHA1(CONCAT(DATABASE(), ?)), ?)"),
            (name, _LOCK_TIMEOUT_SECONDS),
            "one",
        )
        if row is None or row[0] != 1:
            raise BackendUnavailableError(
                f"another process held the schema lock of {sql.sessions} for {_LOCK_TIMEOUT_SECONDS} seconds"
            )

        def release() -> Operation[None]:
            yield Step(
                _render(sql, "unlock", lambda: "SELECT RELEASE_LOCK(SHA1(CONCAT(DATABASE(), ?)))"), (name,), "one"
            )

        return release
    return nothing


def prepare_schema(sql: ConversationStatements) -> Operation[None]:
    """Bring the tables to :data:`SCHEMA_VERSION` (see the module docstring); run it as a write."""
    names = _Names(sql)
    # PostgreSQL reads each statement's latest commit (READ COMMITTED), so the usual open, at the
    # current version, checks before taking the lock. MySQL's snapshot is the transaction's first
    # read: there the lock comes first, so that the version read after it is fresh.
    if sql.dialect.name == "postgres" and (yield from _at_current_version(sql, names)):
        return
    release = yield from _lock(sql)
    try:
        if not (yield from _at_current_version(sql, names)):
            yield from _prepare(sql, names)
    except Exception:
        yield from release()
        raise
    yield from release()


def schema_is_current(sql: ConversationStatements) -> Operation[bool]:
    """Whether the tables are at :data:`SCHEMA_VERSION`: reads only, run without a lock, so that
    opening a store at the current version does not wait for (nor take) a write lock."""
    return (yield from _at_current_version(sql, _Names(sql)))


def _at_current_version(sql: ConversationStatements, names: _Names) -> Operation[bool]:
    """Whether :data:`SCHEMA_VERSION` is recorded; a newer version is refused."""
    if not (yield from _columns(sql, names.bare["version"])):
        return False
    # "all", not "one": the read ends there (SQLite keeps a statement not stepped to its end, and with
    # it a read snapshot that a later BEGIN IMMEDIATE of the connection finds stale).
    rows = yield Step(_render(sql, "version", lambda: f"SELECT MAX(version) FROM {names.full['version']}"), (), "all")
    version = None if not rows or rows[0][0] is None else int(rows[0][0])
    if version is not None and version > SCHEMA_VERSION:
        raise EngineError(
            f"{sql.sessions} is at schema version {version}, written by a newer praisonai-persistence; "
            f"this one knows version {SCHEMA_VERSION}: upgrade the package"
        )
    return version == SCHEMA_VERSION


def _prepare(sql: ConversationStatements, names: _Names) -> Operation[None]:
    # Which tables exist (DROP ... IF EXISTS would do, but MySQL drivers warn about each missing one).
    columns = {}
    for key in ("messages", "sessions", "old_messages", "old_sessions"):
        columns[key] = yield from _columns(sql, names.bare[key])
    exists = {key: bool(names) for key, names in columns.items()}
    messages = columns["messages"]
    if messages and "seq" not in messages:
        yield from _stage(sql, names, exists)
    elif not exists["old_messages"]:
        yield from ConversationOperations(sql).create_schema()
        if messages:
            return  # ours, from before version tables: version 1 as it stands
        yield from _record(sql, names, None)
        return
    yield from _finish(sql, names, exists)


def _stage(sql: ConversationStatements, names: _Names, exists: dict[str, bool]) -> Operation[None]:
    """Copy PraisonAI's two tables aside (replacing the copies of an interrupted attempt)."""
    full = names.full
    for old in ("old_messages", "old_sessions"):
        if exists[old]:
            yield Step(f"DROP TABLE {full[old]}")
    exists.update(old_messages=True, old_sessions=True)
    # Copied in physical order: the tie-break of equal timestamps below (SQLite's rowid, PostgreSQL's ctid).
    yield Step(f"CREATE TABLE {full['old_sessions']} AS SELECT * FROM {full['sessions']}")
    yield Step(f"CREATE TABLE {full['old_messages']} AS SELECT * FROM {full['messages']}")


def _finish(sql: ConversationStatements, names: _Names, exists: dict[str, bool]) -> Operation[None]:
    """Replace PraisonAI's tables by ours, filled from the copies aside, then drop the copies."""
    full = names.full
    for table in ("messages", "sessions"):
        if exists[table]:
            yield Step(f"DROP TABLE {full[table]}")
    for statement in sql.schema:
        yield Step(statement)
    engine = sql.dialect.name
    as_text = (lambda column: f"CAST({column} AS TEXT)") if engine == "postgres" else (lambda column: column)
    # Physical order breaks ties of equal timestamps; MySQL's copy has none to offer, the id does.
    tie = {"sqlite": "rowid", "postgres": "ctid"}.get(engine, "id")
    old_s, old_m = full["old_sessions"], full["old_messages"]
    yield Step(
        f"INSERT INTO {full['sessions']} ({', '.join(SESSION_COLUMNS)}) "
        f"SELECT session_id, user_id, agent_id, name, {as_text('state')}, {as_text('metadata')}, "
        "COALESCE(created_at, updated_at, 0), COALESCE(updated_at, created_at, 0) "
        f"FROM {old_s} WHERE session_id IS NOT NULL"
    )
    # PraisonAI's async_mysql tables have no foreign key: a message may name a session that
    # is not there. It gets a session (no name, its messages' first and last times) to belong to.
    yield Step(
        f"INSERT INTO {full['sessions']} (session_id, created_at, updated_at) "
        "SELECT session_id, COALESCE(MIN(created_at), 0), COALESCE(MAX(created_at), 0) "
        f"FROM {old_m} WHERE session_id IS NOT NULL "
        f"AND session_id NOT IN (SELECT session_id FROM {old_s} WHERE session_id IS NOT NULL) "
        "GROUP BY session_id"
    )
    yield Step(
        f"INSERT INTO {full['messages']} ({', '.join(MESSAGE_COLUMNS)}) "
        f"SELECT id, session_id, COALESCE(role, ''), COALESCE(content, ''), {as_text('tool_calls')}, "
        f"tool_call_id, {as_text('metadata')}, COALESCE(created_at, 0) "
        f"FROM {old_m} WHERE session_id IS NOT NULL ORDER BY created_at, {tie}"
    )
    # A message without a session id (PraisonAI's postgres tables allow one) has nowhere to go
    # in ours: its copy is kept, so that nothing is lost, and said so in the version row.
    row = yield Step(f"SELECT COUNT(*) FROM {old_m} WHERE session_id IS NULL", (), "one")
    unplaced = int(row[0]) if row is not None else 0
    if unplaced:
        yield Step(f"DELETE FROM {old_m} WHERE session_id IS NOT NULL")
    else:
        yield Step(f"DROP TABLE {old_m}")
    yield Step(f"DROP TABLE {old_s}")
    note = _UPGRADE_NOTE + (
        f"; {unplaced} messages without a session kept in {names.bare['old_messages']}" if unplaced else ""
    )
    yield from _record(sql, names, note)


def _record(sql: ConversationStatements, names: _Names, note: str | None) -> Operation[None]:
    d = sql.dialect
    yield Step(
        f"CREATE TABLE IF NOT EXISTS {names.full['version']} (version INTEGER NOT NULL PRIMARY KEY, "
        f"applied_at {d.real_type} NOT NULL, note {d.text_type}){d.table_options}"
    )
    yield Step(
        _render(
            sql, "record", lambda: f"INSERT INTO {names.full['version']} (version, applied_at, note) VALUES (?, ?, ?)"
        ),
        (SCHEMA_VERSION, time.time(), note),
    )
