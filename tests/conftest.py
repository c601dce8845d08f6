"""Shared fixtures: loopback servers, read from the environment.

Server tests skip with a reason when their server is absent, and fail instead
when ``CI`` is set (CI must never pass by skipping).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("PRAISONAI_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("PRAISONAI_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("PRAISONAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def server_reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1.0):
            return True
    except OSError:
        return False


def require_server(name: str, url: str, default_port: int) -> str:
    """Return ``url`` if its server answers; otherwise skip (or fail under CI)."""
    if server_reachable(url, default_port):
        return url
    message = f"{name} is not reachable at {urlsplit(url).hostname}:{urlsplit(url).port or default_port}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run every server test (.ci/run starts the servers)")
    pytest.skip(f"{message}; start it or set the URL in the environment")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return require_server("PostgreSQL", POSTGRES_URL, 5432)


@pytest.fixture(scope="session")
def mysql_url() -> str:
    return require_server("MariaDB/MySQL", MYSQL_URL, 3306)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return require_server("Redis", REDIS_URL, 6379)


@pytest.fixture(scope="module")
def redis_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Redis with the search module on a loopback port, for the knowledge stores (one per test module)."""
    from tests.support.emulators import require_driver
    from tests.support.vector_servers import start_redis_stack

    require_driver("redis", "redis")
    server = start_redis_stack(tmp_path_factory.mktemp("redis-stack"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """chroma's own server (``chroma run``) on a loopback port (one per test module)."""
    from tests.support.emulators import require_driver
    from tests.support.vector_servers import start_chroma_server

    require_driver("chromadb", "chroma")
    server = start_chroma_server(tmp_path_factory.mktemp("chroma-server") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cosmosdb_server() -> Iterator[Any]:
    """@vercel/cosmosdb-server (tests/support/cosmosdb_emulator.py) on HTTPS on loopback, once per session."""
    from tests.support.emulators import require_driver, shared_service, start_cosmosdb_server

    require_driver("azure.cosmos", "cosmosdb")
    with shared_service(start_cosmosdb_server) as service:
        yield service


@pytest.fixture(scope="session")
def weaviate_server() -> Iterator[Any]:
    """The REST + gRPC stand-in of Weaviate (tests/support/weaviate_standin.py), started once per session.

    Tests share it: call its ``reset()`` before use (the fixtures that open weaviate stores do).
    """
    from tests.support.emulators import require_driver

    require_driver("weaviate", "weaviate")
    from tests.support.weaviate_standin import WeaviateStandIn

    server = WeaviateStandIn(api_key="wv-secret")
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Backends with a default path must never write into the developer's home.
    monkeypatch.setenv("PRAISONAI_DATA_DIR", str(tmp_path / "praisonai-data"))
