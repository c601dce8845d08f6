"""firestore: the state contract through google-cloud-firestore against Google's Firestore emulator (tier emulator)."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.emulators import require_driver

require_driver("google.cloud.firestore", "firestore")

from praisonai.persistence.errors import ConfigError, InvalidInputError  # noqa: E402
from praisonai.persistence.registry import STATE_STORES  # noqa: E402
from praisonai.persistence.state.base import StateStore  # noqa: E402
from praisonai.persistence.state.config import FirestoreStateConfig  # noqa: E402
from praisonai.persistence.testing import StateStoreContract  # noqa: E402

PROJECT = "demo-praisonai"


@pytest.fixture
def emulator(firestore_emulator_host: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator_host)
    return firestore_emulator_host


@pytest.fixture
def collection() -> str:
    # The emulator keeps its data in memory for this test session only.
    return f"state_{uuid.uuid4().hex}"


def _open(collection: str, **options: Any) -> StateStore:
    return STATE_STORES.create("firestore", project=PROJECT, collection=collection, **options)


class TestFirestoreContract(StateStoreContract):
    @pytest.fixture
    def store(self, emulator: str, collection: str) -> Iterator[StateStore]:
        store = _open(collection)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, emulator: str, collection: str) -> Callable[[], StateStore]:
        return lambda: _open(collection)


def test_url_form() -> None:
    config = FirestoreStateConfig.from_options("firestore://my-project/agent_state")
    assert (config.project, config.collection, config.database) == ("my-project", "agent_state", "(default)")
    with pytest.raises(ConfigError, match="collection"):
        FirestoreStateConfig.from_options(None, {"collection": "a/b"})
    with pytest.raises(ConfigError, match="collection"):
        FirestoreStateConfig.from_options(None, {"collection": "__reserved__"})


def test_document_layout(emulator: str, collection: str) -> None:
    with _open(collection) as store:
        store.set("users/1", {"name": "a"}, ttl=60)
        store.hset("h", "__proto__", 1)
        store.hset("h", "a.b", 2)
        raw: Any = store._client  # type: ignore[attr-defined]
        documents = {snapshot.id: snapshot.to_dict() for snapshot in raw.collection(collection).stream()}
        value_id = hashlib.sha256(b"users/1").hexdigest()
        assert documents[value_id]["k"] == "users/1" and documents[value_id]["v"] == '{"name":"a"}'
        assert documents[value_id]["expires_at"].tzinfo is not None  # a Firestore timestamp, for a TTL policy
        hash_document = documents[hashlib.sha256(b"h").hexdigest()]
        assert hash_document["h"] == {"%5F_proto__": "1", "a%2Eb": "2"}
        assert store.hgetall("h") == {"__proto__": 1, "a.b": 2}


def test_keys_with_slashes_and_the_highest_code_point(emulator: str, collection: str) -> None:
    with _open(collection) as store:
        for key in ["/", "a/b", "a/c", "\U0010ffff", "\U0010ffffz", "b"]:
            store.set(key, key)
        assert store.keys("a/*") == ["a/b", "a/c"]
        assert store.keys("\U0010ffff*") == ["\U0010ffff", "\U0010ffffz"]
        assert store.keys("/") == ["/"]


def test_preconditions_keep_every_concurrent_hash_field(emulator: str, collection: str) -> None:
    with _open(collection) as store:
        errors: list[BaseException] = []

        def work(thread: int) -> None:
            try:
                for index in range(10):
                    store.hset("shared", f"{thread}:{index}", index)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=work, args=(thread,)) for thread in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(store.hgetall("shared")) == 40


def test_key_prefix_partitions_a_collection(emulator: str, collection: str) -> None:
    with _open(collection, key_prefix="one:") as first, _open(collection, key_prefix="two:") as second:
        first.set("k", 1)
        second.set("k", 2)
        assert first.keys() == ["k"] and second.keys() == ["k"]
        assert (first.get("k"), second.get("k")) == (1, 2)


def test_a_document_over_one_mebibyte_is_refused_before_it_is_sent(emulator: str, collection: str) -> None:
    # Values are JSON text with non-ASCII escaped: a mebibyte of "é" is six. Sent anyway, a request over
    # gRPC's 4 MiB came back RESOURCE_EXHAUSTED and was retried for a minute.
    with _open(collection) as store:
        started = time.monotonic()
        with pytest.raises(InvalidInputError, match="Firestore stores at most 1048576"):
            store.set("big", "é" * (1 << 20))
        with pytest.raises(InvalidInputError):
            store.set_many({"small": 1, "big": "x" * (1 << 20)})
        assert time.monotonic() - started < 5
        assert store.get_many(["big", "small"]) == {}
        store.set("fits", "x" * 1_000_000)
        assert len(store.get("fits")) == 1_000_000
