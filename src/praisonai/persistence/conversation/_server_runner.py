"""The runner of the SQL conversation stores that talk to a server (PostgreSQL, MySQL, SingleStore).

What the sqlite runners do with one local connection, this does with a pool of network
connections, adding what a network brings:

- Each write runs in one transaction (``BEGIN`` ... ``COMMIT``) on one connection;
  reads run statement by statement in autocommit mode. A write that fails leaves
  nothing behind: the transaction is rolled back, or dies with its connection.
- A connection that turns out dead (the server restarted since it was last used) is
  thrown away with every other idle one, and the call is retried once on a fresh
  connection, but only while that is safe: a read, or a write whose transaction had
  not run a statement yet. So the first call after a restart succeeds.
- When the server cannot be reached, a call raises :class:`BackendUnavailableError`
  (a ``ConnectionError``) naming the backend and the address, never a secret. The
  store stays usable and reconnects on a later call.
- A transaction the server chose as a deadlock victim (or aborted as a serialization
  failure) was rolled back by the server, so it is run again from scratch, up to
  :data:`CONFLICT_ATTEMPTS` times with a growing, jittered pause; then it raises
  :class:`BackendUnavailableError` saying nothing was written. A lock wait that timed
  out is not retried (it already waited long): the same error at once.
- A cancelled call (``asyncio.wait_for``) discards its connection, so the server rolls
  back whatever transaction it had open; the store stays usable.

That policy is written once, as an operation (``_sansio.py``) that wraps a
statement operation of ``_sql_operations.py`` and yields pool requests
(:class:`~.._sansio.Call`: ``acquire``, ``execute``, ``release``, ``discard_idle``);
the sync store drives it on a :class:`~.._pool.Pool`, the async one on an
:class:`~.._pool.AsyncPool`. An engine supplies the hooks: how to connect, run a
:class:`Step`, and read its driver's errors.
"""

from __future__ import annotations

import asyncio
import random
import time
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

from .. import _observe
from .._pool import AsyncPool, Pool
from .._sansio import Call, Stepper, call_on, call_on_async, drive, drive_async, throw_in_everything
from ..errors import BackendUnavailableError, InvalidInputError, StoreError
from ..url import mask_secrets_in_text
from ._praisonai_schema import prepare_schema
from ._sql_operations import ConversationOperations, IntegrityViolation, Operation, Step
from ._sql_store import AsyncSqlConversationStore, SqlConversationStore

__all__ = ["AsyncServerSqlConversationStore", "ServerSqlConversationStore"]

R = TypeVar("R")
PoolOperation = Generator[Call, Any, R]

_BEGIN = Step("BEGIN")
_COMMIT = Step("COMMIT")
_ROLLBACK = Step("ROLLBACK")
_UNKNOWN_OUTCOME = "; the write may or may not have been applied"
_ACQUIRE = Call("acquire")
_DISCARD_IDLE = Call("discard_idle")
CONFLICT_ATTEMPTS = 6
_FIRST_PAUSE = 0.005  # seconds, doubled after each conflict, with jitter so racers part ways


class _Use:
    """One call's hold on a connection."""

    __slots__ = ("broken", "connection", "in_transaction", "retried", "statements")

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.in_transaction = False
        self.statements = 0  # run successfully inside the current transaction
        self.retried = False
        self.broken = False


class _Connections:
    """What the pool requests are called on: a pool (sync or async) and the engine's ``execute(connection, step)``."""

    __slots__ = ("acquire", "discard_idle", "execute", "pause", "release")

    def __init__(
        self, pool: Pool[Any] | AsyncPool[Any], execute: Callable[[Any, Step], Any], pause: Callable[[float], Any]
    ) -> None:
        self.acquire: Callable[[], Any] = pool.acquire
        self.release: Callable[[Any, bool], Any] = pool.release
        self.discard_idle: Callable[[], Any] = pool.discard_idle
        self.execute = execute
        self.pause = pause


class _ServerRunner:
    """The hooks an engine supplies, and the one policy (:meth:`_transaction`) both stores drive."""

    backend: str
    _ops: ConversationOperations
    _address: str  # "PostgreSQL at host:port", for messages

    @abstractmethod
    def _is_disconnect(self, error: BaseException) -> bool:
        """Whether ``error`` means the connection or the server is gone."""

    @abstractmethod
    def _classify(self, error: BaseException) -> IntegrityViolation | None:
        """A constraint violation, or None."""

    def _refused_value(self, error: BaseException) -> str | None:
        """Why the engine refused a value (a NUL in PostgreSQL text, ...), or None."""
        return None

    def _conflict(self, error: BaseException) -> str | None:
        """``"retry"``: a deadlock or serialization failure (the server rolled the transaction back);
        ``"wait"``: a lock wait that timed out; None: neither."""
        return None

    def _schema_operation(self) -> Operation[None]:
        """Creates or upgrades the tables; engines may probe the server first."""
        return prepare_schema(self._ops.sql)

    def _unavailable(self, error: BaseException, doing: str, outcome: str = "") -> BackendUnavailableError:
        detail = mask_secrets_in_text(f"{type(error).__name__}: {error}".strip())
        return BackendUnavailableError(f"{doing} {self._address} failed{outcome} ({detail})")

    def _translate_error(self, error: Exception) -> Exception | None:
        if self._is_disconnect(error):
            return self._unavailable(error, "the connection to")
        if self._conflict(error) is not None:
            return self._unavailable(error, "a transaction on", "; it conflicted with others and nothing was written")
        reason = self._refused_value(error)
        return None if reason is None else InvalidInputError(reason)

    # -- the policy, as pool requests ---------------------------------------------------

    def _transaction(self, make: Callable[[], Operation[R]], write: bool) -> PoolOperation[R]:
        """Run ``make()`` in :meth:`_attempt`; again, from scratch, when the server rolled it back (a deadlock)."""
        pause = _FIRST_PAUSE
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return (yield from self._attempt(make(), write))
            except Exception as error:
                if attempt == CONFLICT_ATTEMPTS or self._conflict(error) != "retry":
                    raise
                _observe.retrying(
                    f"{self.backend} {self._address}",
                    f"rolled back by the server ({type(error).__name__}), attempt {attempt}",
                )
            yield Call("pause", (pause * (0.5 + random.random()),))
            pause *= 2
        raise AssertionError("unreachable")

    def _attempt(self, operation: Operation[R], write: bool) -> PoolOperation[R]:
        """Run ``operation`` on a pooled connection: one transaction if ``write``, one retry after a dead one."""
        try:
            use = _Use((yield from self._acquire()))
        except BaseException:
            operation.close()
            raise
        try:
            result = yield from self._statements(operation, write, use)
            if use.in_transaction:
                use.in_transaction = False
                try:
                    yield Call("execute", (use.connection, _COMMIT))
                except Exception as error:
                    if self._is_disconnect(error):
                        use.broken = True
                        raise self._unavailable(error, "committing to", _UNKNOWN_OUTCOME) from error
                    raise
            return result
        except Exception:
            if use.connection is not None and use.in_transaction:
                try:
                    yield Call("execute", (use.connection, _ROLLBACK))
                except Exception:
                    use.broken = True
            raise
        except BaseException:
            use.broken = True  # interrupted mid-statement: the connection's state is unknown
            raise
        finally:
            if use.connection is not None:
                yield Call("release", (use.connection, use.broken))

    def _acquire(self) -> PoolOperation[Any]:
        try:
            return (yield _ACQUIRE)
        except StoreError:
            raise
        except Exception as error:
            raise self._unavailable(error, "connecting to") from error

    def _statements(self, operation: Operation[R], write: bool, use: _Use) -> PoolOperation[R]:
        """Each step of ``operation`` on ``use``'s connection; a constraint violation is thrown back into it."""
        stepper = Stepper(operation, self._classify)
        while stepper.pending:
            try:
                answer = yield from self._statement(stepper.request, write, use)
            except Exception as error:
                stepper.fail(error)
            else:
                stepper.send(answer)
        return stepper.result

    def _statement(self, step: Step, write: bool, use: _Use) -> PoolOperation[Any]:
        while True:
            try:
                if write and not use.in_transaction:
                    yield Call("execute", (use.connection, _BEGIN))
                    use.in_transaction = True
                result = yield Call("execute", (use.connection, step))
            except Exception as error:
                if not self._is_disconnect(error):
                    raise
                yield Call("release", (use.connection, True))
                use.connection = None
                # Safe to run again: a read, or a transaction that had done nothing yet.
                if use.retried or (write and use.statements):
                    raise self._unavailable(error, "the connection to") from error
                use.retried, use.in_transaction = True, False
                _observe.retrying(f"{self.backend} {self._address}", f"connection lost ({type(error).__name__})")
                yield _DISCARD_IDLE
                use.connection = yield from self._acquire()
                continue
            if use.in_transaction:
                use.statements += 1
            return result

    def _create_schema(self) -> PoolOperation[None]:
        # Two stores creating the same tables at once: one of them fails on the catalog's
        # unique index (PostgreSQL), and finds the tables there on the second try.
        for attempt in (1, 2):
            try:
                yield from self._transaction(self._schema_operation, True)
                return
            except Exception as error:
                if attempt == 2 or isinstance(error, BackendUnavailableError) or self._is_disconnect(error):
                    raise


class ServerSqlConversationStore(_ServerRunner, SqlConversationStore):
    """A synchronous SQL conversation store over a :class:`Pool` of server connections."""

    _pool: Pool[Any]

    @abstractmethod
    def _connect(self) -> Any:
        """A new connection in autocommit mode."""

    @abstractmethod
    def _dispose(self, connection: Any) -> None:
        """Close a connection (it may be dead already)."""

    @abstractmethod
    def _execute(self, connection: Any, step: Step) -> Any:
        """Run ``step`` and return what its ``fetch`` asks for."""

    def _alive(self, connection: Any) -> bool:
        """False when the driver already knows the connection is closed (checked without a round trip)."""
        return True

    def _open(self, pool_size: int) -> None:
        """Create the pool and the schema (on a fresh connection, so errors are the server's own)."""
        self._pool = Pool(self._connect, self._dispose, pool_size, self._alive)
        self._on_pool = call_on(_Connections(self._pool, self._execute, time.sleep))
        with self._translating:
            try:
                drive(self._create_schema(), self._on_pool, throw_in_everything)
            except BaseException:
                self._pool.close()
                raise

    def _run(self, make: Callable[[], Operation[R]], write: bool) -> R:
        return drive(self._transaction(make, write), self._on_pool, throw_in_everything)

    def close(self) -> None:
        self._closed = True
        self._pool.close()


class AsyncServerSqlConversationStore(_ServerRunner, AsyncSqlConversationStore):
    """The asyncio twin of :class:`ServerSqlConversationStore`, driving the same policy.

    Connections belong to an event loop: the store opens its pool on first use, and a
    new one (dropping the old) when it is used from another loop, e.g. a second
    ``asyncio.run``. The schema is created on first use as well.
    """

    _pool_size: int

    @abstractmethod
    async def _connect(self) -> Any: ...

    @abstractmethod
    async def _dispose(self, connection: Any) -> None: ...

    @abstractmethod
    def _terminate(self, connection: Any) -> None:
        """Close a connection without awaiting (its event loop may be gone)."""

    @abstractmethod
    async def _execute(self, connection: Any, step: Step) -> Any: ...

    def _alive(self, connection: Any) -> bool:
        """False when the driver already knows the connection is closed (checked without a round trip)."""
        return True

    def _init_runner(self, pool_size: int) -> None:
        self._pool_size = pool_size
        self._pool: AsyncPool[Any] | None = None
        self._on_pool: Callable[[Call], Awaitable[Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._schema_lock: asyncio.Lock | None = None
        self._schema_ready = False

    def _pool_for_this_loop(self) -> Callable[[Call], Awaitable[Any]]:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._on_pool is None or self._loop is not loop:
            if self._pool is not None:
                self._pool.abandon(self._terminate)
            self._pool = AsyncPool(self._connect, self._dispose, self._pool_size, self._alive)
            self._on_pool = call_on_async(_Connections(self._pool, self._execute, asyncio.sleep))
            self._loop = loop
            self._schema_lock = asyncio.Lock()
        return self._on_pool

    async def _run(self, make: Callable[[], Operation[R]], write: bool) -> R:
        on_pool = self._pool_for_this_loop()
        if not self._schema_ready:
            assert self._schema_lock is not None
            async with self._schema_lock:
                if not self._schema_ready:
                    await drive_async(self._create_schema(), on_pool, throw_in_everything)
                    self._schema_ready = True
        return await drive_async(self._transaction(make, write), on_pool, throw_in_everything)

    async def close(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if asyncio.get_running_loop() is self._loop:
            with self._translating:
                await pool.close()
        else:
            pool.abandon(self._terminate)
