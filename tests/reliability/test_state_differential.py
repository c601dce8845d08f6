"""Every state backend against the memory reference (issue 15): one seeded workload of random
calls over a few colliding keys (values, hashes, batches, TTLs, globs, prefixes), run on the
backend and on a ``memory`` store side by side; every answer must be the reference's, and an
error the same class. TTLs are long (an hour) so that no answer depends on timing; remaining
TTLs are compared within 2 s."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import pytest

from praisonai.persistence.errors import PersistenceError
from praisonai.persistence.registry import STATE_STORES

from .conftest import Figures
from .test_hostile_input import (  # noqa: F401  (the state_under_test fixture)
    STATE_BACKENDS,
    StateUnderTest,
    _SyncState,
    state_under_test,
)

pytestmark = pytest.mark.reliability

CALLS = 150
VALUE_KEYS = ["a", "a:b", "a:c", "b", "b*", "x[1]", "é"]
HASH_KEYS = ["h:1", "h:2"]
FIELDS = ["f", "g", "ü"]
VALUES: list[Any] = ["123", 123, 1.5, -0.0, True, "", [1, "two", None], {"n": {"m": [2**60, 1e300]}}, "😀"]
PATTERNS = ["*", "a*", "a:?", "[ab]", "b\\*", "x\\[1]", "*:*", "[^a]*", "é"]
PREFIXES = ["a", "a:", "h:", "", "z"]


def _call(rng: random.Random) -> tuple[str, tuple[Any, ...]]:
    key, hash_key, field = rng.choice(VALUE_KEYS), rng.choice(HASH_KEYS), rng.choice(FIELDS)
    ttl = rng.choice([None, 3600.0])
    choices: list[tuple[str, tuple[Any, ...]]] = [
        ("set", (key, rng.choice(VALUES), ttl)),
        ("get", (key,)),
        ("delete", (key,)),
        ("exists", (key,)),
        ("ttl", (key,)),
        ("expire", (rng.choice([key, hash_key]), 3600.0)),
        ("keys", (rng.choice(PATTERNS),)),
        ("scan_prefix", (rng.choice(PREFIXES),)),
        ("hset", (hash_key, field, rng.choice(VALUES))),
        ("hget", (hash_key, field)),
        ("hgetall", (hash_key,)),
        ("hdel", (hash_key, *rng.sample(FIELDS, rng.randint(1, 2)))),
        ("get_many", (rng.sample(VALUE_KEYS, 3),)),
        ("set_many", ({k: rng.choice(VALUES) for k in rng.sample(VALUE_KEYS, 2)}, ttl)),
        ("set_json", (key, rng.choice(VALUES))),
        ("get_json", (key,)),
        ("get", (hash_key,)),  # a hash read as a value, and the reverse: the same error everywhere
        ("hget", (key, field)),
    ]
    return rng.choice(choices)


def _answer(store: Any, method: str, args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        result = getattr(store, method)(*args)
    except PersistenceError as error:
        return "error", type(error).__name__
    if method in ("keys", "scan_prefix"):
        result = sorted(result)
    return "ok", result


@pytest.mark.parametrize("state_under_test", list(STATE_BACKENDS), indirect=True)
def test_every_state_backend_answers_as_the_memory_reference(
    state_under_test: tuple[str, StateUnderTest],  # noqa: F811
    figures: Figures,
) -> None:
    backend, opened = state_under_test
    raw_store = opened.store
    store: Any = _SyncState(raw_store) if asyncio.iscoroutinefunction(raw_store.get) else raw_store
    reference = STATE_STORES.create("memory")
    rng = random.Random(15)
    with contextlib.closing(store), contextlib.closing(reference):
        for step in range(CALLS):
            method, args = _call(rng)
            expected, got = _answer(reference, method, args), _answer(store, method, args)
            if method == "ttl" and expected[0] == got[0] == "ok" and None not in (expected[1], got[1]):
                assert abs(expected[1] - got[1]) <= 2, (step, method, args, expected, got)
                continue
            assert got == expected, (step, method, args)
        for key in [*VALUE_KEYS, *HASH_KEYS]:  # what is left, key by key
            assert _answer(store, "get" if key in VALUE_KEYS else "hgetall", (key,)) == _answer(
                reference, "get" if key in VALUE_KEYS else "hgetall", (key,)
            ), key
        for key in store.keys("*"):
            store.delete(key)
    opened.check_canary()
    label = "memory (snapshot file)" if backend == "memory_snapshot" else raw_store.backend
    figures.record("state_differential", label, calls=CALLS)
