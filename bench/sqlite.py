"""sqlite conversation store against raw ``sqlite3`` doing the same work (and, for concurrent
durable writers, the async_sqlite and json stores against the same raw baseline).

Both sides: WAL, ``synchronous=FULL`` (``NORMAL`` for the labelled ``durable=False`` rows),
the same schema, and per ``add_message`` one ``BEGIN IMMEDIATE``; touch the session;
insert; ``COMMIT`` transaction, metadata JSON-encoded at call time. Each side writes its
own database file. Reads run on cached databases of ``small`` and ``large`` messages.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from itertools import count
from pathlib import Path
from typing import Any

from praisonai.persistence.conversation._sql_statements import SQLITE, ConversationStatements
from praisonai.persistence.conversation._sqlite_connection import sqlite_pragmas
from praisonai.persistence.conversation.base import ConversationMessage
from praisonai.persistence.conversation.config import SqliteConversationConfig
from praisonai.persistence.registry import CONVERSATION_STORES

from ._conversation import (
    SESSION_ID,
    Statements,
    bulk_rows,
    check_same,
    decode_rows,
    messages,
    qmark,
    raw_rows,
    session,
    stored_row,
    write_rows,
)
from ._harness import Options, Row, interleaved, latency_of, latency_row, median, rate_row, verdict

PREFIX = "praison_"
CACHE_VERSION = "v1"
LIMIT_READ_S = 0.3e-3
FLAT_FACTOR = 1.5
ABSOLUTE_RATE = 20_000.0

DDL = (
    "CREATE TABLE IF NOT EXISTS praison_sessions (session_id TEXT NOT NULL PRIMARY KEY, user_id TEXT, agent_id TEXT, "
    "name TEXT, state TEXT, metadata TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS praison_sessions_by_updated ON praison_sessions (updated_at)",
    "CREATE INDEX IF NOT EXISTS praison_sessions_by_user ON praison_sessions (user_id, updated_at)",
    "CREATE INDEX IF NOT EXISTS praison_sessions_by_agent ON praison_sessions (agent_id, updated_at)",
    "CREATE TABLE IF NOT EXISTS praison_messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, session_id TEXT NOT NULL, "
    "role TEXT NOT NULL, content TEXT NOT NULL, tool_calls TEXT, tool_call_id TEXT, metadata TEXT, "
    "created_at REAL NOT NULL, FOREIGN KEY (session_id) REFERENCES praison_sessions (session_id) ON DELETE CASCADE, "
    "UNIQUE (session_id, id))",
    "CREATE INDEX IF NOT EXISTS praison_messages_by_time ON praison_messages (session_id, created_at, seq)",
)
STATEMENTS = Statements("praison_sessions", "praison_messages", qmark)


def pragmas(durable: bool) -> tuple[str, ...]:
    return (
        "PRAGMA journal_mode = WAL",
        "PRAGMA busy_timeout = 5000",
        "PRAGMA foreign_keys = ON",
        f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}",
    )


def check_raw_matches_ours() -> None:
    ours = ConversationStatements(SQLITE, PREFIX)
    check_same(ours, STATEMENTS)
    if ours.schema != DDL:
        raise AssertionError("the raw sqlite schema differs from ours")
    for durable in (True, False):
        config = SqliteConversationConfig(path="bench-check.db", durable=durable)
        if sqlite_pragmas(config) != pragmas(durable):
            raise AssertionError(f"the raw sqlite pragmas differ from ours: {sqlite_pragmas(config)}")


class RawSqlite:
    """What a careful user of ``sqlite3`` writes for the same durable transactions."""

    def __init__(self, path: str, durable: bool = True) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        for pragma in pragmas(durable):
            self.connection.execute(pragma)
        self.connection.execute("BEGIN IMMEDIATE")
        for statement in DDL:
            self.connection.execute(statement)
        self.connection.execute("COMMIT")

    def create_session(self) -> None:
        now = time.time()
        self.connection.execute(
            STATEMENTS.insert_session, (SESSION_ID, "bench-user", "bench-agent", "bench", None, None, now, now)
        )

    def _write(self, run: Callable[[sqlite3.Connection], object]) -> None:
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            if connection.execute(STATEMENTS.touch, (time.time(), SESSION_ID)).rowcount != 1:
                raise LookupError(SESSION_ID)
            run(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def add_message(self, row: tuple[Any, ...]) -> None:
        self._write(lambda connection: connection.execute(STATEMENTS.insert_message, stored_row(row)))

    def add_messages(self, rows: list[tuple[Any, ...]]) -> None:
        stored = [stored_row(row) for row in rows]
        self._write(lambda connection: connection.executemany(STATEMENTS.insert_message, stored))

    def last_messages(self, limit: int) -> list[tuple[Any, ...]]:
        return decode_rows(self.connection.execute(STATEMENTS.last_messages, (SESSION_ID, limit)).fetchall())

    def close(self) -> None:
        self.connection.close()


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def cached_database(options: Options, size: int) -> Path:
    """A database holding one session of ``size`` messages, built once and kept in the cache directory."""
    options.cache_dir.mkdir(parents=True, exist_ok=True)
    path = options.cache_dir / f"sqlite-conversation-{size}-{CACHE_VERSION}.db"
    if path.exists():
        connection = sqlite3.connect(path)
        try:
            (found,) = connection.execute("SELECT count(*) FROM praison_messages").fetchone()
        except sqlite3.DatabaseError:
            found = -1
        finally:
            connection.close()
        if found == size:
            return path
    building = path.with_name(path.name + ".building")
    _remove(building)
    store = CONVERSATION_STORES.create("sqlite", path=str(building))
    store.create_session(session())
    store.close()
    connection = sqlite3.connect(building, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")  # building only; the benchmarks run with the store's pragmas
    connection.execute("BEGIN")
    connection.executemany(STATEMENTS.insert_message, bulk_rows(size))
    connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    _remove(path)
    os.replace(building, path)
    _remove(building)
    return path


def _flush_rate(directory: str, flushes: int) -> float:
    """How many durable 4 KiB page rewrites the disk under ``directory`` takes per second."""
    page = os.urandom(4096)
    descriptor = os.open(f"{directory}/flush-probe", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.pwrite(descriptor, page * 8, 0)
        os.fsync(descriptor)
        start = time.perf_counter()
        for _ in range(flushes):
            os.pwrite(descriptor, page, 0)
            os.fdatasync(descriptor)
        return flushes / (time.perf_counter() - start)
    finally:
        os.close(descriptor)


def _writes(options: Options, directory: str) -> list[Row]:
    rows: list[Row] = []
    tags = count()
    for durable in (True, False):
        ours = CONVERSATION_STORES.create("sqlite", path=f"{directory}/ours-{durable}.db", durable=durable)
        ours.create_session(session())
        raw = RawSqlite(f"{directory}/raw-{durable}.db", durable)
        raw.create_session()
        if durable:
            one, many = write_rows("sqlite", options, ours, raw, tags, 0.9, ", durable (synchronous=FULL)")
            rate, raw_rate = one.values["ours_per_s"], one.values["raw_per_s"]
            why = "the raw driver is below it too: flush-bound, see docs" if raw_rate < ABSOLUTE_RATE else ""
            ceiling = median([_flush_rate(directory, options.messages) for _ in range(options.rounds)])
            rows += [
                one,
                Row(
                    "sqlite",
                    "add_message durable, absolute rate",
                    f"{rate:,.0f} msg/s",
                    one.raw,
                    target=f">= {ABSOLUTE_RATE:,.0f} msg/s",
                    verdict=verdict(rate >= ABSOLUTE_RATE, why),
                ),
                Row(
                    "sqlite",
                    "device ceiling: rewrite one 4 KiB page + fdatasync, per second",
                    f"{ceiling:,.0f} /s",
                    target="- (an upper bound for any durable commit)",
                    values={"flushes_per_s": ceiling},
                ),
                many,
            ]
        else:
            label = ", durable=False (synchronous=NORMAL), labelled"
            rows += write_rows("sqlite", options, ours, raw, tags, None, label, batches=False)
        ours.close()
        raw.close()
    return rows


WRITERS = (1, 4, 16)
GROUP_FACTOR = 5.0  # 16 writers: at least this many times one raw writer's durable rate (issue 17)


def _in_threads(writers: int, work: Callable[[int], None]) -> float:
    """Seconds from releasing ``writers`` started threads running ``work(index)`` until all are done."""
    barrier = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def _tasks_of(store: Any, writers: int, batches: list[list[ConversationMessage]]) -> float:
    """Seconds for ``writers`` asyncio tasks, one event loop, to add their batches to the async ``store``."""

    async def work(index: int) -> None:
        for item in batches[index]:
            await store.add_message(SESSION_ID, item)

    async def all_writers() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(work(index) for index in range(writers)))
        return time.perf_counter() - start

    return asyncio.run(all_writers())


def _concurrent_writes(options: Options, directory: str) -> list[Row]:
    """``add_message`` durable from 1, 4 and 16 writers: one shared store of each embedded durable
    backend (group commit; async_sqlite: tasks on one event loop, the others threads) against raw
    sqlite3 on one shared connection behind a lock, each message its own ``BEGIN IMMEDIATE``
    transaction (what the stores did before group commit; a connection per thread is slower still:
    the writers then wait in SQLite's busy handler, which sleeps). The four sides run interleaved."""
    rows: list[Row] = []
    tags = count()
    one_writer_raw: float | None = None
    for writers in WRITERS:
        stores: dict[str, Any] = {
            "sqlite": CONVERSATION_STORES.create("sqlite", path=f"{directory}/ours-writers-{writers}.db"),
            "async_sqlite": CONVERSATION_STORES.create("async_sqlite", path=f"{directory}/async-writers-{writers}.db"),
            "json": CONVERSATION_STORES.create("json", path=f"{directory}/json-writers-{writers}"),
        }
        stores["sqlite"].create_session(session())
        asyncio.run(stores["async_sqlite"].create_session(session()))
        stores["json"].create_session(session())
        raw = RawSqlite(f"{directory}/raw-writers-{writers}.db")
        raw.create_session()
        raw_lock = threading.Lock()
        share = max(1, options.messages // writers)

        def batches_of(tag: str, share: int = share, writers: int = writers) -> list[list[ConversationMessage]]:
            return [messages(share, f"{tag}{next(tags)}", time.time()) for _ in range(writers)]

        def threads_round(store: Any, writers: int = writers) -> float:
            batches = batches_of("o")

            def work(index: int) -> None:
                for item in batches[index]:
                    store.add_message(SESSION_ID, item)

            return _in_threads(writers, work)

        def tasks_round(store: Any, writers: int = writers) -> float:
            return _tasks_of(store, writers, batches_of("a"))

        def raw_round(writers: int = writers, raw: RawSqlite = raw, raw_lock: threading.Lock = raw_lock) -> float:
            batches = [raw_rows(batch) for batch in batches_of("r")]

            def work(index: int) -> None:
                for row in batches[index]:
                    with raw_lock:
                        raw.add_message(row)

            return _in_threads(writers, work)

        runs: dict[str, Callable[[], float]] = {
            "sqlite": partial(threads_round, stores["sqlite"]),
            "raw": raw_round,
            "async_sqlite": partial(tasks_round, stores["async_sqlite"]),
            "json": partial(threads_round, stores["json"]),
        }
        samples = interleaved(runs, options.rounds)
        plural = "s" if writers > 1 else ""
        for backend in stores:
            how = (
                f"{writers} writer task{plural} on one loop"
                if backend == "async_sqlite"
                else f"{writers} writer thread{plural}"
            )
            row = rate_row(
                "sqlite",
                ("" if backend == "sqlite" else f"{backend} store: ")
                + f"add_message durable, {how} (ours: one store, group commit; raw sqlite3: one connection, "
                "a transaction per message)",
                {"ours": samples[backend], "raw": samples["raw"]},
                share * writers,
                "msg/s",
                0.9 if writers == 1 and backend == "sqlite" else None,
            )
            if writers == 1 and backend == "sqlite":
                one_writer_raw = row.values["raw_per_s"]
            elif writers == max(WRITERS) and one_writer_raw is not None:
                needed = GROUP_FACTOR * one_writer_raw
                row.target = f">= {GROUP_FACTOR:g}x one raw writer ({needed:,.0f} msg/s)"
                row.verdict = verdict(row.values["ours_per_s"] >= needed)
            rows.append(row)
        stores["sqlite"].close()
        asyncio.run(stores["async_sqlite"].close())
        stores["json"].close()
        raw.close()
    return rows


def _reads(options: Options) -> list[Row]:
    stores: dict[int, Any] = {}
    raws: dict[int, RawSqlite] = {}
    runs: dict[str, Callable[[], float]] = {}
    for size in (options.small, options.large):
        path = str(cached_database(options, size))
        ours = stores[size] = CONVERSATION_STORES.create("sqlite", path=path)
        raw = raws[size] = RawSqlite(path)
        if len(ours.get_messages(SESSION_ID, limit=50)) != 50 or len(raw.last_messages(50)) != 50:
            raise AssertionError("the cached database lacks its messages")
        runs[f"ours-{size}"] = latency_of(partial(ours.get_messages, SESSION_ID, limit=50), options.reads)
        runs[f"raw-{size}"] = latency_of(partial(raw.last_messages, 50), options.reads)
    samples = interleaved(runs, options.rounds)
    rows = []
    for size in (options.small, options.large):
        rows.append(
            latency_row(
                "sqlite",
                f"get_messages(limit=50), session of {size:,}",
                {"ours": samples[f"ours-{size}"], "raw": samples[f"raw-{size}"]},
            )
        )
    small, large = median(samples[f"ours-{options.small}"]), median(samples[f"ours-{options.large}"])
    growth = large / small
    rows.append(
        Row(
            "sqlite",
            f"get_messages(limit=50): {options.large:,} vs {options.small:,} messages",
            f"{growth:.2f}x, {large * 1e3:.3f} ms",
            target=f"<= {FLAT_FACTOR}x apart, < {LIMIT_READ_S * 1e3:g} ms",
            verdict=verdict(growth <= FLAT_FACTOR and large < LIMIT_READ_S),
            values={"small_s": small, "large_s": large},
        )
    )
    for store in stores.values():
        store.close()
    for raw in raws.values():
        raw.close()
    return rows


def run(options: Options) -> list[Row]:
    check_raw_matches_ours()
    options.cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sqlite-writes-", dir=options.cache_dir) as directory:
        rows = _writes(options, directory)
        rows += _concurrent_writes(options, directory)
    return rows + _reads(options)
