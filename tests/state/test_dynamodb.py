"""dynamodb: the state contract through boto3 against AWS's DynamoDB Local on loopback (tier emulator)."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.emulators import require_driver

boto3 = require_driver("boto3", "dynamodb")

from praisonai.persistence.errors import BackendUnavailableError, ConfigError, InvalidInputError, NotFoundError  # noqa: E402
from praisonai.persistence.registry import STATE_STORES  # noqa: E402
from praisonai.persistence.state.base import StateStore  # noqa: E402
from praisonai.persistence.state.config import DynamoDBStateConfig  # noqa: E402
from praisonai.persistence.testing import StateStoreContract  # noqa: E402

CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing-secret"}


def _client(endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=endpoint, **CREDENTIALS)


@pytest.fixture
def table(dynamodb_endpoint: str) -> Iterator[str]:
    name = f"state_{uuid.uuid4().hex}"
    yield name
    client = _client(dynamodb_endpoint)
    with contextlib.suppress(client.exceptions.ResourceNotFoundException):
        client.delete_table(TableName=name)


def _open(endpoint: str, table: str, **options: Any) -> StateStore:
    return STATE_STORES.create("dynamodb", table_name=table, endpoint_url=endpoint, **CREDENTIALS, **options)


class TestDynamoDBContract(StateStoreContract):
    @pytest.fixture
    def store(self, dynamodb_endpoint: str, table: str) -> Iterator[StateStore]:
        store = _open(dynamodb_endpoint, table)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, dynamodb_endpoint: str, table: str) -> Callable[[], StateStore]:
        return lambda: _open(dynamodb_endpoint, table, create_table=False)


def test_url_form_and_masked_secrets() -> None:
    config = DynamoDBStateConfig.from_options(
        "dynamodb://agents_state?region=eu-west-1&endpoint_url=http://127.0.0.1:8000",
        {"aws_secret_access_key": "wJalrXUtnFEMI", "aws_session_token": "FQoGZXIvYXdz"},
    )
    assert (config.table_name, config.region_name, config.endpoint_url) == (
        "agents_state",
        "eu-west-1",
        "http://127.0.0.1:8000",
    )
    assert "wJalrXUtnFEMI" not in repr(config) and "FQoGZXIvYXdz" not in repr(config)
    with pytest.raises(ConfigError, match="table_name"):
        DynamoDBStateConfig.from_options("dynamodb://ab")
    with pytest.raises(ConfigError, match="unknown URL parameter"):
        DynamoDBStateConfig.from_options("dynamodb://table?regoin=x")


def test_table_is_created_with_native_ttl(dynamodb_endpoint: str, table: str) -> None:
    with _open(dynamodb_endpoint, table) as store:
        store.set("k", 1, ttl=10.25)
        client = _client(dynamodb_endpoint)
        description = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        assert description == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl_epoch"}
        key_schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
        assert key_schema == [{"AttributeName": "k", "KeyType": "HASH"}]
        item = client.get_item(TableName=table, Key={"k": {"S": "k"}})["Item"]
        expires_at = float(item["expires_at"]["N"])
        assert int(item["ttl_epoch"]["N"]) == int(expires_at) + 1  # whole seconds, rounded up
        assert item["v"] == {"S": "1"} and item["kind"] == {"S": "v"}


def test_missing_table_without_create_table_is_not_found(dynamodb_endpoint: str) -> None:
    with pytest.raises(NotFoundError, match="create_table=True"):
        _open(dynamodb_endpoint, f"absent_{uuid.uuid4().hex}", create_table=False)


def test_keys_follows_pages_past_one_megabyte(dynamodb_endpoint: str, table: str) -> None:
    with _open(dynamodb_endpoint, table) as store:
        values = {f"big:{index:02d}": "x" * 60_000 for index in range(30)}  # ~1.8 MB in all
        store.set_many(values)
        store.set("small", 1)
        first_page = _client(dynamodb_endpoint).scan(TableName=table)
        assert "LastEvaluatedKey" in first_page  # the data really spans pages
        assert store.keys("big:*") == sorted(values)
        assert len(store.keys()) == 31
        assert store.get_many(list(values)) == values


def test_conditional_writes_keep_every_concurrent_hash_field(dynamodb_endpoint: str, table: str) -> None:
    with _open(dynamodb_endpoint, table) as store:
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


def test_writes_on_a_stale_version_are_refused(dynamodb_endpoint: str, table: str) -> None:
    with _open(dynamodb_endpoint, table) as first, _open(dynamodb_endpoint, table, create_table=False) as second:
        first.hset("h", "a", 1)
        stored = first._stored("h")  # type: ignore[attr-defined]
        loaded = first._load(stored)  # type: ignore[attr-defined]
        assert loaded is not None
        item, stale = loaded
        second.hset("h", "b", 2)
        assert first._replace(stored, item, stale) is False  # type: ignore[attr-defined]
        assert first._remove(stored, stale) is False  # type: ignore[attr-defined]
        assert first._create(stored, item) is False  # type: ignore[attr-defined]
        assert first.hgetall("h") == {"a": 1, "b": 2}


def test_hash_fields_are_a_native_map(dynamodb_endpoint: str, table: str) -> None:
    with _open(dynamodb_endpoint, table) as store:
        store.hset("h", "a.b", [1])
        store.hset("h", "$where", "x")
        item = _client(dynamodb_endpoint).get_item(TableName=table, Key={"k": {"S": "h"}})["Item"]
        assert item["h"] == {"M": {"a.b": {"S": "[1]"}, "$where": {"S": '"x"'}}}


def test_keys_longer_than_a_partition_key_allows_are_refused(dynamodb_endpoint: str, table: str) -> None:
    with _open(dynamodb_endpoint, table) as store:
        store.set("é" * 1024, 1)  # 2048 bytes in UTF-8: exactly the limit
        assert store.get("é" * 1024) == 1
        with pytest.raises(InvalidInputError, match="2048"):
            store.set("€" * 1000, 1)  # 3000 bytes


def test_key_prefix_partitions_a_shared_table(dynamodb_endpoint: str, table: str) -> None:
    with (
        _open(dynamodb_endpoint, table, key_prefix="a/") as first,
        _open(dynamodb_endpoint, table, key_prefix="b/") as second,
    ):
        first.set("k", 1)
        second.set("k", 2)
        assert first.keys() == ["k"] and second.keys() == ["k"]
        assert (first.get("k"), second.get("k")) == (1, 2)


def test_unreachable_endpoint_raises_backend_unavailable() -> None:
    with pytest.raises(BackendUnavailableError):
        _open("http://127.0.0.1:1", "state_table", connect_timeout=0.5, max_attempts=1)
