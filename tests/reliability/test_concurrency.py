"""Concurrency: many writers at once lose nothing, duplicate nothing and keep each writer's order.

- 16 threads x 2,000 ``add_message`` into 8 sessions (two writers per session) on sqlite,
  json, postgres and mysql; 16 asyncio tasks x 2,000 on async_sqlite, async_postgres and
  async_mysql: exactly 32,000 messages, every id once, each writer's messages in its order.
- 4 processes x 2,000 into one session on sqlite and json: the same, 8,000 messages.
- 16 threads of set / get / expire / delete / hset on memory (with and without a snapshot
  file) and redis: every answer agrees with a sequential model of each thread's own keys,
  shared keys end with some thread's last write, and no field of a shared hash is lost.

Every message carries ``created_at=1.0``: equal timestamps keep insertion order, so the
order a reader sees is the order the store committed, nothing else.
"""

from __future__ import annotations

import asyncio
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.registry import STATE_STORES
from praisonai.persistence.state.base import StateStore
from tests.conversation._processes import run_writers
from tests.support.emulators import require_driver

from .conftest import Figures, Opener

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

WRITERS, PER_WRITER, SESSIONS = 16, 2_000, 8
PROCESSES, PER_PROCESS = 4, 2_000


def _content(writer: int, index: int) -> str:
    return f"w{writer:02d}-{index:05d}"


def _session(writer: int) -> str:
    return f"s{writer % SESSIONS}"


def _check(stored: dict[str, list[ConversationMessage]], acknowledged: list[list[str]]) -> int:
    """Exactly the acknowledged messages, each once, in its own session, in its writer's order."""
    every_id = [message.id for messages in stored.values() for message in messages]
    assert len(every_id) == WRITERS * PER_WRITER
    assert len(set(every_id)) == len(every_id), "a message was stored twice"
    assert set(every_id) == {message_id for ids in acknowledged for message_id in ids}
    for session_id, messages in stored.items():
        assert all(message.session_id == session_id for message in messages)
    for writer in range(WRITERS):
        prefix = f"w{writer:02d}-"
        mine = [message.content for message in stored[_session(writer)] if message.content.startswith(prefix)]
        assert mine == [_content(writer, index) for index in range(PER_WRITER)], f"writer {writer} out of order"
    return len(every_id)


# -- threads ---------------------------------------------------------------------------------------------------

# json skips fsync here (durable=False; every other behaviour is the same): with fsync, 32,000
# appends take minutes on this disk, and durability is what the crash tests check.
THREAD_BACKENDS: dict[str, dict[str, Any]] = {
    "sqlite": {},
    "json": {"durable": False},
    "postgres": {"pool_size": 8},
    "mysql": {"pool_size": 8},
}


@pytest.mark.parametrize("backend", list(THREAD_BACKENDS))
def test_threads_lose_nothing(backend: str, open_conversation: Callable[[str], Opener], figures: Figures) -> None:
    store = open_conversation(backend)(**THREAD_BACKENDS[backend])
    try:
        for index in range(SESSIONS):
            store.create_session(ConversationSession(session_id=f"s{index}"))
        acknowledged: list[list[str]] = [[] for _ in range(WRITERS)]
        errors: list[BaseException] = []
        barrier = threading.Barrier(WRITERS)

        def write(writer: int) -> None:
            barrier.wait()
            try:
                for index in range(PER_WRITER):
                    message = ConversationMessage(role="user", content=_content(writer, index), created_at=1.0)
                    store.add_message(_session(writer), message)
                    acknowledged[writer].append(message.id)
            except BaseException as error:
                errors.append(error)

        started = time.monotonic()
        threads = [threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        assert errors == []
        stored = {f"s{index}": store.get_messages(f"s{index}") for index in range(SESSIONS)}
        count = _check(stored, acknowledged)
    finally:
        store.close()
    figures.record("threads", backend, writers=WRITERS, writes=WRITERS * PER_WRITER, stored=count, seconds=elapsed)


# -- asyncio tasks -----------------------------------------------------------------------------------------------

TASK_BACKENDS: dict[str, dict[str, Any]] = {
    "async_sqlite": {},
    "async_postgres": {"pool_size": 8},
    "async_mysql": {"pool_size": 8},
}


@pytest.mark.parametrize("backend", list(TASK_BACKENDS))
def test_tasks_lose_nothing(backend: str, open_conversation: Callable[[str], Opener], figures: Figures) -> None:
    store = open_conversation(backend)(**TASK_BACKENDS[backend])

    async def scenario() -> tuple[dict[str, list[ConversationMessage]], list[list[str]], float]:
        try:
            for index in range(SESSIONS):
                await store.create_session(ConversationSession(session_id=f"s{index}"))
            acknowledged: list[list[str]] = [[] for _ in range(WRITERS)]

            async def write(writer: int) -> None:
                for index in range(PER_WRITER):
                    message = ConversationMessage(role="user", content=_content(writer, index), created_at=1.0)
                    await store.add_message(_session(writer), message)
                    acknowledged[writer].append(message.id)

            started = time.monotonic()
            await asyncio.gather(*(write(writer) for writer in range(WRITERS)))
            elapsed = time.monotonic() - started
            stored = {f"s{index}": await store.get_messages(f"s{index}") for index in range(SESSIONS)}
            return stored, acknowledged, elapsed
        finally:
            await store.close()

    stored, acknowledged, elapsed = asyncio.run(scenario())
    count = _check(stored, acknowledged)
    figures.record("tasks", backend, writers=WRITERS, writes=WRITERS * PER_WRITER, stored=count, seconds=elapsed)


# -- processes ---------------------------------------------------------------------------------------------------

# A writer waits up to busy_timeout for another process's write lock: under a disk-heavy neighbour the
# default 5 s was once exceeded (a clear BackendUnavailableError, but not this test's subject).
PROCESS_BACKENDS: dict[str, dict[str, Any]] = {"sqlite": {"busy_timeout": 60.0}, "json": {"durable": False}}


@pytest.mark.parametrize("backend", list(PROCESS_BACKENDS))
def test_processes_lose_nothing(backend: str, open_conversation: Callable[[str], Opener], figures: Figures) -> None:
    opener = open_conversation(backend)
    options = {**opener.options, **PROCESS_BACKENDS[backend]}
    started = time.monotonic()
    acknowledged = run_writers(backend, options, "shared", writers=PROCESSES, count=PER_PROCESS, timeout=600)
    elapsed = time.monotonic() - started
    store = opener(**PROCESS_BACKENDS[backend])
    try:
        messages = store.get_messages("shared")
    finally:
        store.close()
    ids = [message.id for message in messages]
    assert len(ids) == PROCESSES * PER_PROCESS
    assert len(set(ids)) == len(ids)
    assert set(ids) == {message_id for acked in acknowledged for message_id in acked}
    for writer in range(PROCESSES):
        mine = [message.content for message in messages if message.content.startswith(f"p{writer}-")]
        assert mine == [f"p{writer}-{index:05d}" for index in range(PER_PROCESS)], f"process {writer} out of order"
    figures.record(
        "processes", backend, writers=PROCESSES, writes=PROCESSES * PER_PROCESS, stored=len(ids), seconds=elapsed
    )


# -- state: threads against a sequential model -----------------------------------------------------------------

STATE_THREADS, STATE_OPS = 16, 1_000
PRIVATE_KEYS, SHARED_KEYS = 6, 4
SHORT_TTL = 0.15  # some keys expire while the threads run
# Redis reads its clock in whole milliseconds (truncated) when it sets an expiry, so a key set at
# `started` may expire up to 1 ms before `started + ttl`: a model window without this grain made the
# redis case fail, rarely, when a read fell in that millisecond.
CLOCK_GRAIN = 0.001


@dataclass
class _Entry:
    value: Any
    # The key expires somewhere in [earliest, latest]: the call that set the TTL started at
    # earliest - ttl and returned at latest - ttl.
    earliest: float | None = None
    latest: float | None = None


@dataclass
class _Model:
    """One thread's keys, as a sequential store would hold them."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    checked: int = 0

    def expect_present(self, key: str, started: float, returned: float) -> bool | None:
        """True or False when the model knows; None inside an expiry's uncertainty window."""
        entry = self.entries.get(key)
        if entry is None:
            return False
        if entry.earliest is None or entry.latest is None or returned < entry.earliest:
            return True
        if started > entry.latest:
            del self.entries[key]
            return False
        return None


def _state_worker(
    store: StateStore, thread: int, seed: int, model: _Model, shared_writes: dict[str, list[Any]]
) -> None:
    rng = random.Random(seed)
    keys = [f"t{thread}:k{index}" for index in range(PRIVATE_KEYS)]
    hash_key = f"t{thread}:h"
    hash_model: dict[str, int] = {}
    for step in range(STATE_OPS):
        key = rng.choice(keys)
        action = rng.random()
        started = time.time()
        if action < 0.25:
            value = {"t": thread, "step": step, "text": "ü" * rng.randint(0, 8)}
            ttl = rng.choice([None, None, None, 1000.0, SHORT_TTL])
            store.set(key, value, ttl=ttl)
            returned = time.time()
            expiry = (started + ttl - CLOCK_GRAIN, returned + ttl) if ttl is not None else (None, None)
            model.entries[key] = _Entry(value, *expiry)
        elif action < 0.50:
            got = store.get(key)
            returned = time.time()
            present = model.expect_present(key, started, returned)
            if present is True:
                assert got == model.entries[key].value, (key, step)
            elif present is False:
                assert got is None, (key, step)
            else:
                assert got is None or got == model.entries[key].value, (key, step)
            model.checked += 1
        elif action < 0.62:
            ttl = rng.choice([1000.0, SHORT_TTL])
            changed = store.expire(key, ttl)
            returned = time.time()
            present = model.expect_present(key, started, returned)
            if present is not None:
                assert changed is present, (key, step)
            if changed:
                model.entries[key].earliest, model.entries[key].latest = started + ttl - CLOCK_GRAIN, returned + ttl
            model.checked += 1
        elif action < 0.70:
            removed = store.delete(key)
            returned = time.time()
            present = model.expect_present(key, started, returned)
            if present is not None:
                assert removed is present, (key, step)
            model.entries.pop(key, None)
            model.checked += 1
        elif action < 0.78:
            got_ttl = store.ttl(key)
            returned = time.time()
            present = model.expect_present(key, started, returned)
            entry = model.entries.get(key)
            if present is True and entry is not None and entry.latest is None:
                assert got_ttl is None, (key, step)
            elif present is True and entry is not None and entry.latest is not None:
                assert got_ttl is not None and 1 <= got_ttl <= int(entry.latest - started) + 1, (key, got_ttl)
            elif present is False:
                assert got_ttl is None, (key, step)
            model.checked += 1
        elif action < 0.88:
            field_name = f"f{rng.randint(0, 4)}"
            store.hset(hash_key, field_name, step)
            hash_model[field_name] = step
            assert store.hgetall(hash_key) == hash_model, (hash_key, step)
            model.checked += 1
        else:
            shared = f"shared:k{rng.randint(0, SHARED_KEYS - 1)}"
            value = [thread, step]
            store.set(shared, value)
            shared_writes[shared].append(value)
            store.hset("shared:h", f"t{thread}", step)
            got = store.get(shared)
            assert isinstance(got, list) and len(got) == 2, got  # some thread's whole write, never a mix
    # Every key of this thread, one last time, against the model.
    for key in keys:
        started = time.time()
        got = store.get(key)
        present = model.expect_present(key, started, time.time())
        if present is True:
            assert got == model.entries[key].value, key
        elif present is False:
            assert got is None, key


def _state_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[StateStore, Callable[[], None]]:
    if backend == "memory":
        return STATE_STORES.create("memory"), lambda: None
    if backend == "memory_snapshot":
        return STATE_STORES.create("memory", snapshot_path=str(tmp_path / "state.json"), compact_every=97), lambda: None
    require_driver("redis", "redis")
    url = request.getfixturevalue("redis_url")
    prefix = f"reliability:{uuid.uuid4().hex}:"

    def drop() -> None:
        import redis

        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=prefix + "*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()

    return STATE_STORES.create("redis", url=url, key_prefix=prefix, max_connections=16), drop


@pytest.fixture
def state_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, StateStore]]:
    backend: str = request.param
    store, drop = _state_store(backend, tmp_path, request)
    yield backend, store
    store.close()
    drop()


@pytest.mark.parametrize("state_store", ["memory", "memory_snapshot", "redis"], indirect=True)
def test_state_threads_agree_with_a_sequential_model(
    state_store: tuple[str, StateStore], tmp_path: Path, figures: Figures
) -> None:
    backend, store = state_store
    models = [_Model() for _ in range(STATE_THREADS)]
    shared_writes: dict[str, list[Any]] = {f"shared:k{index}": [] for index in range(SHARED_KEYS)}
    per_thread_shared: list[dict[str, list[Any]]] = [{key: [] for key in shared_writes} for _ in range(STATE_THREADS)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(STATE_THREADS)

    def run(thread: int) -> None:
        barrier.wait()
        try:
            _state_worker(store, thread, 1000 + thread, models[thread], per_thread_shared[thread])
        except BaseException as error:
            errors.append(error)

    started = time.monotonic()
    # Switch threads every 10 microseconds rather than 5 ms, so that in-process stores interleave too.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=run, args=(thread,)) for thread in range(STATE_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    elapsed = time.monotonic() - started
    assert errors == [], errors[0]
    # A shared key ends with the last write of one of the threads that wrote it.
    for key in shared_writes:
        lasts = [writes[key][-1] for writes in per_thread_shared if writes[key]]
        if lasts:
            assert store.get(key) in lasts, key
    # No field of the shared hash is lost: each thread's field holds its own last write.
    last_steps = {}
    for thread, writes in enumerate(per_thread_shared):
        steps = [value[1] for values in writes.values() for value in values]
        if steps:
            last_steps[f"t{thread}"] = max(steps)
    assert store.hgetall("shared:h") == last_steps
    if backend == "memory_snapshot":
        # What the threads left is what a second store reads from the snapshot and journal.
        value_keys = [key for key in store.keys("*") if not key.endswith(":h") and key != "shared:h"]
        expected = {key: store.get(key) for key in value_keys}
        store.close()
        reopened = STATE_STORES.create("memory", snapshot_path=str(tmp_path / "state.json"))
        try:
            for key, value in expected.items():
                assert reopened.get(key) in (value, None), key  # None: expired meanwhile
            assert reopened.hgetall("shared:h") == last_steps
        finally:
            reopened.close()
    checked = sum(model.checked for model in models)
    figures.record(
        "state_threads",
        backend,
        threads=STATE_THREADS,
        operations=STATE_THREADS * STATE_OPS,
        checked_answers=checked,
        seconds=elapsed,
    )
