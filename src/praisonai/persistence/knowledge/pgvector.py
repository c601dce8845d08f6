"""pgvector: PostgreSQL with the pgvector extension, through psycopg 3.

Engine: PostgreSQL 13+ with the ``vector`` extension (pgvector 0.5+; 0.8+ adds
iterative index scans, used for filtered searches). Driver: psycopg 3
(``pip install "praisonai-persistence[pgvector]"``).

URL forms: ``postgresql://user:password@host:5432/database`` (also
``postgres://``, ``pgvector://``, ``postgresql+psycopg://``), with
``?sslmode=``, ``?schema=``, ``?table_prefix=``, ``?connect_timeout=`` and
``?host=/run/postgresql`` for a Unix socket; or the fields of
:class:`~praisonai.persistence.knowledge.config.PgvectorKnowledgeConfig`.

Test tier: server (PostgreSQL 15 on loopback, pgvector 0.8 from
``.ci/setup-pgvector.sh``).

Layout, in ``db_schema``: a catalogue table ``<prefix>collections`` (name,
table, dimension, distance, metadata) and one table per collection
(``<prefix><name>``, shortened with a hash past PostgreSQL's 63-byte limit)
with ``id text PRIMARY KEY``, ``embedding vector(<dimension>)``, ``metadata
jsonb`` (filtered on) and ``metadata_json`` (the exact JSON text, returned:
``jsonb`` would turn ``1e300`` into an integer). Each collection gets an HNSW
index with the operator class of its distance (``vector_cosine_ops``,
``vector_ip_ops``, ``vector_l2_ops``; pgvector indexes at most 2000
dimensions, larger collections are scanned exactly) and searches order by the
matching operator: ``<=>`` (cosine distance, score ``1 - d``), ``<#>``
(negative inner product, score ``-d``), ``<->`` (L2, score ``1 / (1 + d)``).

HNSW is approximate. Filtered searches use pgvector's iterative scans
(``strict_order``), and one that still comes back short of ``limit`` is asked
again with an exact scan, so a selective filter fills ``limit``; set
``exact_search=True`` for exact results. Searches asking for more than 1000
results scan exactly; search statements are never prepared, since a cached
generic plan would ignore that switch. A zero vector has no cosine (pgvector:
NaN; HNSW leaves it out): cosine collections find zero vectors through a
partial index and score them 0.0, ranked by that score.

PostgreSQL text cannot hold NUL characters: content or metadata strings
containing one are refused with :class:`InvalidInputError`.

``async_pgvector`` (:class:`AsyncPgvectorKnowledgeStore`) runs the same statements, written
once as steps (:class:`._pgvector_steps._PgvectorSteps`), on psycopg's ``AsyncConnection``; each call holds
a pooled connection (a pool per event loop), and a call cancelled inside a transaction
closes its connection, so the server rolls it back.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .._pool import AsyncPool, Pool
from .._sansio import Operation, drive, drive_async, throw_in_everything
from ..errors import StoreClosedError
from ._layers.async_store_base import AsyncKnowledgeStoreBase
from ._layers.store_base import KnowledgeStoreBase
from ._pgvector_steps import _Collection, _idle, _PgvectorSteps, _run, _run_async, _Sql
from ._pgvector_steps import table_name as table_name  # importable from here, as before
from .base import KnowledgeDocument
from .config import PgvectorKnowledgeConfig

if TYPE_CHECKING:
    import psycopg

__all__ = ["AsyncPgvectorKnowledgeStore", "PgvectorKnowledgeStore"]

R = TypeVar("R")


class _PooledCall:
    """What a pgvector call holds (its ``_held``): a pooled connection instead of the store's lock,
    so calls run in parallel. One object per store; each thread keeps the connections it holds."""

    __slots__ = ("_store",)

    def __init__(self, store: PgvectorKnowledgeStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        store = self._store
        with store._translating:
            if store._closed:
                raise StoreClosedError("the store is closed")
            connection = store._pool.acquire()
            try:
                if not store._ready:
                    with store._setup_lock:
                        if not store._ready:
                            drive(store._setup_steps(), functools.partial(_run, connection), throw_in_everything)
            except BaseException as error:
                store._give_back(connection, error)
                raise
        held: list[psycopg.Connection[Any]] | None = getattr(store._current, "held", None)
        if held is None:
            held = store._current.held = []
        held.append(connection)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> Literal[False]:
        store = self._store
        store._give_back(store._current.held.pop(), error)
        return False


class PgvectorKnowledgeStore(_PgvectorSteps, KnowledgeStoreBase[_Collection, PgvectorKnowledgeConfig]):
    """Knowledge store on PostgreSQL + pgvector; thread-safe (a small pool of connections)."""

    backend = "pgvector"
    exact_float_numbers = 2**53  # jsonb holds a float as its shortest decimal: 2.0**63 would miss 2**63

    def __init__(self, config: PgvectorKnowledgeConfig | None = None) -> None:
        super().__init__(config or PgvectorKnowledgeConfig())
        self._use_driver()
        self._pool: Pool[psycopg.Connection[Any]] = Pool(self._connect, self._dispose, self.config.max_connections)
        self._setup_lock = threading.Lock()
        self._current = threading.local()  # .held: the connections this thread's calls hold, innermost last
        self._pooled_call = _PooledCall(self)

    # -- engine primitives (called with a pooled connection held, see _held): _PgvectorSteps's steps, run here --

    def _engine(self, steps: Operation[_Sql, R]) -> R:
        return drive(steps, functools.partial(_run, self._current.held[-1]), throw_in_everything)

    def _scan(self, name: str, target: _Collection, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        start: str | None = None  # the first page: no id before it
        return self._pages_of(
            name,
            target,
            lambda current, after: self._engine(self._page_steps(current, after, batch_size)),
            start,
            lambda _, documents: documents[-1].id,
        )

    def _release(self) -> None:
        self._pool.close()

    # -- internals ----------------------------------------------------------

    @property
    def _held(self) -> _PooledCall:
        return self._pooled_call

    def _give_back(self, connection: psycopg.Connection[Any], error: BaseException | None) -> None:
        """Return a call's connection to the pool; one that lost its server is discarded, with the idle ones."""
        broken = self._is_broken(error)
        if broken:
            self._pool.discard_idle()
        self._pool.release(connection, broken=broken or not _idle(connection))

    def _connect(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] = self._psycopg.connect(**self._connect_options())
        return connection

    @staticmethod
    def _dispose(connection: psycopg.Connection[Any]) -> None:
        connection.close()


class AsyncPgvectorKnowledgeStore(_PgvectorSteps, AsyncKnowledgeStoreBase[_Collection, PgvectorKnowledgeConfig]):
    """An AsyncKnowledgeStore on PostgreSQL + pgvector through psycopg's ``AsyncConnection``: the
    sync store's steps, awaited.

    Like the sync store, each call holds a pooled connection rather than the store's lock, so
    concurrent tasks run on several connections. The pool belongs to the event loop it was
    opened in: another loop (a second ``asyncio.run``) gets a pool of its own, the old one's
    connections are closed. A cancelled call's open transaction dies with its connection.
    """

    backend = "async_pgvector"
    exact_float_numbers = 2**53

    def __init__(self, config: PgvectorKnowledgeConfig) -> None:
        super().__init__(config)
        self._use_driver()
        self._pool: AsyncPool[psycopg.AsyncConnection[Any]] | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._setup_lock: asyncio.Lock | None = None
        self._connection: contextvars.ContextVar[psycopg.AsyncConnection[Any]] = contextvars.ContextVar(
            "pgvector_connection"
        )

    async def _engine(self, steps: Operation[_Sql, R]) -> R:
        return await drive_async(steps, functools.partial(_run_async, self._connection.get()), throw_in_everything)

    async def _release(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if self._pool_loop is asyncio.get_running_loop():
            await pool.close()
        else:
            pool.abandon(_terminate)

    # -- internals ----------------------------------------------------------

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[None]:
        """A pooled connection of this loop for the call (in place of the store's lock), under the guard."""
        with self._guard:
            pool, setup_lock = self._loop_pool()
            connection = await pool.acquire()
            error: BaseException | None = None
            token = self._connection.set(connection)
            try:
                if not self._ready:
                    async with setup_lock:
                        if not self._ready:
                            await self._engine(self._setup_steps())
                yield
            except BaseException as raised:
                error = raised
                raise
            finally:
                self._connection.reset(token)
                broken = self._is_broken(error)
                if broken:
                    await pool.discard_idle()
                await pool.release(connection, broken or not _idle(connection))

    def _loop_pool(self) -> tuple[AsyncPool[psycopg.AsyncConnection[Any]], asyncio.Lock]:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._setup_lock is None or self._pool_loop is not loop:
            if self._pool is not None:
                self._pool.abandon(_terminate)  # its connections belong to a loop that is gone
            self._pool = AsyncPool(self._connect, self._dispose, self.config.max_connections)
            self._pool_loop, self._setup_lock = loop, asyncio.Lock()
        return self._pool, self._setup_lock

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        connection: psycopg.AsyncConnection[Any] = await self._psycopg.AsyncConnection.connect(
            **self._connect_options()
        )
        return connection

    @staticmethod
    async def _dispose(connection: psycopg.AsyncConnection[Any]) -> None:
        await connection.close()


def _terminate(connection: psycopg.AsyncConnection[Any]) -> None:
    """Close an async connection without its event loop (which may be gone)."""
    connection.pgconn.finish()


PGVectorKnowledgeStore = PgvectorKnowledgeStore
"""PraisonAI 4.7.19's name of :class:`PgvectorKnowledgeStore`."""
