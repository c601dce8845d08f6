"""The memory state store's journal, replayed after a crash, rebuilds exactly the acknowledged state.

A differential test: random workloads (values with and without TTLs, hashes, deletes,
expiries, batches, the clock moving on) run on a store with a snapshot file; the store
then "crashes" (its journal is closed without the compaction ``close()`` does, as a
SIGKILL leaves it) and is opened again. Everything a read of the live store answered
just before the crash must be what the reopened store answers. The clock is the
memory module's, replaced by a counter the test moves, so expiries are exact and the
test never sleeps. ``test_crashes.py`` kills real processes; this checks replay itself.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from praisonai.persistence.errors import WrongTypeError
from praisonai.persistence.registry import STATE_STORES
from praisonai.persistence.state import memory as memory_module

from .conftest import Figures

pytestmark = pytest.mark.reliability

KEYS = ["a", "h"]
FIELDS = ["f", "g"]


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


_key = st.sampled_from(KEYS)
_value = st.one_of(st.integers(-5, 5), st.text(max_size=3), st.none())
_ttl = st.sampled_from([0.5, 1.0, 2.0, 5.0])
OPERATIONS = st.one_of(
    st.tuples(st.just("set"), _key, _value, st.one_of(st.none(), _ttl)),
    st.tuples(st.just("hset"), _key, st.sampled_from(FIELDS), _value),
    st.tuples(st.just("hdel"), _key, st.sampled_from(FIELDS)),
    st.tuples(st.just("delete"), _key),
    st.tuples(st.just("expire"), _key, _ttl),
    st.tuples(st.just("set_many"), st.lists(_key, min_size=1, max_size=2, unique=True), _value, st.none() | _ttl),
    st.tuples(st.just("tick"), st.sampled_from([0.25, 1.0, 3.0])),
)


def _apply(store: Any, clock: _Clock, operation: tuple[Any, ...]) -> None:
    name, *args = operation
    try:
        if name == "tick":
            clock.now += args[0]
        elif name == "set":
            store.set(args[0], args[1], ttl=args[2])
        elif name == "hset":
            store.hset(*args)
        elif name == "hdel":
            store.hdel(*args)
        elif name == "delete":
            store.delete(args[0])
        elif name == "expire":
            store.expire(*args)
        else:
            store.set_many(dict.fromkeys(args[0], args[1]), ttl=args[2])
    except WrongTypeError:
        pass  # a hash command on a value or the reverse: refused, nothing changed


def _observe(store: Any) -> dict[str, Any]:
    """Everything a caller can read: each live key's value or hash, and its TTL."""
    seen: dict[str, Any] = {}
    for key in store.keys("*"):
        try:
            content: Any = ("value", store.get(key))
        except WrongTypeError:
            content = ("hash", store.hgetall(key))
        seen[key] = (content, store.ttl(key))
    return seen


def _crash(store: Any) -> None:
    """What a SIGKILL leaves: the journal as written, no compaction, the file lock released."""
    journal = store._journal
    store._journal = None
    store._closed = True
    journal.close()


_runs = itertools.count()


@settings(
    max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(workload=st.lists(OPERATIONS, min_size=1, max_size=30), compact_every=st.sampled_from([3, 1000]))
def test_replay_rebuilds_what_the_live_store_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workload: list[tuple[Any, ...]], compact_every: int
) -> None:
    clock = _Clock()
    monkeypatch.setattr(memory_module, "time", clock)
    snapshot = tmp_path / f"run-{next(_runs)}" / "state.json"
    options = {"snapshot_path": str(snapshot), "compact_every": compact_every, "fsync": False}
    live = STATE_STORES.create("memory", **options)
    for operation in workload:
        _apply(live, clock, operation)
    expected = _observe(live)
    _crash(live)
    reopened = STATE_STORES.create("memory", **options)
    try:
        assert _observe(reopened) == expected
    finally:
        reopened.close()


def test_a_hash_created_again_after_it_expired_survives_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    # The case: the expired hash's fields came back, or the new hash was lost.
    clock = _Clock()
    monkeypatch.setattr(memory_module, "time", clock)
    options = {"snapshot_path": str(tmp_path / "state.json"), "fsync": False}
    store = STATE_STORES.create("memory", **options)
    store.hset("h", "old", 1)
    store.expire("h", 1.0)
    clock.now += 2.0
    store.hset("h", "new", 2)
    assert store.hgetall("h") == {"new": 2} and store.ttl("h") is None
    _crash(store)
    reopened = STATE_STORES.create("memory", **options)
    assert reopened.hgetall("h") == {"new": 2}
    assert reopened.ttl("h") is None
    reopened.close()
    figures.record("journal replay", "memory", workloads=300, max_operations=30)
