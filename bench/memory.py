"""Peak memory while streaming a whole session out of a store.

Each measurement is a fresh child process (``bench._stream``) that opens the store,
reads the first page, notes its peak RSS, streams every remaining message with
``iter_messages`` (pages of 1,000 on a keyset), and reports its peak RSS again. The
raw side runs the same keyset statements on the bare driver. Streaming is flat when
the peak for the large session is within ``FLAT_MB`` of the peak for the small one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import servers, sqlite
from ._harness import Options, Row, Skip, verdict

FLAT_MB = 10.0
ROOT = Path(__file__).resolve().parents[1]


def _child(engine: str, side: str, target: str, expected: int) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench._stream", engine, side, target, str(expected)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench._stream {engine} {side} failed: {done.stderr.strip()[-600:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _rows(engine: str, options: Options, targets: dict[int, str]) -> list[Row]:
    results = {
        (size, side): _child(engine, side, target, size) for size, target in targets.items() for side in ("ours", "raw")
    }
    rows = []
    ours_small, ours_large = results[(options.small, "ours")], results[(options.large, "ours")]
    raw_large = results[(options.large, "raw")]
    grown = (ours_large["peak_kb"] - ours_small["peak_kb"]) / 1024

    def megabytes(result: dict[str, Any]) -> str:
        return f"{result['peak_kb'] / 1024:.0f} MB"

    rows.append(
        Row(
            "memory",
            f"{engine}: peak RSS streaming {options.large:,} messages (vs {options.small:,}: {megabytes(ours_small)})",
            megabytes(ours_large),
            megabytes(raw_large),
            target=f"flat: within {FLAT_MB:g} MB of the small session",
            verdict=verdict(grown <= FLAT_MB, f"grew {grown:.1f} MB")
            + ("" if grown > FLAT_MB else f" (+{grown:.1f} MB)"),
            values={key[1] + "-" + str(key[0]): value for key, value in results.items()},
        )
    )
    ours_rate = ours_large["messages"] / ours_large["seconds"]
    raw_rate = raw_large["messages"] / raw_large["seconds"]
    rows.append(
        Row(
            "memory",
            f"{engine}: iter_messages throughput, {options.large:,} messages",
            f"{ours_rate:,.0f} msg/s",
            f"{raw_rate:,.0f} msg/s",
            ours_rate / raw_rate,
        )
    )
    return rows


def run(options: Options) -> list[Row]:
    rows = _rows(
        "sqlite",
        options,
        {size: str(sqlite.cached_database(options, size)) for size in (options.small, options.large)},
    )
    servers_to_stream: list[tuple[str, Callable[[Options], Any], str]] = [
        ("postgres", servers._Postgres, options.postgres_url),
        ("mysql", servers._MySql, options.mysql_url),
    ]
    for backend, open_admin, url in servers_to_stream:
        try:
            admin = open_admin(options)
        except Skip as skip:
            rows.append(Row("memory", backend, "-", verdict=f"skipped: {skip}"))
            continue
        try:
            targets = {size: f"{url}#{admin.cached(options, size)}" for size in (options.small, options.large)}
            rows += _rows(backend, options, targets)
        finally:
            if options.quick:
                for size in (options.small, options.large):
                    admin.drop(servers._cache_name(options, size))
            admin.close()
    return rows
