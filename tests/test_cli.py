"""The command line, driven as a user would: in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "praisonai.persistence", *args], capture_output=True, text=True, check=False
    )


def test_demo_round_trips_and_keeps_state_between_runs(tmp_path: Path) -> None:
    first = run("demo", "--path", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert "assistant: 4." in first.stdout and "user: Thanks!" in first.stdout
    assert "cats: Cats purr." in first.stdout and "tax" not in first.stdout
    assert "demo:runs = 1" in first.stdout
    second = run("demo", "--path", str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert "demo:runs = 2" in second.stdout  # the state snapshot survived the first process
    assert (tmp_path / "conversations.db").exists()


def test_backends_json_lists_builtins() -> None:
    result = run("backends", "--json", "--kind", "state")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    memory = next(row for row in rows if row["name"] == "memory")
    assert (memory["kind"], memory["source"], memory["tier"]) == ("state", "builtin", "embedded")
    assert {row["kind"] for row in rows} == {"state"}


def test_unknown_command_fails() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
