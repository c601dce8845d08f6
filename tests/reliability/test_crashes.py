"""Crashes: a writer process SIGKILLed at random moments, 50 times, on sqlite, json and the memory snapshot.

After every kill the store is opened again (by the test, then by the next writer) and checked:

- it opens, and every file it keeps is whole;
- every write acknowledged before the kill is there, and every acknowledged delete stuck;
- nothing is half-written: a batch of messages is all there or not at all, every message's
  content is exactly what was sent, a state value or hash is one that was written.

Most kills land while the writer runs (after 1 to 60 acknowledged writes plus a random
pause of up to 5 ms); every fifth kill lands at a random moment of the writer's first
half second, while it imports, opens the store or replays the journal. The conversation
writer is ``tests/conversation/_processes.py`` (mode ``mixed``: single messages, batches of
three, session updates and deletes).
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence._values import load_json
from praisonai.persistence.conversation.base import ConversationMessage
from praisonai.persistence.registry import STATE_STORES
from tests.conversation._processes import _start

from .conftest import Figures, Opener

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

KILLS = 50
EARLY_EVERY = 5  # every fifth kill lands during start-up
SESSION = "crash"


@dataclass
class Acknowledged:
    added: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    in_flight_deletes: set[str] = field(default_factory=set)
    batches: list[frozenset[str]] = field(default_factory=list)
    lines: int = 0

    def record(self, line: str) -> None:
        if not line.endswith("\n"):
            return  # cut off by the kill: not acknowledged
        kind, _, value = line.strip().partition(" ")
        self.lines += 1
        if kind == "ack":
            self.added.add(value)
        elif kind == "batching":
            self.batches.append(frozenset(value.split()))
        elif kind == "deleting":
            self.in_flight_deletes.add(value)
        elif kind == "del":
            self.deleted.add(value)
            self.in_flight_deletes.discard(value)


def _kill(process: subprocess.Popen[str], acknowledged: Acknowledged) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.stdout is not None
    for line in process.stdout:
        acknowledged.record(line)
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL, f"the writer exited by itself ({process.returncode})"


# The writer's contents: f"{tag}-{step}" * 40 for single messages, f"{tag}-{step}-{part}" * 50 in batches,
# and created_at == step.
_SINGLE = re.compile(r"(r\d\d-(\d+))\1{39}")
_BATCHED = re.compile(r"(r\d\d-(\d+)-([012]))\1{49}")


def _check_messages(messages: list[ConversationMessage], acknowledged: Acknowledged) -> None:
    ids = [message.id for message in messages]
    assert len(ids) == len(set(ids)), "a message is stored twice"
    stored = set(ids)
    missing = acknowledged.added - acknowledged.deleted - acknowledged.in_flight_deletes - stored
    assert not missing, f"{len(missing)} acknowledged message(s) lost"
    assert not (acknowledged.deleted & stored), "an acknowledged delete did not stick"
    for message in messages:
        match = _SINGLE.fullmatch(message.content) or _BATCHED.fullmatch(message.content)
        assert match is not None, f"half-written content: {message.content[:60]!r}..."
        assert float(match[2]) == message.created_at
    deleted = acknowledged.deleted | acknowledged.in_flight_deletes
    for batch in acknowledged.batches:
        # All of a batch or none of it (less what the writer deleted afterwards), even when the kill hit it.
        present = batch & stored
        assert not present or present | (batch & deleted) == batch, "a batch is stored in part"


def _check_files(root: Path) -> int:
    """Every file of a json store parses (a torn last line of a log is allowed: it is never acknowledged)."""
    count = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name == ".lock" or path.name.startswith(".tmp-"):
            continue
        count += 1
        data = path.read_bytes()
        if path.suffix == ".json":
            load_json(data)
        elif path.suffix == ".jsonl":
            lines = data.split(b"\n")
            for line in lines[:-1]:
                load_json(line)
    return count


CONVERSATION_CRASH_BACKENDS = ["sqlite", "json"]


@pytest.mark.parametrize(
    ("backend", "mode"),
    [
        ("sqlite", "mixed"),
        # Four writer threads: their commits are grouped (json's single-threaded writer is killed in test_json.py).
        *((backend, "mixed-threads") for backend in CONVERSATION_CRASH_BACKENDS),
    ],
)
def test_sigkilled_conversation_writer_loses_nothing(
    backend: str, mode: str, open_conversation: Callable[[str], Opener], figures: Figures
) -> None:
    opener = open_conversation(backend)
    rng = random.Random(20_240_601)
    acknowledged = Acknowledged()
    early = 0
    started = time.monotonic()
    for round_index in range(KILLS):
        process = _start(backend, opener.options, mode, SESSION, f"r{round_index:02d}", 0, stderr=subprocess.DEVNULL)
        assert process.stdout is not None
        if round_index % EARLY_EVERY == 0:
            early += 1
            time.sleep(rng.random() * 0.5)
        else:
            assert process.stdout.readline() == "ready\n"
            for _ in range(rng.randint(1, 60)):
                acknowledged.record(process.stdout.readline())
            time.sleep(rng.random() * 0.005)
        _kill(process, acknowledged)
        store = opener()  # it always opens
        try:
            messages = store.get_messages(SESSION) if store.get_session(SESSION) is not None else []
            _check_messages(messages, acknowledged)
        finally:
            store.close()
        if backend == "json":
            _check_files(Path(opener.options["path"]))
    elapsed = time.monotonic() - started
    assert len(acknowledged.added) > KILLS  # the writers did get work done between the kills
    store = opener()
    try:
        store.add_message(SESSION, ConversationMessage(role="user", content="after the crashes", created_at=1e12))
        assert store.get_messages(SESSION, limit=1)[0].content == "after the crashes"
        stored = len(store.get_messages(SESSION))
    finally:
        store.close()
    figures.record(
        "sigkill",
        backend if mode == "mixed" else f"{backend} ({mode})",
        kills=KILLS,
        kills_during_startup=early,
        acknowledged_adds=len(acknowledged.added),
        acknowledged_deletes=len(acknowledged.deleted),
        messages_at_end=stored,
        lost=0,
        seconds=elapsed,
    )


# -- memory state with a snapshot file -------------------------------------------------------------------------

STATE_WRITER = textwrap.dedent(
    """
    import json, random, sys
    from praisonai.persistence.state.config import MemoryStateConfig
    from praisonai.persistence.state.memory import MemoryStateStore

    store = MemoryStateStore(MemoryStateConfig(snapshot_path=sys.argv[1], compact_every=7))
    rng = random.Random(int(sys.argv[2]))
    print("ready", flush=True)
    step = 0
    while True:
        step += 1
        key, roll = f"k{rng.randint(0, 29)}", rng.random()
        hash_key, field = f"h{rng.randint(0, 5)}", f"f{rng.randint(0, 4)}"
        if roll < 0.35:
            op = ["set", key, {"step": step, "pad": "x" * rng.randint(0, 400)}]
        elif roll < 0.45:
            op = ["set_ttl", key, [step], 100000]
        elif roll < 0.60:
            op = ["hset", hash_key, field, step]
        elif roll < 0.68:
            op = ["hdel", hash_key, field]
        elif roll < 0.78:
            op = ["delete", key]
        elif roll < 0.88:
            op = ["expire", key, 100000]
        else:
            op = ["set_many", {f"m{rng.randint(0, 19)}": step for _ in range(3)}]
        print("op", json.dumps(op), flush=True)
        name = op[0]
        if name == "set":
            store.set(op[1], op[2])
        elif name == "set_ttl":
            store.set(op[1], op[2], ttl=op[3])
        elif name == "hset":
            store.hset(op[1], op[2], op[3])
        elif name == "hdel":
            store.hdel(op[1], op[2])
        elif name == "delete":
            store.delete(op[1])
        elif name == "expire":
            store.expire(op[1], op[2])
        else:
            store.set_many(op[1])
        print("ack", flush=True)
    """
)

_Absent = ("absent",)


class StateModel:
    """What a sequential store holds after the acknowledged operations: key -> (kind, value, has_ttl)."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, Any, bool]] = {}

    def apply(self, op: list[Any]) -> None:
        name = op[0]
        if name == "set":
            self.items[op[1]] = ("v", op[2], False)
        elif name == "set_ttl":
            self.items[op[1]] = ("v", op[2], True)
        elif name == "hset":
            kind, fields, has_ttl = self.items.get(op[1], ("h", {}, False))
            if kind != "h":
                raise AssertionError(f"the writer used {op[1]} as a hash and a value")
            self.items[op[1]] = ("h", {**fields, op[2]: op[3]}, has_ttl)
        elif name == "hdel":
            item = self.items.get(op[1])
            if item is not None:
                fields = {name: value for name, value in item[1].items() if name != op[2]}
                if fields:
                    self.items[op[1]] = ("h", fields, item[2])
                else:
                    del self.items[op[1]]
        elif name == "delete":
            self.items.pop(op[1], None)
        elif name == "expire":
            item = self.items.get(op[1])
            if item is not None:
                self.items[op[1]] = (item[0], item[1], True)
        else:
            for key, value in op[1].items():
                self.items[key] = ("v", value, False)

    @staticmethod
    def keys_of(op: list[Any]) -> list[str]:
        return list(op[1]) if op[0] == "set_many" else [op[1]]


def _observed(store: Any, key: str) -> tuple[str, Any, bool] | tuple[str]:
    if not store.exists(key):
        return _Absent
    ttl = store.ttl(key)
    if key.startswith("h"):
        return ("h", store.hgetall(key), ttl is not None)
    return ("v", store.get(key), ttl is not None)


def test_sigkilled_memory_snapshot_writer_loses_nothing(tmp_path: Path, figures: Figures) -> None:
    snapshot = tmp_path / "state.json"
    rng = random.Random(424_242)
    model = StateModel()
    acknowledged_ops = early = 0
    started = time.monotonic()
    for round_index in range(KILLS):
        process = subprocess.Popen(
            [sys.executable, "-c", STATE_WRITER, str(snapshot), str(round_index)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        lines: list[str] = []
        if round_index % EARLY_EVERY == 0:
            early += 1
            time.sleep(rng.random() * 0.5)
        else:
            assert process.stdout.readline() == "ready\n"
            for _ in range(rng.randint(2, 120)):
                lines.append(process.stdout.readline())
            time.sleep(rng.random() * 0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        lines.extend(process.stdout)
        process.stdout.close()
        assert process.returncode == -signal.SIGKILL
        in_flight: list[Any] | None = None
        for line in lines:
            if not line.endswith("\n"):
                break  # cut off by the kill
            if line.startswith("op "):
                in_flight = json.loads(line[3:])
            elif line == "ack\n":
                assert in_flight is not None
                model.apply(in_flight)
                acknowledged_ops += 1
                in_flight = None
        # Either outcome of the operation in flight is fine; nothing else may differ.
        after = StateModel()
        after.items = dict(model.items)
        uncertain: set[str] = set()
        if in_flight is not None:
            after.apply(in_flight)
            uncertain = set(StateModel.keys_of(in_flight))
        store = STATE_STORES.create("memory", snapshot_path=str(snapshot))  # it always opens
        try:
            stored_keys = set(store.keys())
            assert stored_keys - uncertain == set(model.items) - uncertain
            for key in stored_keys | set(model.items):
                seen = _observed(store, key)
                before = model.items.get(key, _Absent)
                if key in uncertain:
                    assert seen in (before, after.items.get(key, _Absent)), (key, seen)
                else:
                    assert seen == before, (key, seen, before)
            if in_flight is not None:
                # Learn the in-flight operation's outcome; a set_many is all or nothing.
                applied = {
                    key
                    for key in uncertain
                    if model.items.get(key, _Absent) != after.items.get(key, _Absent)
                    and _observed(store, key) == after.items.get(key, _Absent)
                }
                changed = {key for key in uncertain if model.items.get(key, _Absent) != after.items.get(key, _Absent)}
                if in_flight[0] == "set_many":
                    assert applied in (set(), changed), "a set_many was applied in part"
                for key in applied:
                    if key in after.items:
                        model.items[key] = after.items[key]
                    else:
                        model.items.pop(key, None)
        finally:
            store.close()
        if snapshot.exists():
            load_json(snapshot.read_bytes())  # the snapshot is always whole
    elapsed = time.monotonic() - started
    assert acknowledged_ops > KILLS
    figures.record(
        "sigkill",
        "memory (snapshot file)",
        kills=KILLS,
        kills_during_startup=early,
        acknowledged_operations=acknowledged_ops,
        keys_at_end=len(model.items),
        lost=0,
        seconds=elapsed,
    )
