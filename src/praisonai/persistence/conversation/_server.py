"""Runners of the SQL conversation stores that talk to a server (PostgreSQL, MySQL, SingleStore).

What the sqlite runners do with one local connection, these do with a pool of network
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

An engine supplies the hooks: how to connect, run a :class:`Step`, and read its
driver's errors. The statements and the control flow are those of ``_sql.py``.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from typing import Any, TypeVar

from .._pool import AsyncPool, Pool
from ..errors import BackendUnavailableError, InvalidInputError, StoreClosedError, StoreError
from ..url import mask_secrets_in_text
from ._sql import (
    AsyncSqlConversationStore,
    ConversationOperations,
    IntegrityViolation,
    Operation,
    SqlConversationStore,
    Step,
    drive,
    drive_async,
)

__all__ = ["AsyncServerSqlConversationStore", "ServerSqlConversationStore"]

R = TypeVar("R")

_BEGIN = Step("BEGIN")
_COMMIT = Step("COMMIT")
_ROLLBACK = Step("ROLLBACK")
_UNKNOWN_OUTCOME = "; the write may or may not have been applied"


class _Use:
    """One call's hold on a connection."""

    __slots__ = ("broken", "connection", "in_transaction", "retried", "statements")

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.in_transaction = False
        self.statements = 0  # run successfully inside the current transaction
        self.retried = False
        self.broken = False


class _ServerHooks:
    """What an engine tells the runners about its driver. Shared by the sync and async runners."""

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

    def _schema_operation(self) -> Operation[None]:
        """Creates the tables; engines may probe the server first."""
        return self._ops.create_schema()

    def _unavailable(self, error: BaseException, doing: str, outcome: str = "") -> BackendUnavailableError:
        detail = mask_secrets_in_text(f"{type(error).__name__}: {error}".strip())
        return BackendUnavailableError(f"{doing} {self._address} failed{outcome} ({detail})", backend=self.backend)

    def _closed(self) -> StoreError:
        return StoreError("the store is closed", backend=self.backend)

    def _translate(self, error: Exception) -> Exception | None:
        """The contract error a driver error stands for, or None to let it through."""
        if isinstance(error, (StoreError, IntegrityViolation)):
            return None
        if self._is_disconnect(error):
            return self._unavailable(error, "the connection to")
        reason = self._refused_value(error)
        if reason is not None:
            return InvalidInputError(reason, backend=self.backend)
        return None


class ServerSqlConversationStore(_ServerHooks, SqlConversationStore):
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
        try:
            self._create_schema()
        except BaseException:
            self._pool.close()
            raise

    def _create_schema(self) -> None:
        # Two stores creating the same tables at once: one of them fails on the catalog's
        # unique index (PostgreSQL), and finds the tables there on the second try.
        for attempt in (1, 2):
            try:
                self._run(self._schema_operation(), write=True)
                return
            except BackendUnavailableError:
                raise
            except Exception:
                if attempt == 2:
                    raise

    def _acquire(self) -> Any:
        try:
            return self._pool.acquire()
        except StoreClosedError:
            raise self._closed() from None
        except StoreError:
            raise
        except Exception as error:
            raise self._unavailable(error, "connecting to") from error

    def _run(self, operation: Operation[R], write: bool) -> R:
        if self._pool.closed:
            operation.close()
            raise self._closed()
        try:
            use = _Use(self._acquire())
        except BaseException:
            operation.close()
            raise

        def execute(step: Step) -> Any:
            while True:
                try:
                    if write and not use.in_transaction:
                        self._execute(use.connection, _BEGIN)
                        use.in_transaction = True
                    result = self._execute(use.connection, step)
                except Exception as error:
                    if not self._is_disconnect(error):
                        raise
                    self._pool.release(use.connection, broken=True)
                    use.connection = None
                    # Safe to run again: a read, or a transaction that had done nothing yet.
                    if use.retried or (write and use.statements):
                        raise self._unavailable(error, "the connection to") from error
                    use.retried, use.in_transaction = True, False
                    self._pool.discard_idle()
                    use.connection = self._acquire()
                    continue
                if use.in_transaction:
                    use.statements += 1
                return result

        try:
            result = drive(operation, execute, self._classify)
            if use.in_transaction:
                use.in_transaction = False
                try:
                    self._execute(use.connection, _COMMIT)
                except Exception as error:
                    if self._is_disconnect(error):
                        use.broken = True
                        raise self._unavailable(error, "committing to", _UNKNOWN_OUTCOME) from error
                    raise
            return result
        except Exception as error:
            self._rollback(use)
            translated = self._translate(error)
            if translated is None:
                raise
            raise translated from error
        except BaseException:
            use.broken = True  # interrupted mid-statement: the connection's state is unknown
            raise
        finally:
            if use.connection is not None:
                self._pool.release(use.connection, broken=use.broken)

    def _rollback(self, use: _Use) -> None:
        if use.connection is None or not use.in_transaction:
            return
        try:
            self._execute(use.connection, _ROLLBACK)
        except Exception:
            use.broken = True

    def close(self) -> None:
        self._pool.close()


class AsyncServerSqlConversationStore(_ServerHooks, AsyncSqlConversationStore):
    """The asyncio twin of :class:`ServerSqlConversationStore`.

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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._schema_lock: asyncio.Lock | None = None
        self._schema_ready = False
        self._is_closed = False

    def _pool_for_this_loop(self) -> AsyncPool[Any]:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            if self._pool is not None:
                self._pool.abandon(self._terminate)
            self._pool = AsyncPool(self._connect, self._dispose, self._pool_size, self._alive)
            self._loop = loop
            self._schema_lock = asyncio.Lock()
        return self._pool

    async def _acquire(self, pool: AsyncPool[Any]) -> Any:
        try:
            return await pool.acquire()
        except StoreClosedError:
            raise self._closed() from None
        except StoreError:
            raise
        except Exception as error:
            raise self._unavailable(error, "connecting to") from error

    async def _run(self, operation: Operation[R], write: bool) -> R:
        if self._is_closed:
            operation.close()
            raise self._closed()
        try:
            pool = self._pool_for_this_loop()
            if not self._schema_ready:
                await self._create_schema(pool)
        except BaseException:
            operation.close()
            raise
        return await self._run_on(pool, operation, write)

    async def _create_schema(self, pool: AsyncPool[Any]) -> None:
        assert self._schema_lock is not None
        async with self._schema_lock:
            if self._schema_ready:
                return
            for attempt in (1, 2):
                try:
                    await self._run_on(pool, self._schema_operation(), True)
                    break
                except BackendUnavailableError:
                    raise
                except Exception:
                    if attempt == 2:
                        raise
            self._schema_ready = True

    async def _run_on(self, pool: AsyncPool[Any], operation: Operation[R], write: bool) -> R:
        try:
            use = _Use(await self._acquire(pool))
        except BaseException:
            operation.close()
            raise

        async def execute(step: Step) -> Any:
            while True:
                try:
                    if write and not use.in_transaction:
                        await self._execute(use.connection, _BEGIN)
                        use.in_transaction = True
                    result = await self._execute(use.connection, step)
                except Exception as error:
                    if not self._is_disconnect(error):
                        raise
                    await pool.release(use.connection, broken=True)
                    use.connection = None
                    if use.retried or (write and use.statements):
                        raise self._unavailable(error, "the connection to") from error
                    use.retried, use.in_transaction = True, False
                    await pool.discard_idle()
                    use.connection = await self._acquire(pool)
                    continue
                if use.in_transaction:
                    use.statements += 1
                return result

        try:
            result = await drive_async(operation, execute, self._classify)
            if use.in_transaction:
                use.in_transaction = False
                try:
                    await self._execute(use.connection, _COMMIT)
                except Exception as error:
                    if self._is_disconnect(error):
                        use.broken = True
                        raise self._unavailable(error, "committing to", _UNKNOWN_OUTCOME) from error
                    raise
            return result
        except Exception as error:
            await self._rollback(use)
            translated = self._translate(error)
            if translated is None:
                raise
            raise translated from error
        except BaseException:
            use.broken = True  # cancelled mid-statement: the connection's state is unknown
            raise
        finally:
            if use.connection is not None:
                await pool.release(use.connection, broken=use.broken)

    async def _rollback(self, use: _Use) -> None:
        if use.connection is None or not use.in_transaction:
            return
        try:
            await self._execute(use.connection, _ROLLBACK)
        except Exception:
            use.broken = True

    async def close(self) -> None:
        self._is_closed = True
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if asyncio.get_running_loop() is self._loop:
            await pool.close()
        else:
            pool.abandon(self._terminate)
