"""Importing the package and its registry loads no driver, no pydantic and reads no metadata."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from praisonai.persistence._catalogue import BUILTINS

DRIVERS = sorted({driver.split(".")[0] for backend in BUILTINS for driver in backend.drivers})
FORBIDDEN = ["pydantic", "pydantic_core", "importlib.metadata", "importlib_metadata", "sqlite3", *DRIVERS]


@pytest.mark.parametrize(
    "statement",
    [
        "import praisonai.persistence",
        "import praisonai.persistence.registry",
        "from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES",
        "from praisonai.persistence import CONVERSATION_STORES, ConversationSession, StateStore",
    ],
)
def test_import_loads_nothing_heavy(statement: str) -> None:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    )
    assert sorted(name for name in FORBIDDEN if name in loaded) == []


def test_creating_a_builtin_imports_only_its_own_driver() -> None:
    # Built-in names never trigger entry-point discovery (asserted in the child).
    code = (
        "import sys, json\n"
        "from praisonai.persistence.registry import STATE_STORES, CONVERSATION_STORES\n"
        "STATE_STORES.create('memory').close()\n"
        "CONVERSATION_STORES.create('sqlite', path=':memory:').close()\n"
        "assert not STATE_STORES._discovered and not CONVERSATION_STORES._discovered\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    )
    assert "pydantic" in loaded and "sqlite3" in loaded
    assert sorted(driver for driver in DRIVERS if driver in loaded) == []
