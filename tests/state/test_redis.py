"""redis: the state contract on the real Redis server, plus URL forms, secrets, prefixes, SCAN and pipelining."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.emulators import require_driver, unavailable

redis = require_driver("redis", "redis")

from praisonai.persistence.errors import BackendUnavailableError, ConfigError  # noqa: E402
from praisonai.persistence.registry import STATE_STORES  # noqa: E402
from praisonai.persistence.state.base import StateStore  # noqa: E402
from praisonai.persistence.state.config import RedisStateConfig  # noqa: E402
from praisonai.persistence.state.redis import RedisStateStore  # noqa: E402
from praisonai.persistence.testing import StateStoreContract  # noqa: E402


def _drop_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        pattern = prefix.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?").replace("[", "\\[") + "*"
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    value = f"test:{uuid.uuid4().hex}:"
    yield value
    _drop_prefix(redis_url, value)


class TestRedisContract(StateStoreContract):
    @pytest.fixture
    def store(self, redis_url: str, prefix: str) -> Iterator[StateStore]:
        store = STATE_STORES.create("redis", url=redis_url, key_prefix=prefix)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, redis_url: str, prefix: str) -> Callable[[], StateStore]:
        return lambda: STATE_STORES.create("redis", url=redis_url, key_prefix=prefix)


def test_url_forms() -> None:
    tcp = RedisStateConfig.from_options("redis://alice:s%40cret@cache.example:6380/3")
    assert (tcp.host, tcp.port, tcp.db, tcp.username, tcp.ssl) == ("cache.example", 6380, 3, "alice", False)
    assert tcp.password is not None and tcp.password.get_secret_value() == "s@cret"
    tls = RedisStateConfig.from_options("rediss://:pw@cache.example")
    assert tls.ssl is True and tls.port == 6379 and tls.username is None
    unix = RedisStateConfig.from_options("unix:///run/redis/redis.sock?db=2")
    assert (unix.unix_socket_path, unix.db) == ("/run/redis/redis.sock", 2)
    options_win = RedisStateConfig.from_options("redis://h/1", {"db": 4, "key_prefix": "app:"})
    assert (options_win.db, options_win.key_prefix) == (4, "app:")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://h:6379", "scheme"),
        ("redis://h/notanumber", "database number"),
        ("unix://", "socket path"),
        ("redis://h?color=blue", "unknown URL parameter"),
    ],
)
def test_bad_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        RedisStateConfig.from_options(url)


def test_password_never_shows() -> None:
    config = RedisStateConfig.from_options("redis://user:hunter2@h:1/0")
    assert "hunter2" not in repr(config) and "hunter2" not in str(config)
    with pytest.raises(ConfigError) as caught:
        RedisStateConfig.from_options("redis://user:hunter2@h:1/x")
    assert "hunter2" not in str(caught.value)


def test_values_are_plain_json_text_in_redis(redis_url: str, prefix: str) -> None:
    with RedisStateStore(RedisStateConfig.from_options(redis_url, {"key_prefix": prefix})) as store:
        store.set("n", "123")
        store.hset("h", "f", 123)
        raw = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            assert raw.get(prefix + "n") == '"123"'
            assert raw.hgetall(prefix + "h") == {"f": "123"}
            assert raw.type(prefix + "h") == "hash"
        finally:
            raw.close()


def test_fractional_ttls_keep_their_milliseconds(redis_url: str, prefix: str) -> None:
    with RedisStateStore(RedisStateConfig.from_options(redis_url, {"key_prefix": prefix})) as store:
        store.set("k", 1, ttl=0.25)
        raw = redis.Redis.from_url(redis_url)
        try:
            assert 150 < raw.pttl(prefix + "k") <= 250
        finally:
            raw.close()
        assert store.ttl("k") == 1
        time.sleep(0.3)
        assert store.get("k") is None


def test_prefixes_isolate_stores_even_with_glob_characters(redis_url: str) -> None:
    odd, plain = f"test:{uuid.uuid4().hex}:a*[b]?\\:", f"test:{uuid.uuid4().hex}:"
    try:
        with (
            STATE_STORES.create("redis", url=redis_url, key_prefix=odd) as first,
            STATE_STORES.create("redis", url=redis_url, key_prefix=plain) as second,
        ):
            first.set("k1", 1)
            first.set("k2", 2)
            second.set("k1", "other")
            assert first.keys() == ["k1", "k2"]
            assert second.keys() == ["k1"]
            assert first.get("k1") == 1 and second.get("k1") == "other"
    finally:
        _drop_prefix(redis_url, odd)
        _drop_prefix(redis_url, plain)


def _command_calls(url: str, command: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def test_keys_uses_scan_and_never_keys(redis_url: str, prefix: str) -> None:
    with RedisStateStore(RedisStateConfig.from_options(redis_url, {"key_prefix": prefix})) as store:
        store.set_many({f"k{index:04d}": index for index in range(2500)})
        keys_before, scans_before = _command_calls(redis_url, "keys"), _command_calls(redis_url, "scan")
        listed = store.keys("k*")
        assert listed == [f"k{index:04d}" for index in range(2500)]
        assert _command_calls(redis_url, "keys") == keys_before
        assert _command_calls(redis_url, "scan") > scans_before


def test_batches_are_pipelined(redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with RedisStateStore(RedisStateConfig.from_options(redis_url, {"key_prefix": prefix})) as store:
        client: Any = store._client
        single: list[tuple[Any, ...]] = []
        original = client.execute_command

        def spy(*args: Any, **options: Any) -> Any:
            single.append(args)
            return original(*args, **options)

        monkeypatch.setattr(client, "execute_command", spy)
        store.set_many({f"k{index}": index for index in range(50)}, ttl=60)
        assert store.get_many([f"k{index}" for index in range(50)]) == {f"k{index}": index for index in range(50)}
        assert single == []  # every command went through a pipeline, none one by one
        store.get("k1")
        assert single and single[-1][0] == "GET"


def test_a_bounded_pool_makes_threads_wait_instead_of_failing(redis_url: str, prefix: str) -> None:
    config = RedisStateConfig.from_options(redis_url, {"key_prefix": prefix, "max_connections": 2})
    with RedisStateStore(config) as store:
        errors: list[BaseException] = []

        def work(thread: int) -> None:
            try:
                for index in range(25):
                    store.hset(f"h{thread}", str(index), index)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=work, args=(thread,)) for thread in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert all(len(store.hgetall(f"h{thread}")) == 25 for thread in range(8))
        pool: Any = store._pool
        assert pool.max_connections == 2
        assert len(pool._connections) <= 2


def test_unreachable_server_raises_backend_unavailable() -> None:
    store = STATE_STORES.create("redis", url="redis://:topsecret@127.0.0.1:1/0", socket_connect_timeout=1)
    with pytest.raises(BackendUnavailableError) as caught:
        store.get("k")
    assert isinstance(caught.value, ConnectionError)
    assert "[redis]" in str(caught.value) and "topsecret" not in str(caught.value)
    store.close()


@pytest.fixture(scope="module")
def unix_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A second redis-server, on a Unix socket only, with a password."""
    server = shutil.which("redis-server")
    if server is None:
        unavailable("redis-server is not installed, so the unix:// test cannot start its own server")
    directory = tmp_path_factory.mktemp("redis-unix")
    socket_path, password = directory / "redis.sock", "s3cret-unix"
    process = subprocess.Popen(
        [
            server,
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--requirepass",
            password,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not socket_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("redis-server did not create its Unix socket")
        time.sleep(0.05)
    yield socket_path, password
    process.terminate()
    process.wait(timeout=10)


def test_unix_socket_url_with_password(unix_redis: tuple[Path, str]) -> None:
    socket_path, password = unix_redis
    with STATE_STORES.create("redis", url=f"unix://:{password}@{socket_path}?db=1") as store:
        store.set("k", {"via": "unix"})
        assert store.get("k") == {"via": "unix"}
        assert store.keys() == ["k"]
    wrong = STATE_STORES.create("redis", url=f"unix://:wrong-password@{socket_path}")
    with pytest.raises(Exception) as caught:
        wrong.get("k")
    assert "wrong-password" not in str(caught.value)
    wrong.close()
