"""mongodb and async_mongodb: the real pymongo drivers over the wire to a MongoDB-compatible server.

Tier emulator: SecantusDB (a MongoDB wire-protocol server on WiredTiger)
runs on loopback; MongoDB's own server cannot be installed on these machines.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.support.emulators import require_driver

pymongo = require_driver("pymongo", "mongodb")

from praisonai.persistence.errors import BackendUnavailableError, ConfigError  # noqa: E402
from praisonai.persistence.registry import STATE_STORES  # noqa: E402
from praisonai.persistence.state.async_mongodb import AsyncMongoStateStore  # noqa: E402
from praisonai.persistence.state.base import AsyncStateStore, StateStore  # noqa: E402
from praisonai.persistence.state.config import MongoStateConfig  # noqa: E402
from praisonai.persistence.testing import AsyncStateStoreContract, StateStoreContract  # noqa: E402


@pytest.fixture
def collection(mongodb_url: str) -> Iterator[str]:
    name = f"state_{uuid.uuid4().hex}"
    yield name
    client: Any = pymongo.MongoClient(mongodb_url)
    try:
        client["praisonai_test"].drop_collection(name)
    finally:
        client.close()


def _raw(mongodb_url: str, collection: str) -> tuple[Any, Any]:
    client: Any = pymongo.MongoClient(mongodb_url, tz_aware=True)
    return client, client["praisonai_test"][collection]


def _open(url: str, collection: str, **options: Any) -> StateStore:
    return STATE_STORES.create("mongodb", url=url, database="praisonai_test", collection=collection, **options)


class TestMongoContract(StateStoreContract):
    @pytest.fixture
    def store(self, mongodb_url: str, collection: str) -> Iterator[StateStore]:
        store = _open(mongodb_url, collection)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, mongodb_url: str, collection: str) -> Callable[[], StateStore]:
        return lambda: _open(mongodb_url, collection)


class TestAsyncMongoContract(AsyncStateStoreContract):
    @pytest.fixture
    def store(self, mongodb_url: str, collection: str) -> AsyncStateStore:
        return STATE_STORES.create("async_mongodb", url=mongodb_url, database="praisonai_test", collection=collection)


@pytest.mark.parametrize("name", ["async_mongodb", "motor", "mongodb_async"])
def test_async_names_open_the_native_async_store(name: str, mongodb_url: str) -> None:
    store = STATE_STORES.create(name, url=mongodb_url)
    assert isinstance(store, AsyncMongoStateStore)
    asyncio.run(store.close())


def test_credentials_leave_the_url() -> None:
    config = MongoStateConfig.from_options("mongodb://app:p%40ss@db1:27017,db2:27017/agents?replicaSet=rs0")
    assert config.url == "mongodb://db1:27017,db2:27017/agents?replicaSet=rs0"
    assert config.username == "app" and config.password is not None
    assert config.password.get_secret_value() == "p@ss"
    assert config.database == "agents"
    assert "p@ss" not in repr(config) and "p%40ss" not in repr(config)
    direct = MongoStateConfig(url="mongodb://u:direct-secret@h")
    assert "direct-secret" not in repr(direct)
    with pytest.raises(ConfigError) as caught:
        MongoStateConfig.from_options("mongodb://u:hidden@h", {"collection": "system.users"})
    assert "hidden" not in str(caught.value)
    with pytest.raises(ConfigError, match="mongodb"):
        MongoStateConfig.from_options("postgres://h")


def test_ttl_index_on_a_real_date_and_the_server_deletes(mongodb_url: str, collection: str) -> None:
    client, raw = _raw(mongodb_url, collection)
    try:
        with _open(mongodb_url, collection) as store:
            store.set("brief", "v", ttl=0.3)
            store.set("lasting", "v")
            indexes = {index["name"]: index for index in raw.list_indexes()}
            assert indexes["praisonai_expires_at"]["expireAfterSeconds"] == 0
            assert dict(indexes["praisonai_expires_at"]["key"]) == {"expires_at": 1}
            document = raw.find_one({"_id": "brief"})
            assert isinstance(document["expires_at"], datetime)
            assert "expires_at" not in raw.find_one({"_id": "lasting"})
            # The stand-in's TTL monitor runs every 0.5 s (mongod's every 60 s).
            deadline = time.monotonic() + 10
            while raw.find_one({"_id": "brief"}) is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert raw.find_one({"_id": "brief"}) is None
            assert store.keys() == ["lasting"]
    finally:
        client.close()


def test_keys_and_fields_cannot_inject_operators_or_paths(mongodb_url: str, collection: str) -> None:
    client, raw = _raw(mongodb_url, collection)
    try:
        with _open(mongodb_url, collection) as store:
            store.set("victim", "secret")
            for key in ["$ne", "$gt", "$where", "{'$ne': null}", "a.b", ".hidden", "$regex"]:
                assert store.get(key) is None
                assert store.exists(key) is False
                assert store.delete(key) is False
            assert store.keys("$*") == []
            store.set("$ne", "dollar")
            store.hset("h", "$set", 1)
            store.hset("h", "a.b.c", 2)
            store.hset("h", "_id", 3)
            store.hset("h", "%2E", 4)
            assert store.get("$ne") == "dollar"
            assert store.get("victim") == "secret"
            assert store.hgetall("h") == {"$set": 1, "a.b.c": 2, "_id": 3, "%2E": 4}
            assert store.hdel("h", "a.b.c") == 1
            document = raw.find_one({"_id": "h"})
            assert set(document["h"]) == {"%24set", "%5Fid", "%252E"}
            assert all("." not in name and not name.startswith("$") for name in document["h"])
            assert store.keys() == ["$ne", "h", "victim"]
    finally:
        client.close()


def test_concurrent_updates_of_one_hash_lose_nothing(mongodb_url: str, collection: str) -> None:
    with _open(mongodb_url, collection) as store:
        errors: list[BaseException] = []

        def work(thread: int) -> None:
            try:
                for index in range(15):
                    store.hset("shared", f"{thread}:{index}", index)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=work, args=(thread,)) for thread in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(store.hgetall("shared")) == 60


def test_async_store_shares_the_sync_layout(mongodb_url: str, collection: str) -> None:
    async def write() -> None:
        store = STATE_STORES.create("async_mongodb", url=mongodb_url, database="praisonai_test", collection=collection)
        try:
            await store.set("from-async", {"n": 1}, ttl=60)
            await store.hset("hash", "a.b", "x")
        finally:
            await store.close()

    asyncio.run(write())
    with _open(mongodb_url, collection) as store:
        assert store.get("from-async") == {"n": 1}
        assert 59 <= (store.ttl("from-async") or 0) <= 60
        assert store.hgetall("hash") == {"a.b": "x"}


def test_unreachable_server_raises_backend_unavailable() -> None:
    with pytest.raises(BackendUnavailableError):
        _open("mongodb://127.0.0.1:1", "state", server_selection_timeout_ms=300)

    async def use() -> None:
        store = STATE_STORES.create("async_mongodb", url="mongodb://127.0.0.1:1", server_selection_timeout_ms=300)
        try:
            with pytest.raises(BackendUnavailableError):
                await store.get("k")
        finally:
            await store.close()

    asyncio.run(use())
