"""Fixtures of the reliability suite (``python -m pytest -m reliability``).

Opens the built-in stores the suite exercises on fresh data (a temporary directory, a
PostgreSQL schema, a MariaDB database), and keeps a record of what each test tried: set
``PRAISONAI_RELIABILITY_FIGURES`` to a file name and the record is written there as JSON
at the end of the run (the figures of ``docs/reliability.md`` come from it).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation.base import AsyncConversationStore, ConversationStore
from praisonai.persistence.registry import CONVERSATION_STORES
from tests.conversation.conftest import mysql_db_url, pg_schema  # noqa: F401  (fixtures)
from tests.state.conftest import (  # noqa: F401  (fixtures)
    dynamodb_endpoint,
    firestore_emulator_host,
    gcs_endpoint,
    mongodb_url,
    upstash_standin,
)
from tests.support.emulators import require_driver

FIGURES_ENV = "PRAISONAI_RELIABILITY_FIGURES"


class Figures:
    """What the suite tried, per area and backend: counts of writes, kills, outages, examples."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, area: str, backend: str, **figures: Any) -> None:
        with self._lock:
            self.rows.append({"area": area, "backend": backend, **figures})


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    found = Figures()
    yield found
    path = os.environ.get(FIGURES_ENV)
    if path:
        Path(path).write_text(json.dumps(found.rows, indent=1, sort_keys=True) + "\n", encoding="utf-8")


# -- conversation stores on fresh data ---------------------------------------------------------------------------

DRIVERS = {
    "postgres": ("psycopg", "postgres"),
    "async_postgres": ("asyncpg", "postgres"),
    "mysql": ("pymysql", "mysql"),
    "async_mysql": ("aiomysql", "mysql"),
    "singlestore": ("singlestoredb", "singlestore"),
    "turso": ("libsql", "turso"),
    "surrealdb": ("surrealdb", "surrealdb"),
}


@dataclass
class Opener:
    """Opens stores of one backend on the same fresh data, as many as a test wants."""

    backend: str
    options: dict[str, Any]
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def __call__(self, **extra: Any) -> Any:
        return CONVERSATION_STORES.create(self.backend, **{**self.options, **extra})


@pytest.fixture
def open_conversation(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Opener]:
    """``open_conversation(backend)``: an :class:`Opener` on fresh, empty data of that backend."""

    def make(backend: str) -> Opener:
        if backend in DRIVERS:
            require_driver(*DRIVERS[backend])
        if backend in ("sqlite", "async_sqlite", "turso"):
            return Opener(backend, {"path": str(tmp_path / f"{backend}.db")})
        if backend == "json":
            return Opener(backend, {"path": str(tmp_path / "json-store")})
        if backend == "surrealdb":
            return Opener(backend, {"url": f"surrealkv://{tmp_path / 'surreal'}"})
        if backend in ("postgres", "async_postgres"):
            url = request.getfixturevalue("postgres_url")
            return Opener(backend, {"url": url, "schema": request.getfixturevalue("pg_schema")})
        if backend in ("mysql", "async_mysql", "singlestore"):
            return Opener(backend, {"url": request.getfixturevalue("mysql_db_url")})
        raise AssertionError(f"no opener for {backend!r}")

    return make


class SyncView:
    """An async store driven from synchronous code through one event loop of its own."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.loop = asyncio.new_event_loop()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.loop.run_until_complete(method(*args, **kwargs))

        return call

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.store.close())
        finally:
            self.loop.close()


def sync_view(store: ConversationStore | AsyncConversationStore) -> Any:
    """The store itself if it is synchronous, else a :class:`SyncView` of it."""
    return SyncView(store) if inspect.iscoroutinefunction(store.get_session) else store
