"""The runnable examples of docs/integrations.md and docs/observability.md run as printed, twice in a row."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("langgraph.store.base", reason="the examples need langgraph and langchain-core (extra 'test')")
pytest.importorskip("opentelemetry.sdk", reason="the observability example needs opentelemetry-sdk (extra 'test')")

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = [
    (page, index, block)
    for page in ("integrations.md", "observability.md")
    for index, block in enumerate(re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S))
]


@pytest.mark.parametrize(("page", "index", "code"), EXAMPLES, ids=[f"{p}-{i}" for p, i, _ in EXAMPLES])
def test_example_runs_twice(page: str, index: int, code: str, tmp_path: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for _ in range(2):
        completed = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=environment
        )
        assert completed.returncode == 0, f"{page} example {index}:\n{completed.stderr}"
    if page == "integrations.md" and "query=" in code:
        assert "['coffee']" in completed.stdout
    if page == "observability.md" and "ConsoleSpanExporter" in code:
        assert '"db.operation.name": "set"' in completed.stdout
