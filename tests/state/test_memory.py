"""memory: the state contract suite, with and without a snapshot file, plus crash-safety checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from praisonai.persistence.errors import StoreError
from praisonai.persistence.registry import STATE_STORES
from praisonai.persistence.state.base import StateStore
from praisonai.persistence.state.config import MemoryStateConfig
from praisonai.persistence.state.memory import MemoryStateStore
from praisonai.persistence.testing import StateStoreContract


class TestMemoryContract(StateStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[StateStore]:
        store = STATE_STORES.create("memory")
        yield store
        store.close()


class TestMemorySnapshotContract(StateStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[StateStore]:
        store = STATE_STORES.create("memory", snapshot_path=str(tmp_path / "state.json"), compact_every=50)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], StateStore]:
        return lambda: STATE_STORES.create("memory", url=f"memory:///{tmp_path / 'state.json'}")


def test_journal_replays_without_a_clean_close(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = MemoryStateStore(MemoryStateConfig(snapshot_path=str(path)))
    store.set("a", 1)
    store.hset("h", "f", "v")
    store.delete("a")
    store.set("b", [2])
    # Simulate a crash: drop the journal handle without compacting.
    assert store._journal is not None
    store._journal.close()
    store._journal = None
    store._closed = True
    reopened = MemoryStateStore(MemoryStateConfig(snapshot_path=str(path)))
    assert reopened.get("a") is None
    assert reopened.get("b") == [2]
    assert reopened.hgetall("h") == {"f": "v"}
    reopened.close()


def test_torn_last_journal_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = MemoryStateStore(MemoryStateConfig(snapshot_path=str(path)))
    store.set("kept", "yes")
    assert store._journal is not None
    store._journal.write('["set","torn","\\"')  # a crash in the middle of an append
    store._journal.flush()
    store._journal.close()
    store._journal = None
    store._closed = True
    reopened = MemoryStateStore(MemoryStateConfig(snapshot_path=str(path)))
    assert reopened.keys() == ["kept"]
    reopened.close()


def test_second_process_cannot_share_the_snapshot(tmp_path: Path) -> None:
    path = str(tmp_path / "state.json")
    store = MemoryStateStore(MemoryStateConfig(snapshot_path=path))
    code = f"from praisonai.persistence.state.memory import MemoryStateStore as S; from praisonai.persistence.state.config import MemoryStateConfig as C; S(C(snapshot_path={path!r}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "in use by another process" in result.stderr
    store.close()


def test_save_snapshot_requires_a_path() -> None:
    store = MemoryStateStore()
    with pytest.raises(StoreError, match="snapshot_path"):
        store.save_snapshot()


@pytest.mark.slow
def test_sigkill_never_loses_an_acknowledged_write(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    writer = textwrap.dedent(
        f"""
        import sys
        from praisonai.persistence.state.config import MemoryStateConfig
        from praisonai.persistence.state.memory import MemoryStateStore
        store = MemoryStateStore(MemoryStateConfig(snapshot_path={str(path)!r}, compact_every=37, fsync=False))
        start = int(sys.argv[1])
        for index in range(start, start + 100000):
            store.set(f"k{{index}}", index)
            print(index, flush=True)
        """
    )
    acknowledged: list[int] = []
    start = 0
    for _round in range(5):
        process = subprocess.Popen([sys.executable, "-c", writer, str(start)], stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        for _ in range(150 + 37 * _round):
            acknowledged.append(int(process.stdout.readline()))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        start = acknowledged[-1] + 1
        store = MemoryStateStore(MemoryStateConfig(snapshot_path=str(path)))
        missing = [index for index in acknowledged if store.get(f"k{index}") != index]
        store.close()
        assert missing == []


def test_a_crash_keeps_all_of_a_set_many_or_none(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = MemoryStateStore(MemoryStateConfig(snapshot_path=str(path)))
    store.set("kept", 1)
    store.set_many({"a": 1, "b": 2, "c": 3})
    assert store._journal is not None
    journal = path.with_name(path.name + ".journal")
    lines = journal.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2  # the whole batch is one entry
    store.set_many({"d": 4, "e": 5})
    store._journal.close()
    store._journal = None
    store._closed = True
    # A crash in the middle of appending the second batch: the torn entry is ignored whole.
    text = journal.read_text(encoding="utf-8")
    journal.write_text(text[: text.rindex('"e"')], encoding="utf-8")
    reopened = MemoryStateStore(MemoryStateConfig(snapshot_path=str(path)))
    assert reopened.get_many(["kept", "a", "b", "c", "d", "e"]) == {"kept": 1, "a": 1, "b": 2, "c": 3}
    reopened.close()
