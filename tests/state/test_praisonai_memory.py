"""PraisonAI 4.7.19's memory state file (``MemoryStateStore(path=...)``) opens as our snapshot.

tests/fixtures/praisonai_4_7_19/state/memory_state.json was written by PraisonAI itself;
each test works on a copy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from praisonai.persistence.errors import StoreError
from praisonai.persistence.registry import STATE_STORES
from praisonai.persistence.state import memory as memory_module
from tests.support.praisonai_fixtures import MANIFEST, copy_fixture


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return copy_fixture("state/memory_state.json", tmp_path)


def test_values_and_ttls_are_read_and_the_expired_key_is_gone(state_file: Path) -> None:
    written = json.loads(state_file.read_text())
    assert sorted(written["data"]) == MANIFEST["state"]["keys"]
    store = STATE_STORES.create("memory", snapshot_path=str(state_file))
    try:
        live = [key for key in MANIFEST["state"]["keys"] if key != "ttl:expired"]
        assert sorted(store.keys()) == live
        for key in live:
            assert store.get(key) == written["data"][key]
        assert store.get("ttl:expired") is None and not store.exists("ttl:expired")
        assert store.get("config") == '{"model": "gpt-4o", "temperature": 0.2}'  # set_json stored a string
        remaining = store.ttl("ttl:future")
        assert remaining is not None and remaining > 90 * 365 * 86400
        assert store.ttl("greeting") is None
    finally:
        store.close()
    # Rewritten in our format, and it reopens with the same content.
    assert "items" in json.loads(state_file.read_text())
    reopened = STATE_STORES.create("memory", snapshot_path=str(state_file))
    try:
        assert sorted(reopened.keys()) == live
        assert reopened.get("greeting") == "héllo wörld 👋"
    finally:
        reopened.close()


def test_a_failed_rewrite_leaves_praisonai_file_whole(state_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = state_file.read_bytes()

    def fails(path: Path, data: object, **options: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(memory_module, "write_atomically", fails)
    with pytest.raises(StoreError):
        STATE_STORES.create("memory", snapshot_path=str(state_file))
    assert state_file.read_bytes() == original


def test_a_bad_expiry_is_refused_with_the_key(state_file: Path) -> None:
    data = json.loads(state_file.read_text())
    data["ttls"]["counter"] = "soon"
    state_file.write_text(json.dumps(data))
    with pytest.raises(StoreError, match="counter"):
        STATE_STORES.create("memory", snapshot_path=str(state_file))
