"""LangGraph's BaseStore over our state stores. langgraph publishes no store test suite, so this one
follows its documentation point by point and runs the same operations on LangGraph's own InMemoryStore
(the reference implementation) wherever the documented results are the same."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("langgraph.store.base", reason="the LangGraph adapter's tests need langgraph (extra 'test')")

from langgraph.store.base import BaseStore, GetOp, InvalidNamespaceError, ListNamespacesOp, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore

from praisonai.persistence.errors import UsageError
from praisonai.persistence.integrations.langgraph import PersistenceStore
from praisonai.persistence.registry import EMBEDDERS, KNOWLEDGE_STORES, STATE_STORES

from ..state.conftest import mongodb_url  # noqa: F401 (a fixture)

DIMS = 16


def embed_texts(texts: list[str]) -> list[list[float]]:
    """Deterministic, distinct vectors: a text's words hashed into 16 dimensions."""
    vectors = []
    for text in texts:
        vector = [0.0] * DIMS
        for word in text.lower().split():
            digest = hashlib.sha256(word.encode()).digest()
            vector[digest[0] % DIMS] += 1.0 + digest[1] / 255.0
        vectors.append(vector)
    return vectors


def _redis_prefix(redis_url: str) -> Iterator[str]:
    import redis

    prefix = f"lg-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture(params=["memory", "redis"])
def state(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_url")
        for prefix in _redis_prefix(redis_url):
            store = STATE_STORES.create("redis", url=redis_url, key_prefix=prefix)
            yield store
            store.close()
    else:
        store = STATE_STORES.create("memory")
        yield store
        store.close()


def _item_view(item: Any) -> Any:
    return None if item is None else (item.namespace, item.key, json.dumps(item.value, sort_keys=True))


NAMESPACES = [
    ("users", "u1"),
    ("users", "u2"),
    ("users", "u1", "notes"),
    ("docs",),
    ("docs", "v2"),
    ("odd", "a/b", "*"),
]


def _workload(seed: int) -> list[PutOp]:
    rng = random.Random(seed)
    puts = []
    for i in range(60):
        namespace = rng.choice(NAMESPACES)
        value = {"n": rng.randint(0, 9), "tag": rng.choice(["a", "b"]), "nested": {"k": rng.choice([1, 2])}, "i": i}
        puts.append(PutOp(namespace, rng.choice(["k1", "k2", "k:3", "k/4", "[5]", "é6"]), value))
    return puts


FILTERS: list[dict[str, Any]] = [
    {},
    {"tag": "a"},
    {"nested": {"k": 2}},
    {"n": {"$gte": 5}},
    {"n": {"$gt": 2, "$lte": 7}, "tag": "b"},
    {"n": {"$ne": 3}},
    {"missing": 1},
]


def test_same_results_as_langgraphs_reference_store(state: Any) -> None:
    ours, reference = PersistenceStore(state), InMemoryStore()
    for store in (ours, reference):
        store.batch(_workload(7))
        store.delete(("docs",), "k1")
    for namespace in NAMESPACES:
        for key in ["k1", "k2", "k:3", "k/4", "[5]", "é6", "absent"]:
            assert _item_view(ours.get(namespace, key)) == _item_view(reference.get(namespace, key))
    for prefix in [("users",), ("users", "u1"), ("docs",), ("odd",), ("odd", "a/b"), ("nothing",)]:
        for filter_ in FILTERS:
            got = {_item_view(i) for i in ours.search(prefix, filter=filter_, limit=1000)}
            want = {_item_view(i) for i in reference.search(prefix, filter=filter_, limit=1000)}
            assert got == want, (prefix, filter_)
    for kwargs in [
        {},
        {"prefix": ("users",)},
        {"suffix": ("notes",)},
        {"prefix": ("users", "*", "notes")},
        {"prefix": ("*",), "max_depth": 1},
        {"max_depth": 2, "limit": 2, "offset": 1},
        {"prefix": ("odd", "a/b")},
    ]:
        assert ours.list_namespaces(**kwargs) == reference.list_namespaces(**kwargs), kwargs


def test_search_without_query_pages_newest_updates_first(state: Any) -> None:
    store = PersistenceStore(state)
    for i in range(5):
        store.put(("feed",), f"k{i}", {"i": i})
    store.put(("feed",), "k1", {"i": 10})  # updated last: first
    keys = [item.key for item in store.search(("feed",), limit=10)]
    assert keys[0] == "k1" and sorted(keys) == ["k0", "k1", "k2", "k3", "k4"]
    pages = [item.key for offset in range(0, 5, 2) for item in store.search(("feed",), limit=2, offset=offset)]
    assert pages == keys


def test_batch_reads_see_the_store_before_its_puts_and_the_last_put_wins(state: Any) -> None:
    store = PersistenceStore(state)
    store.put(("b",), "k", {"v": 0})
    results = store.batch(
        [
            PutOp(("b",), "k", {"v": 1}),
            GetOp(("b",), "k"),
            PutOp(("b",), "k", {"v": 2}),
            SearchOp(("b",)),
            ListNamespacesOp(),
            PutOp(("c",), "new", {"v": 3}),
        ]
    )
    assert results[0] is None and results[2] is None and results[5] is None
    assert results[1] is not None and results[1].value == {"v": 0}
    assert [item.value for item in results[3]] == [{"v": 0}]
    assert results[4] == [("b",)]
    assert store.get(("b",), "k").value == {"v": 2}  # type: ignore[union-attr]
    assert store.list_namespaces() == [("b",), ("c",)]


def test_put_keeps_created_at_and_moves_updated_at(state: Any) -> None:
    store = PersistenceStore(state)
    store.put(("t",), "k", {"v": 1})
    first = store.get(("t",), "k")
    store.put(("t",), "k", {"v": 2})
    second = store.get(("t",), "k")
    assert first is not None and second is not None
    assert second.created_at == first.created_at and second.updated_at >= first.updated_at
    assert second.created_at.tzinfo is not None
    store.delete(("t",), "k")
    assert store.get(("t",), "k") is None
    store.delete(("t",), "k")  # deleting what is gone is fine


def test_ttl_in_minutes_expires_and_reads_refresh_it(state: Any) -> None:
    store = PersistenceStore(state, ttl={"default_ttl": 10.0})
    store.put(("t",), "default", {"v": 1})
    store.put(("t",), "short", {"v": 1}, ttl=0.5)
    store.put(("t",), "forever", {"v": 1}, ttl=None)
    key = store._key(("t",), "default")
    assert 590 <= state.ttl(key) <= 600
    assert 25 <= state.ttl(store._key(("t",), "short")) <= 30
    assert state.ttl(store._key(("t",), "forever")) is None
    state.expire(key, 5)
    store.get(("t",), "default", refresh_ttl=False)
    assert state.ttl(key) <= 5
    store.get(("t",), "default")  # refresh_on_read defaults to True
    assert state.ttl(key) >= 590
    state.expire(key, 5)
    store.search(("t",))
    assert state.ttl(key) >= 590
    state.expire(key, 0.05)
    import time

    time.sleep(0.3)
    assert store.get(("t",), "default") is None
    assert {item.key for item in store.search(("t",))} == {"short", "forever"}


def test_namespaces_and_keys_never_mix(state: Any) -> None:
    store = PersistenceStore(state)
    odd = ["a/b", "a", "*", "[x]", "%2F", ":k", "k#1", "ü", "a b"]
    for label in odd:
        store.put((label,), label, {"label": label})
        store.put(("a", label), "k", {"nested": label})
    for label in odd:
        assert store.get((label,), label).value == {"label": label}  # type: ignore[union-attr]
        assert [item.value for item in store.search((label,), limit=100) if item.namespace == (label,)] == [
            {"label": label}
        ]
    assert len(store.search(("a",), limit=100)) == len(odd) + 1
    with pytest.raises(InvalidNamespaceError):
        store.put(("has.period",), "k", {})
    with pytest.raises(InvalidNamespaceError):
        store.batch([PutOp(("bad.label",), "k", {"v": 1})])


def test_abatch_on_a_sync_store_runs_the_same_operations(state: Any) -> None:
    store = PersistenceStore(state)

    async def run() -> None:
        await store.aput(("x",), "k", {"v": 1})
        item = await store.aget(("x",), "k")
        assert item is not None and item.value == {"v": 1}
        assert [i.key for i in await store.asearch(("x",))] == ["k"]
        assert await store.alist_namespaces() == [("x",)]
        await store.adelete(("x",), "k")
        assert await store.aget(("x",), "k") is None

    asyncio.run(run())


def test_native_async_over_an_async_state_store(mongodb_url: str) -> None:  # noqa: F811
    async def run() -> None:
        state = STATE_STORES.create("async_mongodb", url=mongodb_url, database=f"lg_{uuid.uuid4().hex[:8]}")
        store = PersistenceStore(state)
        await store.aput(("x", "y"), "k", {"v": [1, 2]}, ttl=5)
        item = await store.aget(("x", "y"), "k")
        assert item is not None and item.value == {"v": [1, 2]}
        assert [i.key for i in await store.asearch(("x",), filter={"v": [1, 2]})] == ["k"]
        assert await store.alist_namespaces(prefix=("x",)) == [("x", "y")]
        await store.adelete(("x", "y"), "k")
        assert await store.aget(("x", "y"), "k") is None
        await state.close()

    asyncio.run(run())


# -- semantic search --------------------------------------------------------------------------------------------------


def _semantic(state: Any, **index: Any) -> tuple[PersistenceStore, Any]:
    knowledge = KNOWLEDGE_STORES.create("memory")
    config = {"dims": DIMS, "embed": embed_texts, **index}
    return PersistenceStore(state, knowledge=knowledge, index=config), knowledge  # type: ignore[arg-type]


MEMORIES = {
    "m1": {"text": "user likes dark roast coffee", "topic": "food"},
    "m2": {"text": "user plays tennis on weekends", "topic": "sport"},
    "m3": {"text": "coffee with oat milk in the morning", "topic": "food"},
    "m4": {"text": "tennis elbow after long matches", "topic": "sport"},
}


def test_semantic_search_ranks_like_langgraphs_reference_store(state: Any) -> None:
    ours, knowledge = _semantic(state, fields=["text"])
    reference = InMemoryStore(index={"dims": DIMS, "embed": embed_texts, "fields": ["text"]})
    for store in (ours, reference):
        for key, value in MEMORIES.items():
            store.put(("mem", "u1"), key, value)
        store.put(("mem", "u2"), "other", {"text": "coffee coffee coffee", "topic": "food"})
    for query, filter_ in [("coffee", None), ("tennis matches", None), ("coffee", {"topic": "sport"})]:
        got = ours.search(("mem", "u1"), query=query, filter=filter_, limit=3)
        want = reference.search(("mem", "u1"), query=query, filter=filter_, limit=3)
        assert [i.key for i in got] == [i.key for i in want], query
        assert [i.score for i in got] == pytest.approx([i.score for i in want])
    assert knowledge.count("langgraph") == 5


def test_reindexing_and_deleting_keep_the_knowledge_store_in_step(state: Any) -> None:
    store, knowledge = _semantic(state, fields=["text", "tags[*]"])
    store.put(("m",), "k", {"text": "coffee", "tags": ["morning", "drink"]})
    assert knowledge.count("langgraph") == 3
    store.put(("m",), "k", {"text": "tennis", "tags": []})
    assert knowledge.count("langgraph") == 1
    assert store.search(("m",), query="tennis")[0].score == pytest.approx(1.0)
    store.put(("m",), "plain", {"text": "coffee"}, index=False)  # stored, not indexed
    results = store.search(("m",), query="coffee", limit=5)
    assert [i.key for i in results] == ["k", "plain"] and results[1].score is None
    store.put(("m",), "only-tags", {"text": "x", "tags": ["coffee"]}, index=["tags[*]"])
    assert store.search(("m",), query="coffee", limit=1)[0].key == "only-tags"
    store.delete(("m",), "k")
    store.delete(("m",), "only-tags")
    assert knowledge.count("langgraph") == 0


def test_semantic_search_takes_our_embedders_and_needs_a_knowledge_store(state: Any) -> None:
    embedder = EMBEDDERS.create("callable", function=embed_texts, dimension=DIMS)
    store = PersistenceStore(
        state, knowledge=KNOWLEDGE_STORES.create("memory"), index={"dims": DIMS, "embed": embedder}
    )
    store.put(("m",), "k", {"text": "coffee"})
    assert store.search(("m",), query="coffee")[0].key == "k"
    with pytest.raises(UsageError, match="knowledge"):
        PersistenceStore(state, index={"dims": DIMS, "embed": embed_texts})


def test_a_graph_uses_it_as_its_store(state: Any) -> None:
    from typing import TypedDict

    from langgraph.config import get_store
    from langgraph.graph import START, StateGraph

    class Counter(TypedDict):
        n: int

    def remember(counter: Counter) -> Counter:
        store = get_store()
        seen = store.get(("graph",), "count")
        total = (seen.value["n"] if seen else 0) + counter["n"]
        store.put(("graph",), "count", {"n": total})
        return {"n": total}

    builder = StateGraph(Counter)
    builder.add_node("remember", remember)
    builder.add_edge(START, "remember")
    store = PersistenceStore(state)
    graph = builder.compile(store=store)
    assert graph.invoke({"n": 2}) == {"n": 2}
    assert graph.invoke({"n": 3}) == {"n": 5}
    assert isinstance(store, BaseStore) and store.get(("graph",), "count").value == {"n": 5}  # type: ignore[union-attr]
