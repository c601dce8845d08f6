"""Contract suites for state stores: the semantics of ``state/base.py``.

``StateStoreContract`` for sync stores, ``AsyncStateStoreContract`` for asyncio
ones. TTL tests sleep for about a second in total.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

import pytest

from ..errors import WrongTypeError
from ..state.base import AsyncStateStore, StateStore
from ._support import StoreContractBase, reopener, run_async, run_in_threads

__all__ = ["AsyncStateStoreContract", "StateStoreContract"]

JSON_VALUES: list[Any] = [
    "123",
    123,
    -7,
    1.5,
    0.1,
    True,
    False,
    "",
    'ünïcødé 👋 "quoted" \\ *?[',
    [],
    {},
    [1, "two", None, {"three": [3.0]}],
    {"nested": {"list": [True, False], "n": None, "s": "x", "f": 2.25}},
    "x" * 100_000,
]
NOT_JSON: list[Any] = [object(), {1: "int key"}, {"set": {1, 2}}, b"bytes", float("nan"), float("inf"), [1, object()]]
GLOB_KEYS = [
    "user:1", "user:2", "user:10", "users", "admin:1", "a*b", "a?b", "[x]",
    "hat", "hot", "hit", "h\\t", "h]t", "h-t", "h^t", "\u00e9", "a\u00e9", "Z", "z",
]  # fmt: skip
# Redis's answers (checked against a Redis server by tests/state/test_glob.py): it matches
# UTF-8 bytes, so "?" is one byte and "\u00e9" needs "??".
GLOB_CASES: list[tuple[str, list[str]]] = [
    ("*", sorted(GLOB_KEYS)),
    ("user:*", ["user:1", "user:10", "user:2"]),
    ("user:?", ["user:1", "user:2"]),
    ("h[ao]t", ["hat", "hot"]),
    ("h[^a]t", ["h-t", "h\\t", "h]t", "h^t", "hit", "hot"]),
    ("h[a-i]t", ["hat", "hit"]),
    ("a\\*b", ["a*b"]),
    ("a\\?b", ["a?b"]),
    ("\\[x\\]", ["[x]"]),
    ("nothing*", []),
    ("users", ["users"]),
    ("h[\\]]t", ["h]t"]),  # an escape inside brackets
    ("h[^\\]a]t", ["h-t", "h\\t", "h^t", "hit", "hot"]),
    ("h[o-a]t", ["hat", "hit", "hot"]),  # a reversed range
    ("h[ao", []),  # an unclosed bracket ends with the pattern
    ("h[]t", []),  # an empty set
    ("h[-]t", ["h-t"]),
    ("??", ["\u00e9"]),  # two bytes
    ("a??", ["a*b", "a?b", "a\u00e9"]),
    ("[z-Z]", ["Z", "z"]),
    ("u*r:1?", ["user:10"]),
    ("*:*:*:*:*:*:*:*:nomatch", []),
]
TTL = 0.6  # seconds; long enough for slow servers, short enough for the suite
BAD_KEYS: list[Any] = ["", "x" * 1025, "nul\x00", 5, None]


class StateStoreContract(StoreContractBase[StateStore]):
    """Subclass with a ``store`` fixture yielding a fresh, empty StateStore."""

    protocol = StateStore
    wanted = "yield a fresh StateStore"

    @pytest.mark.parametrize("value", JSON_VALUES, ids=lambda value: type(value).__name__)
    def test_values_round_trip_with_their_type(self, store: StateStore, value: Any) -> None:
        store.set("k", value)
        got = store.get("k")
        assert got == value and type(got) is type(value)
        assert store.get_json("k") == value

    def test_missing_key(self, store: StateStore) -> None:
        assert store.get("missing") is None
        assert store.exists("missing") is False
        assert store.delete("missing") is False
        assert store.ttl("missing") is None
        assert store.expire("missing", 10) is False
        assert store.keys() == []

    def test_tuples_come_back_as_lists(self, store: StateStore) -> None:
        store.set("t", (1, 2, (3,)))
        assert store.get("t") == [1, 2, [3]]

    def test_set_overwrites_and_delete_removes(self, store: StateStore) -> None:
        store.set("k", "one")
        store.set("k", {"two": 2})
        assert store.get("k") == {"two": 2}
        assert store.exists("k") is True
        assert store.delete("k") is True
        assert store.exists("k") is False and store.get("k") is None

    def test_returned_values_are_copies(self, store: StateStore) -> None:
        value = {"list": [1]}
        store.set("k", value)
        value["list"].append(2)
        got = store.get("k")
        got["list"].append(3)
        assert store.get("k") == {"list": [1]}

    @pytest.mark.parametrize("value", NOT_JSON, ids=lambda value: type(value).__name__)
    def test_non_json_values_raise_type_error_and_keep_the_old_value(self, store: StateStore, value: Any) -> None:
        store.set("k", "kept")
        with pytest.raises(TypeError):
            store.set("k", value)
        with pytest.raises(TypeError):
            store.hset("h", "f", value)
        assert store.get("k") == "kept"
        assert store.exists("h") is False

    @pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
    def test_bad_keys_are_refused(self, store: StateStore, key: Any) -> None:
        with pytest.raises(ValueError):
            store.set(key, 1)
        with pytest.raises(ValueError):
            store.get(key)
        with pytest.raises(ValueError):
            store.hset("h", key, 1)
        assert store.keys() == []

    @pytest.mark.parametrize("ttl", [0, -1, float("nan"), "10", True])
    def test_bad_ttls_are_refused(self, store: StateStore, ttl: Any) -> None:
        with pytest.raises(ValueError):
            store.set("k", 1, ttl=ttl)
        assert store.exists("k") is False
        store.set("k", 1)
        with pytest.raises(ValueError):
            store.expire("k", ttl)
        assert store.ttl("k") is None

    def test_ttl_expiry_hides_the_key_from_every_read(self, store: StateStore) -> None:
        store.set("short", "v", ttl=TTL)
        store.set("long", "v", ttl=60)
        store.hset("hash", "f", 1)
        assert store.expire("hash", TTL) is True
        assert store.ttl("short") == 1 and store.ttl("hash") == 1
        assert 59 <= (store.ttl("long") or 0) <= 60
        assert store.get("short") == "v"
        time.sleep(TTL + 0.4)
        assert store.get("short") is None
        assert store.exists("short") is False
        assert store.ttl("short") is None
        assert store.keys() == ["long"]
        assert store.keys("sh*") == []
        assert store.scan_prefix("sh") == []
        assert store.get_many(["short", "long"]) == {"long": "v"}
        assert store.hget("hash", "f") is None
        assert store.hgetall("hash") == {}
        assert store.exists("hash") is False
        assert store.delete("short") is False
        assert store.expire("short", 10) is False

    def test_ttl_and_expire_agree(self, store: StateStore) -> None:
        store.set("k", 1)
        assert store.ttl("k") is None
        assert store.expire("k", 100) is True
        assert 99 <= (store.ttl("k") or 0) <= 100
        store.set("k", 2)  # a plain set clears the TTL
        assert store.ttl("k") is None
        store.set("k", 3, ttl=30)
        assert 29 <= (store.ttl("k") or 0) <= 30

    @pytest.mark.parametrize(("pattern", "expected"), GLOB_CASES)
    def test_keys_use_glob_semantics(self, store: StateStore, pattern: str, expected: list[str]) -> None:
        for key in GLOB_KEYS:
            store.set(key, key)
        assert store.keys(pattern) == expected

    def test_scan_prefix_matches_glob_characters_literally(self, store: StateStore) -> None:
        for key in ["a*:1", "a*:2", "ab:1", "a?:1", "b"]:
            store.set(key, 1)
        assert store.scan_prefix("a*:") == ["a*:1", "a*:2"]
        assert store.scan_prefix("a?") == ["a?:1"]
        assert store.scan_prefix("a") == ["a*:1", "a*:2", "a?:1", "ab:1"]

    def test_hashes(self, store: StateStore) -> None:
        assert store.hget("h", "f") is None
        assert store.hgetall("h") == {}
        store.hset("h", "count", 1)
        store.hset("h", "name", "123")
        store.hset("h", "data", {"list": [1, None]})
        store.hset("h", "count", 2)
        assert store.hget("h", "count") == 2
        assert store.hget("h", "name") == "123"
        assert store.hget("h", "missing") is None
        assert store.hgetall("h") == {"count": 2, "name": "123", "data": {"list": [1, None]}}
        assert store.exists("h") is True
        assert "h" in store.keys()  # noqa: SIM118 - keys() is the store method under test
        assert store.hdel("h", "count", "missing") == 1
        assert store.hdel("h") == 0
        assert store.hdel("h", "name", "data") == 2
        assert store.exists("h") is False
        assert store.hgetall("h") == {}

    def test_hash_fields_with_odd_names(self, store: StateStore) -> None:
        fields = ["$gt", "a.b", "__proto__", "ünï", "sp ace", "*"]
        for index, field in enumerate(fields):
            store.hset("odd", field, index)
        assert store.hgetall("odd") == {field: index for index, field in enumerate(fields)}
        assert store.hget("odd", "a.b") == 1

    def test_types_do_not_mix(self, store: StateStore) -> None:
        store.set("value", 1)
        store.hset("hash", "f", 1)
        with pytest.raises(WrongTypeError):
            store.hget("value", "f")
        with pytest.raises(WrongTypeError):
            store.hset("value", "f", 2)
        with pytest.raises(WrongTypeError):
            store.get("hash")
        assert store.get("value") == 1
        assert store.hgetall("hash") == {"f": 1}
        store.set("hash", "replaced")  # set replaces a key of either type
        assert store.get("hash") == "replaced"
        assert store.delete("value") is True

    def test_json_helpers(self, store: StateStore) -> None:
        store.set_json("j", {"a": [1, "2"]}, ttl=60)
        assert store.get_json("j") == {"a": [1, "2"]}
        assert store.get("j") == {"a": [1, "2"]}
        assert store.ttl("j") is not None

    def test_get_many_and_set_many(self, store: StateStore) -> None:
        store.set_many({"a": 1, "b": "2", "c": [3]})
        assert store.get_many(["a", "c", "missing"]) == {"a": 1, "c": [3]}
        assert store.get_many([]) == {}
        store.set_many({"t1": 1, "t2": 2}, ttl=60)
        assert store.ttl("t1") is not None and store.ttl("t2") is not None
        many = {f"bulk:{index:04d}": index for index in range(500)}
        store.set_many(many)
        assert store.get_many(list(many)) == many

    def test_set_many_with_a_bad_value_stores_nothing(self, store: StateStore) -> None:
        with pytest.raises(TypeError):
            store.set_many({"good": 1, "bad": object()})  # type: ignore[dict-item]
        assert store.exists("good") is False
        with pytest.raises(ValueError):
            store.set_many({"fine": 1, "": 2})
        assert store.exists("fine") is False

    def test_concurrent_writers_lose_nothing(self, store: StateStore) -> None:
        threads, per_thread = 8, 40

        def work(thread: int) -> None:
            for index in range(per_thread):
                store.set(f"t{thread}:{index}", [thread, index])
                store.hset(f"h{thread}", str(index), index)

        assert run_in_threads(work, threads) == []
        assert len(store.keys("t*")) == threads * per_thread
        for thread in range(threads):
            assert store.hgetall(f"h{thread}") == {str(index): index for index in range(per_thread)}
            assert store.get(f"t{thread}:{per_thread - 1}") == [thread, per_thread - 1]

    def test_context_manager_closes(self, store: StateStore) -> None:
        with store as entered:
            assert entered is store
            entered.set("k", 1)
        with pytest.raises(Exception):  # noqa: B017 - any error: the store is closed
            store.get("k")

    def test_reopen_reads_what_was_written(self, store: StateStore, reopen: Callable[[], StateStore] | None) -> None:
        open_second = reopener(reopen)
        store.set("plain", {"v": 1})
        store.set("expiring", "soon", ttl=TTL)
        store.set("lasting", "later", ttl=60)
        store.hset("hash", "f", "123")
        store.close()
        time.sleep(TTL + 0.2)
        with closing(open_second()) as second:
            assert second.get("plain") == {"v": 1}
            assert second.hget("hash", "f") == "123"
            assert second.get("expiring") is None
            assert second.get("lasting") == "later"
            assert second.keys() == ["hash", "lasting", "plain"]


class AsyncStateStoreContract(StoreContractBase[AsyncStateStore]):
    """Subclass with a synchronous ``store`` fixture returning a fresh, unconnected AsyncStateStore."""

    protocol = AsyncStateStore
    wanted = "return a fresh AsyncStateStore"

    @run_async
    async def test_values_round_trip_with_their_type(self, store: AsyncStateStore) -> None:
        for value in JSON_VALUES:
            await store.set("k", value)
            got = await store.get("k")
            assert got == value and type(got) is type(value)
        assert await store.get("missing") is None
        assert await store.exists("missing") is False

    @run_async
    async def test_non_json_and_bad_keys_are_refused(self, store: AsyncStateStore) -> None:
        await store.set("k", "kept")
        for value in NOT_JSON:
            with pytest.raises(TypeError):
                await store.set("k", value)
        for key in BAD_KEYS:
            with pytest.raises(ValueError):
                await store.set(key, 1)
        with pytest.raises(ValueError):
            await store.set("k", 1, ttl=0)
        assert await store.get("k") == "kept"

    @run_async
    async def test_ttl_expiry_and_agreement(self, store: AsyncStateStore) -> None:
        await store.set("short", "v", ttl=TTL)
        await store.set("k", 1)
        assert await store.ttl("k") is None
        assert await store.expire("k", 100) is True
        assert 99 <= (await store.ttl("k") or 0) <= 100
        assert await store.ttl("short") == 1
        await asyncio.sleep(TTL + 0.4)
        assert await store.get("short") is None
        assert await store.exists("short") is False
        assert await store.keys() == ["k"]
        assert await store.ttl("short") is None
        assert await store.expire("short", 5) is False

    @run_async
    async def test_keys_use_glob_semantics(self, store: AsyncStateStore) -> None:
        for key in GLOB_KEYS:
            await store.set(key, key)
        for pattern, expected in GLOB_CASES:
            assert await store.keys(pattern) == expected, pattern
        assert await store.scan_prefix("a*") == ["a*b"]

    @run_async
    async def test_hashes_and_types(self, store: AsyncStateStore) -> None:
        await store.hset("h", "a", 1)
        await store.hset("h", "$b.c", {"x": "123"})
        assert await store.hgetall("h") == {"a": 1, "$b.c": {"x": "123"}}
        assert await store.hget("h", "$b.c") == {"x": "123"}
        await store.set("v", 1)
        with pytest.raises(WrongTypeError):
            await store.get("h")
        with pytest.raises(WrongTypeError):
            await store.hget("v", "a")
        assert await store.hdel("h", "a", "zzz") == 1
        assert await store.hdel("h", "$b.c") == 1
        assert await store.exists("h") is False

    @run_async
    async def test_batches(self, store: AsyncStateStore) -> None:
        await store.set_many({"a": 1, "b": "2"}, ttl=60)
        assert await store.get_many(["a", "b", "c"]) == {"a": 1, "b": "2"}
        with pytest.raises(TypeError):
            await store.set_many({"good": 1, "bad": object()})  # type: ignore[dict-item]
        assert await store.exists("good") is False
        await store.set_json("j", [1, 2])
        assert await store.get_json("j") == [1, 2]

    @run_async
    async def test_concurrent_tasks_lose_nothing(self, store: AsyncStateStore) -> None:
        async def work(task: int) -> None:
            for index in range(20):
                await store.set(f"t{task}:{index}", index)
                await store.hset(f"h{task}", str(index), index)

        await asyncio.gather(*(work(task) for task in range(8)))
        assert len(await store.keys("t*")) == 160
        for task in range(8):
            assert await store.hgetall(f"h{task}") == {str(index): index for index in range(20)}

    @run_async
    async def test_context_manager_closes(self, store: AsyncStateStore) -> None:
        async with store as entered:
            await entered.set("k", 1)
        with pytest.raises(Exception):  # noqa: B017 - any error: the store is closed
            await store.get("k")
