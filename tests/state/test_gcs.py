"""gcs: the state contract through google-cloud-storage against gcp-storage-emulator (tier emulator).

That emulator does not enforce generation preconditions, so nothing here can
show that concurrent read-modify-writes of one key are safe on real GCS.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.emulators import require_driver

storage = require_driver("google.cloud.storage", "gcs")

from praisonai.persistence.errors import ConfigError, InvalidInputError, NotFoundError  # noqa: E402
from praisonai.persistence.registry import STATE_STORES  # noqa: E402
from praisonai.persistence.state.base import StateStore  # noqa: E402
from praisonai.persistence.state.config import GCSStateConfig  # noqa: E402
from praisonai.persistence.testing import StateStoreContract  # noqa: E402

BUCKET = "praisonai-state-tests"


@pytest.fixture
def prefix() -> str:
    # The emulator keeps its objects in memory for this test session only.
    return f"run-{uuid.uuid4().hex}/"


def _open(endpoint: str, prefix: str, **options: Any) -> StateStore:
    options.setdefault("create_bucket", True)
    return STATE_STORES.create("gcs", bucket=BUCKET, prefix=prefix, endpoint=endpoint, project="test", **options)


def _objects(store: StateStore) -> dict[str, Any]:
    client: Any = store._client  # type: ignore[attr-defined]
    return {blob.name: blob for blob in client.list_blobs(BUCKET)}


class TestGCSContract(StateStoreContract):
    @pytest.fixture
    def store(self, gcs_endpoint: str, prefix: str) -> Iterator[StateStore]:
        store = _open(gcs_endpoint, prefix)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, gcs_endpoint: str, prefix: str) -> Callable[[], StateStore]:
        return lambda: _open(gcs_endpoint, prefix, create_bucket=False)


def test_url_form() -> None:
    config = GCSStateConfig.from_options("gs://my-bucket/agents/state")
    assert (config.bucket, config.prefix) == ("my-bucket", "agents/state/")
    assert GCSStateConfig.from_options("gs://my-bucket").prefix == "praisonai/state/"
    with pytest.raises(ConfigError, match="bucket"):
        GCSStateConfig.from_options(None, {"bucket": "Bad_Bucket!"})
    with pytest.raises(ConfigError, match="prefix"):
        GCSStateConfig.from_options("gs://my-bucket", {"prefix": ""})


def test_object_names_and_metadata(gcs_endpoint: str, prefix: str) -> None:
    with _open(gcs_endpoint, prefix) as store:
        keys = ["plain", "line\nbreak", "100%", "#frag?x=1", "tab\there", "ünï"]
        for key in keys:
            store.set(key, key, ttl=60)
        store.hset("h", "a.b", 1)
        names = {name[len(prefix) :] for name in _objects(store) if name.startswith(prefix)}
        assert names == {"plain", "line%0Abreak", "100%25", "#frag?x=1", "tab%09here", "ünï", "h"}
        assert store.keys() == sorted([*keys, "h"])
        assert all(store.get(key) == key for key in keys)
        blob = _objects(store)[prefix + "plain"]
        assert float(blob.metadata["expires_at"]) == pytest.approx(blob.custom_time.timestamp(), abs=1e-3)


def test_prefixes_isolate_stores(gcs_endpoint: str) -> None:
    with _open(gcs_endpoint, "iso-a/") as first, _open(gcs_endpoint, "iso-a-b/") as second:
        first.set("k", 1)
        second.set("k", 2)
        assert first.keys() == ["k"] and second.keys() == ["k"]


def test_missing_bucket_is_not_found_unless_created(gcs_endpoint: str) -> None:
    name = f"absent-{uuid.uuid4().hex[:12]}"
    with pytest.raises(NotFoundError, match="create_bucket=True"):
        STATE_STORES.create("gcs", bucket=name, endpoint=gcs_endpoint, project="test")
    with STATE_STORES.create("gcs", bucket=name, endpoint=gcs_endpoint, project="test", create_bucket=True) as store:
        store.set("k", 1)
        assert store.get("k") == 1


def test_object_names_longer_than_gcs_allows_are_refused(gcs_endpoint: str, prefix: str) -> None:
    with _open(gcs_endpoint, prefix) as store, pytest.raises(InvalidInputError, match="1024"):
        store.set("€" * 400, 1)
