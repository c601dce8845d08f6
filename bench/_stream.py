"""Child process of the memory suite: stream one session and report the peak RSS.

    python -m bench._stream <engine> <side> <target> <expected>

``engine``: sqlite, postgres or mysql; ``side``: ours (``iter_messages``, pages of 1,000)
or raw (the driver running the same keyset statements); ``target``: the database file,
``url#schema`` or ``url#database``. Prints one JSON object.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from ._conversation import SESSION_ID, Statements, format_mark, qmark

PAGE = 1_000


def _peak_kb() -> int:
    """This process image's peak RSS in KiB (VmHWM; ru_maxrss would include the parent's, forked before exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _ours(engine: str, target: str) -> Iterator[int]:
    from praisonai.persistence.registry import CONVERSATION_STORES

    store: Any
    if engine == "sqlite":
        store = CONVERSATION_STORES.create("sqlite", path=target)
    else:
        url, _, name = target.partition("#")
        store = CONVERSATION_STORES.create(
            engine, url=url, **({"schema": name} if engine == "postgres" else {"database": name})
        )
    try:
        for batch in store.iter_messages(SESSION_ID, batch_size=PAGE):
            yield len(batch)
    finally:
        store.close()


def _keyset(execute: Callable[[str, tuple[Any, ...]], list[Any]], sql: Statements) -> Iterator[int]:
    """The keyset pages our store runs, with rows decoded the same way (JSON columns)."""
    rows = execute(sql.first_page, (SESSION_ID, PAGE))
    while True:
        if rows:
            _ = [
                (
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    None if r[4] is None else json.loads(r[4]),
                    r[5],
                    None if r[6] is None else json.loads(r[6]),
                    float(r[7]),
                )
                for r in rows
            ]
            yield len(rows)
        if len(rows) < PAGE:
            return
        created_at, seq = float(rows[-1][7]), int(rows[-1][8])
        rows = execute(sql.next_page, (SESSION_ID, created_at, created_at, seq, PAGE))


def _raw(engine: str, target: str) -> Iterator[int]:
    if engine == "sqlite":
        import sqlite3

        connection = sqlite3.connect(target, isolation_level=None)
        sql = Statements("praison_sessions", "praison_messages", qmark)
        try:
            yield from _keyset(lambda statement, params: connection.execute(statement, params).fetchall(), sql)
        finally:
            connection.close()
        return
    url, _, name = target.partition("#")
    if engine == "postgres":
        import psycopg

        pg = psycopg.connect(url, autocommit=True, prepare_threshold=5)
        sql = Statements(f'"{name}".praison_sessions', f'"{name}".praison_messages', format_mark)
        try:
            yield from _keyset(lambda statement, params: pg.execute(statement, params).fetchall(), sql)
        finally:
            pg.close()
        return
    import pymysql  # type: ignore[import-untyped]

    from praisonai.persistence.conversation.config import MySqlConversationConfig

    config = MySqlConversationConfig.from_options(url)
    my = pymysql.connect(
        host=config.host, port=config.port, user=config.user, database=name, charset="utf8mb4", autocommit=True
    )
    sql = Statements("praison_sessions", "praison_messages", format_mark)

    def execute(statement: str, params: tuple[Any, ...]) -> list[Any]:
        with my.cursor() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())

    try:
        yield from _keyset(execute, sql)
    finally:
        my.close()


def main() -> None:
    engine, side, target, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    pages = (_ours if side == "ours" else _raw)(engine, target)
    first = next(pages)  # connected and the first page read: timing and the baseline start here
    baseline = _peak_kb()
    start = time.perf_counter()
    rest = sum(pages)
    elapsed = time.perf_counter() - start
    if first + rest != expected:
        raise SystemExit(f"streamed {first + rest} messages, expected {expected}")
    print(json.dumps({"baseline_kb": baseline, "peak_kb": _peak_kb(), "messages": rest, "seconds": elapsed}))


if __name__ == "__main__":
    main()
