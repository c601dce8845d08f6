"""The benchmark harness (``python -m bench``) runs and prints a well-formed table.

A smoke run with tiny sizes (``--quick``): it checks the harness, never timings; the
figures and their targets are in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["suite", "operation", "ours", "raw driver", "ratio", "target", "verdict"]


def _run_bench(tmp_path: Path, *suites: str) -> tuple[list[list[str]], dict[str, object]]:
    report = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--json",
            str(report),
            *suites,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    assert cells[0] == HEADER
    assert all(set(cell) <= set("-:") for cell in cells[1])  # the markdown rule
    return cells[2:], json.loads(report.read_text(encoding="utf-8"))


def _check_rows(rows: list[list[str]], suites: set[str]) -> None:
    assert rows, "the table has no rows"
    for row in rows:
        assert len(row) == len(HEADER), row
        suite, operation, ours, raw, ratio, _target, verdict = row
        assert suite in suites and operation
        assert not verdict.startswith("error"), row
        assert verdict.startswith(("met", "info", "NOT MET", "skipped:")), row
        if verdict.startswith("skipped:"):
            continue
        assert ours != "-", row
        if ratio != "-":
            assert float(ratio) > 0 and raw != "-", row
    assert {row[0] for row in rows} == suites


def test_quick_run_of_the_local_suites(tmp_path: Path) -> None:
    suites = {"import", "create", "sqlite"}
    rows, report = _run_bench(tmp_path, *sorted(suites))
    _check_rows(rows, suites)
    operations = [row[1] for row in rows]
    assert any(op.startswith("add_message, one per transaction, durable") for op in operations)
    assert any("get_messages(limit=50)" in op for op in operations)
    assert len(report["rows"]) == len(rows)  # type: ignore[arg-type]


@pytest.mark.slow
def test_quick_run_of_every_suite(tmp_path: Path) -> None:
    from bench.__main__ import SUITES

    rows, _ = _run_bench(tmp_path)
    _check_rows(rows, set(SUITES))


def test_unknown_suite_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "no_such_suite"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "unknown suite" in done.stderr
