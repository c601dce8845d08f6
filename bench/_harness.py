"""What every suite shares: options, interleaved timing, rows of the table, formatting.

Ours and the raw driver are measured in alternating order within one process (round 1:
ours then raw, round 2: raw then ours, ...), after one unrecorded warm-up round each,
so both see the same machine load; each side's figure is the median of its rounds, and
the ratio is the median of the rounds' ratios (see :func:`paired_ratio`). Where the
calls are alike (``add_message``, ``add_messages``, redis ``GET``/``SET``), the sides
alternate call by call within each round instead (:func:`alternating`).
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Options",
    "Row",
    "Skip",
    "alternating",
    "interleaved",
    "latency_of",
    "latency_row",
    "machine",
    "median",
    "paired_ratio",
    "rate_row",
    "render_table",
    "timed",
]


class Skip(Exception):
    """A suite cannot run here (no server, no driver); the message says why."""


@dataclass
class Options:
    """Sizes and endpoints; ``--quick`` shrinks every size so that the whole run takes seconds."""

    quick: bool = False
    rounds: int = 9
    cache_dir: Path = Path(tempfile.gettempdir()) / "praisonai-bench"
    postgres_url: str = "postgresql://root@127.0.0.1:5432/test"
    mysql_url: str = "mysql://root@127.0.0.1:3306/test"
    redis_url: str = "redis://127.0.0.1:6379/0"
    small: int = 1_000  # messages of the small session
    large: int = 1_000_000  # messages of the large session
    messages: int = 1_000  # add_message calls per round (short rounds pair ours and raw closely in time)
    batches: int = 10  # add_messages calls (of ``batch``) per round
    batch: int = 1_000
    reads: int = 300  # get_messages calls per round
    keys: int = 2_000  # redis get/set calls per round
    many: int = 1_000  # keys per get_many / set_many
    vectors: int = 20_000
    dimension: int = 384
    queries: int = 30
    calls: int = 20_000  # create() calls per round
    imports: int = 15  # interpreter runs per import measurement
    praisonai_venv: Path | None = None  # a venv with PraisonAI 4.7.19, for the import comparison

    @classmethod
    def quick_sizes(cls, **overrides: Any) -> Options:
        sizes: dict[str, Any] = {
            "quick": True,
            "rounds": 2,
            "small": 100,
            "large": 2_000,
            "messages": 30,
            "batches": 2,
            "batch": 100,
            "reads": 20,
            "keys": 50,
            "many": 100,
            "vectors": 300,
            "dimension": 16,
            "queries": 3,
            "calls": 200,
            "imports": 3,
        }
        sizes.update(overrides)
        return cls(**sizes)


@dataclass
class Row:
    """One line of the table. ``ratio`` is our throughput over the raw driver's."""

    suite: str
    operation: str
    ours: str
    raw: str = "-"
    ratio: float | None = None
    target: str = "-"
    verdict: str = "info"
    values: dict[str, Any] = field(default_factory=dict)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def latency_of(call: Callable[[], object], calls: int) -> Callable[[], float]:
    """A round of ``calls`` calls, each timed; the round's value is the median seconds per call."""

    def run() -> float:
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return median(times)

    return run


def paired_ratio(samples: dict[str, list[float]]) -> float:
    """Our throughput over the raw driver's: the median of each round's ratio.

    ``samples`` are seconds (per round, or per call) of each side; a round runs both sides back
    to back, so a ratio per round cancels the load drifting between rounds.
    """
    return median([raw / ours for ours, raw in zip(samples["ours"], samples["raw"], strict=True)])


def alternating(
    ours: Callable[[], Callable[[int], object]],
    raw: Callable[[], Callable[[int], object]],
    calls: int,
    rounds: int,
    warmup: int = 1,
) -> dict[str, list[float]]:
    """Rounds of ``calls`` calls per side, the two sides' calls alternating one by one (call ``i`` of ours
    and of raw back to back, which goes first alternating too), each call timed; a round's value per side
    is the sum of its calls' times. ``ours()`` / ``raw()`` prepare a round (outside the clock) and return
    its call function. Load that changes within a round hits both sides alike, which rounds of one side
    then the other cannot promise on a shared machine.

    Each round is two halves, each after a ``gc.collect()``: ours goes first in the first half, raw in
    the second. The first call after a collection is the slow one (fresh memory), so the side that always
    went first came out about 15% slower on 1,000-key pipelines, with the same code on both sides."""
    samples: dict[str, list[float]] = {"ours": [], "raw": []}
    clock = time.perf_counter
    halves = ((0, calls // 2, ("ours", "raw")), (calls // 2, calls, ("raw", "ours")))
    for index in range(warmup + rounds):
        runs = {"ours": ours(), "raw": raw()}
        spent = {"ours": 0.0, "raw": 0.0}
        for first, last, order in halves:
            gc.collect()
            for call in range(first, last):
                for name in order if (call - first) % 2 == 0 else order[::-1]:
                    run = runs[name]
                    start = clock()
                    run(call)
                    spent[name] += clock() - start
        if index >= warmup:
            samples["ours"].append(spent["ours"])
            samples["raw"].append(spent["raw"])
    return samples


def interleaved(runs: dict[str, Callable[[], float]], rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """Call each function once per round, alternating the order; collect what each returns."""
    names = list(runs)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmup + rounds):
        for name in names if index % 2 == 0 else names[::-1]:
            gc.collect()
            value = runs[name]()
            if index >= warmup:
                samples[name].append(value)
    return samples


@contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as elapsed:`` ... then ``elapsed[0]`` is the block's wall time in seconds."""
    out: list[float] = []
    start = time.perf_counter()
    try:
        yield out
    finally:
        out.append(time.perf_counter() - start)


def verdict(met: bool, why: str = "") -> str:
    return "met" if met else "NOT MET" + (f" ({why})" if why else "")


def rate_row(
    suite: str,
    operation: str,
    samples: dict[str, list[float]],
    count: int,
    unit: str,
    minimum_ratio: float | None,
    *,
    absolute: float | None = None,
) -> Row:
    """A throughput comparison: ``samples`` are seconds per round of ``count`` operations."""
    ours = count / median(samples["ours"])
    raw = count / median(samples["raw"])
    ratio = paired_ratio(samples)
    targets, met = [], True
    if minimum_ratio is not None:
        targets.append(f"ratio >= {minimum_ratio:g}")
        met = met and ratio >= minimum_ratio
    if absolute is not None:
        targets.append(f">= {absolute:,.0f} {unit}")
        met = met and ours >= absolute
    return Row(
        suite,
        operation,
        f"{ours:,.0f} {unit}",
        f"{raw:,.0f} {unit}",
        ratio,
        ", ".join(targets) or "-",
        verdict(met) if targets else "info",
        {"ours_per_s": ours, "raw_per_s": raw, "count": count, "samples": samples},
    )


def latency_row(
    suite: str,
    operation: str,
    samples: dict[str, list[float]],
    *,
    target: str = "-",
    met: bool | None = None,
) -> Row:
    """A latency comparison: ``samples`` are per-round median seconds per call; ratio = raw / ours."""
    ours = median(samples["ours"])
    raw = median(samples["raw"]) if "raw" in samples else None
    return Row(
        suite,
        operation,
        format_seconds(ours),
        "-" if raw is None else format_seconds(raw),
        None if raw is None else paired_ratio(samples),
        target,
        "info" if met is None else verdict(met),
        {"ours_s": ours, "raw_s": raw, "samples": samples},
    )


def format_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def render_table(rows: Sequence[Row]) -> str:
    header = ("suite", "operation", "ours", "raw driver", "ratio", "target", "verdict")
    lines = [header]
    for row in rows:
        ratio = "-" if row.ratio is None or math.isnan(row.ratio) else f"{row.ratio:.2f}"
        lines.append((row.suite, row.operation, row.ours, row.raw, ratio, row.target, row.verdict))
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    numeric = {2, 3, 4}

    def render(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(("-" * (width + 1) + ":") if c in numeric else "-" * (width + 2) for c, width in enumerate(widths))
        + "|"
    )
    return "\n".join([render(lines[0]), rule, *(render(line) for line in lines[1:])])


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    disk = shutil.disk_usage(tempfile.gettempdir())
    return {
        "cpu": f"{_cpu_model()} x {os.cpu_count()}",
        "load": " ".join(f"{value:.2f}" for value in load),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "sqlite": sqlite3.sqlite_version,
        "disk_free_gb": round(disk.free / 1e9),
    }


def dump_results(path: Path, rows: Sequence[Row], info: dict[str, Any]) -> None:
    payload = {
        "machine": info,
        "argv": sys.argv[1:],
        "rows": [
            {
                "suite": row.suite,
                "operation": row.operation,
                "ours": row.ours,
                "raw": row.raw,
                "ratio": row.ratio,
                "target": row.target,
                "verdict": row.verdict,
                "values": row.values,
            }
            for row in rows
        ],
    }
    path.write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf-8")
