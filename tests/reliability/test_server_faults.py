"""Server faults: PostgreSQL, MariaDB and Redis go away in the middle of a workload, and come back.

Writers run the whole time (threads for sync stores, asyncio tasks for async ones) while
the server disappears, by two means:

- a TCP proxy in front of the server (``tests/support/tcp_proxy.py``) stops: every
  connection drops and new ones are refused; ten outages per store, the server itself is
  never touched;
- the server really restarts, once per server and run: PostgreSQL (``pg_ctlcluster
  restart -m fast``) and MariaDB (stopped, then started) under the sync and async stores
  at once; Redis is a private ``redis-server`` of this test (append-only file, fsync
  always), restarted three times, so the shared one is never touched.

Then, for each store: every call that failed raised :class:`BackendUnavailableError` (a
``ConnectionError``) naming the backend; every call that started once the server was
back succeeded, on the same store object; every acknowledged write is stored, a write
that failed is stored whole or not at all (batches included), nothing twice; and the
server holds no more connections of the store than its pool size, and none once it is
closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.errors import BackendUnavailableError
from praisonai.persistence.registry import CONVERSATION_STORES, STATE_STORES
from tests.support.emulators import free_port, require_driver, unavailable, wait_for_port
from tests.support.sql_servers import (
    address,
    can_restart_mariadb,
    can_restart_postgres,
    create_mysql_database,
    drop_mysql_database,
    drop_postgres_schema,
    mariadb_restart_guard,
    mysql_execute,
    postgres_backends,
    postgres_restart_guard,
    restart_postgres,
    start_mariadb,
    stop_mariadb,
    unique_name,
    with_address,
    with_database,
)
from tests.support.tcp_proxy import TcpProxy

from .conftest import Figures

pytestmark = [pytest.mark.reliability, pytest.mark.server]

WORKERS = 4
POOL_SIZE = 4
PROXY_OUTAGES = 10
OUTAGE_SECONDS = 0.3
REDIS_RESTARTS = 3


@dataclass
class Call:
    """One write of the workload: what it tried to store and how it ended."""

    ids: tuple[str, ...]
    started: float
    error: BaseException | None = None


@dataclass
class Workload:
    """Writers running until ``stop``; ``calls`` is what each of them did.

    Once stopped, the stored ids are read and the store is closed by whoever owns its
    connections (the async store's own event loop), after counting the server's
    connections of the store with ``connections`` (``open_connections``).
    """

    backend: str
    connections: Callable[[], int]
    stop: threading.Event = field(default_factory=threading.Event)
    calls: list[Call] = field(default_factory=list)
    crashed: list[BaseException] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    stored_ids: list[str] = field(default_factory=list)
    open_connections: int = -1

    def finish(self, store: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in self.threads), "a writer hung"
        assert self.crashed == [], self.crashed[0]
        if not asyncio.iscoroutinefunction(store.add_message):
            try:
                self.open_connections = self.connections()
                self.stored_ids = [m.id for worker in range(WORKERS) for m in store.get_messages(f"w{worker}")]
            finally:
                store.close()


@dataclass
class Outages:
    """When the server was back (``restored``), and how many outages there were."""

    restored: list[float] = field(default_factory=list)


def _batch(worker: int, number: int, rng: random.Random) -> list[ConversationMessage]:
    size = rng.choice((1, 1, 3))
    return [
        ConversationMessage(role="user", content=f"w{worker}-{number}-{part}", created_at=float(number))
        for part in range(size)
    ]


def start_conversation_workload(store: Any, backend: str, connections: Callable[[], int]) -> Workload:
    """``WORKERS`` threads (sync store) or asyncio tasks on a thread of their own (async store)."""
    workload = Workload(backend, connections)
    is_async = asyncio.iscoroutinefunction(store.add_message)
    lock = threading.Lock()

    def record(call: Call) -> None:
        with lock:
            workload.calls.append(call)

    def write_sync(worker: int) -> None:
        rng = random.Random(worker)
        number = 0
        try:
            while not workload.stop.is_set():
                batch = _batch(worker, number, rng)
                number += 1
                call = Call(tuple(message.id for message in batch), time.monotonic())
                try:
                    if len(batch) == 1:
                        store.add_message(f"w{worker}", batch[0])
                    else:
                        store.add_messages(f"w{worker}", batch)
                except Exception as error:
                    call.error = error
                record(call)
                if call.error is not None:
                    time.sleep(0.02)  # no busy loop while the server is away
        except BaseException as error:
            workload.crashed.append(error)

    async def write_async(worker: int) -> None:
        rng = random.Random(worker)
        number = 0
        while not workload.stop.is_set():
            batch = _batch(worker, number, rng)
            number += 1
            call = Call(tuple(message.id for message in batch), time.monotonic())
            try:
                if len(batch) == 1:
                    await store.add_message(f"w{worker}", batch[0])
                else:
                    await store.add_messages(f"w{worker}", batch)
            except Exception as error:
                call.error = error
            record(call)
            if call.error is not None:
                await asyncio.sleep(0.02)

    async def run_async() -> None:
        try:
            await asyncio.gather(*(write_async(worker) for worker in range(WORKERS)))
            workload.open_connections = await asyncio.to_thread(connections)
            workload.stored_ids = [m.id for worker in range(WORKERS) for m in await store.get_messages(f"w{worker}")]
        finally:
            await store.close()  # in the event loop that owns its connections

    def run_tasks() -> None:
        try:
            asyncio.run(run_async())
        except BaseException as error:
            workload.crashed.append(error)

    if is_async:

        async def create_sessions() -> None:
            for worker in range(WORKERS):
                await store.create_session(ConversationSession(session_id=f"w{worker}"))

        asyncio.run(create_sessions())  # the workload's loop opens a pool of its own
        workload.threads.append(threading.Thread(target=run_tasks, name=f"{backend}-tasks"))
    else:
        for worker in range(WORKERS):
            store.create_session(ConversationSession(session_id=f"w{worker}"))
        workload.threads.extend(
            threading.Thread(target=write_sync, args=(worker,), name=f"{backend}-{worker}") for worker in range(WORKERS)
        )
    for thread in workload.threads:
        thread.start()
    return workload


def check_outcome(workload: Workload, outages: Outages) -> dict[str, int]:
    """The properties of the module docstring, for one store; returns its figures."""
    backend = workload.backend
    stored_ids = workload.stored_ids
    assert 0 <= workload.open_connections <= POOL_SIZE, f"{backend} held {workload.open_connections} connections"
    failed = [call for call in workload.calls if call.error is not None]
    for call in failed:
        error = call.error
        assert isinstance(error, BackendUnavailableError) and isinstance(error, ConnectionError), repr(error)
        assert error.backend == backend and f"[{backend}]" in str(error), str(error)
    assert failed, f"no call of {backend} failed: the outages did not reach it"
    last_back = outages.restored[-1]
    after = [call for call in workload.calls if call.started >= last_back]
    assert after, f"no call of {backend} was made after the server came back"
    late_failures = [call for call in after if call.error is not None]
    assert late_failures == [], f"{backend} failed after the server was back: {late_failures[0].error}"
    stored = set(stored_ids)
    assert len(stored) == len(stored_ids), f"{backend} stored a message twice"
    attempted = {message_id for call in workload.calls for message_id in call.ids}
    assert stored <= attempted
    for call in workload.calls:
        present = stored.intersection(call.ids)
        if call.error is None:
            assert present == set(call.ids), f"{backend} lost an acknowledged write"
        else:
            assert present in (set(), set(call.ids)), f"{backend} half-wrote a failed batch"
    return {
        "calls": len(workload.calls),
        "failed_calls": len(failed),
        "acknowledged_messages": sum(len(call.ids) for call in workload.calls if call.error is None),
        "stored_messages": len(stored),
    }


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _restart_under_writers(
    stores: dict[str, Any], workloads: dict[str, Workload], restart: Callable[[], None], figures: Figures
) -> None:
    """Restart the server once while every store's writers run; then check each store's outcome."""
    outages = Outages()
    time.sleep(1.0)
    restart()
    outages.restored.append(time.monotonic())
    time.sleep(1.5)
    for backend, workload in workloads.items():
        workload.finish(stores[backend])
    for backend, workload in workloads.items():
        outcome = check_outcome(workload, outages)
        assert _eventually(lambda workload=workload: workload.connections() == 0), "connections leaked"
        figures.record("server_restart", backend, restarts=1, **outcome)


# -- PostgreSQL ----------------------------------------------------------------------------------------------------


def _open_postgres(backend: str, url: str, schema: str, application: str) -> Any:
    require_driver("psycopg" if backend == "postgres" else "asyncpg", "postgres")
    return CONVERSATION_STORES.create(
        backend, url=url, schema=schema, application_name=application, pool_size=POOL_SIZE, connect_timeout=2
    )


@pytest.mark.parametrize("backend", ["postgres", "async_postgres"])
def test_postgres_outages_through_a_proxy(backend: str, postgres_url: str, pg_schema: str, figures: Figures) -> None:
    proxy = TcpProxy(*address(postgres_url, 5432)).start()
    application = unique_name("rel")
    try:
        store = _open_postgres(backend, with_address(postgres_url, proxy.host, proxy.port), pg_schema, application)
        workload = start_conversation_workload(store, backend, lambda: postgres_backends(postgres_url, application))
        outages = _run_proxy_outages(proxy)
        workload.finish(store)
        outcome = check_outcome(workload, outages)
        assert _eventually(lambda: postgres_backends(postgres_url, application) == 0), "connections leaked"
    finally:
        proxy.stop()
    figures.record("proxy_outages", backend, outages=PROXY_OUTAGES, **outcome)


def _run_proxy_outages(proxy: TcpProxy) -> Outages:
    outages = Outages()
    for _ in range(PROXY_OUTAGES):
        time.sleep(OUTAGE_SECONDS)
        proxy.stop()
        time.sleep(OUTAGE_SECONDS)
        proxy.start()
        outages.restored.append(time.monotonic())
    time.sleep(OUTAGE_SECONDS * 2)
    return outages


@pytest.mark.slow
def test_postgres_restart_under_sync_and_async_writers(postgres_url: str, figures: Figures) -> None:
    if not can_restart_postgres():
        unavailable("pg_ctlcluster is not available to restart PostgreSQL here")
    schemas = {backend: unique_name("rel") for backend in ("postgres", "async_postgres")}
    try:
        stores, workloads = {}, {}
        for backend, schema in schemas.items():
            application = unique_name("rel")
            stores[backend] = _open_postgres(backend, postgres_url, schema, application)
            workloads[backend] = start_conversation_workload(
                stores[backend], backend, lambda application=application: postgres_backends(postgres_url, application)
            )
        _restart_under_writers(stores, workloads, lambda: _restart_postgres(postgres_url), figures)
    finally:
        for schema in schemas.values():
            with contextlib.suppress(Exception):
                drop_postgres_schema(postgres_url, schema)


def _restart_postgres(postgres_url: str) -> None:
    with postgres_restart_guard(postgres_url):
        restart_postgres()


# -- MariaDB -------------------------------------------------------------------------------------------------------


def _restart_mariadb(mysql_url: str) -> None:
    with mariadb_restart_guard(mysql_url):
        stop_mariadb(mysql_url)
        time.sleep(OUTAGE_SECONDS)
        start_mariadb(mysql_url)


def _open_mysql(backend: str, url: str) -> Any:
    require_driver("pymysql" if backend == "mysql" else "aiomysql", "mysql")
    return CONVERSATION_STORES.create(backend, url=url, pool_size=POOL_SIZE, connect_timeout=2)


def _mysql_connections(admin_url: str, database: str) -> int:
    rows = mysql_execute(admin_url, "SELECT COUNT(*) FROM information_schema.processlist WHERE db = %s", (database,))
    return int(rows[0][0])


@pytest.mark.parametrize("backend", ["mysql", "async_mysql"])
def test_mariadb_outages_through_a_proxy(backend: str, mysql_db_url: str, figures: Figures) -> None:
    database = mysql_db_url.rsplit("/", 1)[1]
    proxy = TcpProxy(*address(mysql_db_url, 3306)).start()
    try:
        store = _open_mysql(backend, with_address(mysql_db_url, proxy.host, proxy.port))
        workload = start_conversation_workload(store, backend, lambda: _mysql_connections(mysql_db_url, database))
        outages = _run_proxy_outages(proxy)
        workload.finish(store)
        outcome = check_outcome(workload, outages)
        assert _eventually(lambda: _mysql_connections(mysql_db_url, database) == 0), "connections leaked"
    finally:
        proxy.stop()
    figures.record("proxy_outages", backend, outages=PROXY_OUTAGES, **outcome)


@pytest.mark.slow
def test_mariadb_restart_under_sync_and_async_writers(mysql_url: str, figures: Figures) -> None:
    if not can_restart_mariadb():
        unavailable("mariadbd and mysqladmin are not available to restart MariaDB here")
    require_driver("pymysql", "mysql")
    databases = {backend: create_mysql_database(mysql_url) for backend in ("mysql", "async_mysql")}
    try:
        stores, workloads = {}, {}
        for backend, database in databases.items():
            stores[backend] = _open_mysql(backend, with_database(mysql_url, database))
            workloads[backend] = start_conversation_workload(
                stores[backend], backend, lambda database=database: _mysql_connections(mysql_url, database)
            )
        _restart_under_writers(stores, workloads, lambda: _restart_mariadb(mysql_url), figures)
    finally:
        for database in databases.values():
            with contextlib.suppress(Exception):
                drop_mysql_database(mysql_url, database)


# -- Redis ---------------------------------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test alone (append-only file, fsync always), restartable at will."""

    def __init__(self, directory: Path) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            unavailable("redis-server is not installed; the Redis restart test runs a private one")
        self.executable = executable
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            self.executable,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--dir", str(self.directory),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, "private redis-server")
        self._wait_until_loaded()

    def _wait_until_loaded(self) -> None:
        """Redis accepts connections while it replays its append-only file; it is back once PING answers."""
        import redis

        admin = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    admin.ping()
                    return
                except redis.exceptions.BusyLoadingError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
        finally:
            admin.close()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()  # SIGTERM: Redis flushes the append-only file and exits
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)

    def clients(self) -> int:
        import redis

        admin = redis.Redis(host="127.0.0.1", port=self.port)
        try:
            return len(admin.client_list()) - 1  # not counting this one
        finally:
            admin.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    require_driver("redis", "redis")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class StateCall:
    writes: dict[str, Any]  # key -> the value it sets (a hash field write: key "hash:field")
    started: float
    error: BaseException | None = None


def start_redis_workload(
    store: Any,
) -> tuple[threading.Event, list[StateCall], list[threading.Thread], list[BaseException]]:
    stop = threading.Event()
    calls: list[StateCall] = []
    crashed: list[BaseException] = []
    lock = threading.Lock()

    def write(worker: int) -> None:
        rng = random.Random(worker)
        number = 0
        try:
            while not stop.is_set():
                number += 1
                roll = rng.random()
                if roll < 0.5:
                    call = StateCall({f"w{worker}:k{number}": [worker, number]}, time.monotonic())
                elif roll < 0.8:
                    items = {f"w{worker}:m{number}:{part}": [worker, number, part] for part in range(3)}
                    call = StateCall(dict(items), time.monotonic())
                else:
                    call = StateCall({f"w{worker}:h:f{number}": number}, time.monotonic())
                try:
                    if roll < 0.5:
                        key, value = next(iter(call.writes.items()))
                        store.set(key, value)
                    elif roll < 0.8:
                        store.set_many(call.writes)
                    else:
                        store.hset(f"w{worker}:h", f"f{number}", number)
                except Exception as error:
                    call.error = error
                with lock:
                    calls.append(call)
                if call.error is not None:
                    time.sleep(0.02)
        except BaseException as error:
            crashed.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(WORKERS)]
    for thread in threads:
        thread.start()
    return stop, calls, threads, crashed


def _check_redis(store: Any, calls: list[StateCall], restored: float) -> dict[str, int]:
    failed = [call for call in calls if call.error is not None]
    assert failed, "no call failed: the outages did not reach the store"
    for call in failed:
        error = call.error
        assert isinstance(error, BackendUnavailableError) and isinstance(error, ConnectionError), repr(error)
        assert error.backend == "redis" and "[redis]" in str(error)
    late = [call for call in calls if call.started >= restored and call.error is not None]
    assert late == [], f"a call failed after the server was back: {late[0].error}"

    def stored(key: str) -> Any:
        if ":h:" in key:
            hash_key, _, field_name = key.rpartition(":")
            return store.hget(hash_key, field_name)
        return store.get(key)

    for call in calls:
        found = {key: stored(key) for key in call.writes}
        if call.error is None:
            assert found == call.writes, "an acknowledged write was lost"
        else:
            assert all(value is None for value in found.values()) or found == call.writes, "a write was half-applied"
    return {
        "calls": len(calls),
        "failed_calls": len(failed),
        "acknowledged_writes": sum(len(call.writes) for call in calls if call.error is None),
    }


def test_redis_outages_through_a_proxy_and_restarts(private_redis: PrivateRedis, figures: Figures) -> None:
    proxy = TcpProxy("127.0.0.1", private_redis.port).start()
    prefix = f"rel:{uuid.uuid4().hex}:"
    through_proxy = STATE_STORES.create(
        "redis", url=f"redis://{proxy.host}:{proxy.port}/0", key_prefix=prefix, max_connections=8,
        socket_timeout=2, socket_connect_timeout=2,
    )  # fmt: skip
    try:
        stop, calls, threads, crashed = start_redis_workload(through_proxy)
        outages = _run_proxy_outages(proxy)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        assert crashed == [], crashed[0]
        assert private_redis.clients() <= 8
        proxied = _check_redis(through_proxy, calls, outages.restored[-1])
    finally:
        through_proxy.close()
        proxy.stop()
    assert _eventually(lambda: private_redis.clients() == 0), "connections leaked"
    figures.record("proxy_outages", "redis", outages=PROXY_OUTAGES, **proxied)

    direct = STATE_STORES.create(
        "redis", url=f"redis://127.0.0.1:{private_redis.port}/0", key_prefix=prefix + "direct:", max_connections=8,
        socket_timeout=2, socket_connect_timeout=2,
    )  # fmt: skip
    try:
        stop, calls, threads, crashed = start_redis_workload(direct)
        restored = 0.0
        for _ in range(REDIS_RESTARTS):
            time.sleep(0.5)
            private_redis.stop()
            time.sleep(OUTAGE_SECONDS)
            private_redis.start()
            restored = time.monotonic()
        time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        assert crashed == [], crashed[0]
        assert private_redis.clients() <= 8
        restarted = _check_redis(direct, calls, restored)
    finally:
        direct.close()
    assert _eventually(lambda: private_redis.clients() == 0), "connections leaked"
    figures.record("server_restart", "redis", restarts=REDIS_RESTARTS, **restarted)
