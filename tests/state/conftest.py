"""Session-wide stand-ins for the state backends: each starts once, on loopback, when first needed.

``tests/reliability`` imports these fixtures too; ``shared_service`` keeps one
engine for both directories.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.emulators import (
    shared_service,
    start_dynamodb_local,
    start_fake_gcs_server,
    start_firestore_emulator,
    start_mongodb_standin,
    unavailable,
)

if TYPE_CHECKING:
    from tests.support.upstash_standin import UpstashStandIn


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    with shared_service(start_dynamodb_local) as service:
        yield service.endpoint


@pytest.fixture(scope="session")
def gcs_endpoint() -> Iterator[str]:
    with shared_service(start_fake_gcs_server) as service:
        yield service.endpoint


@pytest.fixture(scope="session")
def firestore_emulator_host() -> Iterator[str]:
    with shared_service(start_firestore_emulator) as service:
        yield service.endpoint


@pytest.fixture(scope="session")
def mongodb_url() -> Iterator[str]:
    with shared_service(start_mongodb_standin) as service:
        yield service.endpoint


@pytest.fixture(scope="session")
def upstash_standin(redis_url: str) -> Iterator[UpstashStandIn]:
    try:
        from tests.support.upstash_standin import UpstashStandIn
    except ImportError as error:  # redis-py missing
        unavailable(f"the Upstash stand-in needs redis-py: {error}")
    stand_in = UpstashStandIn(redis_url).start()
    yield stand_in
    stand_in.stop()
