"""redis state store against raw redis-py doing the same commands.

Both sides use a connection pool built from the same settings (``decode_responses``,
utf-8, timeouts), store JSON text under a prefix of equal length, and send the same
commands: ``GET`` / ``SET key value`` per call; ``get_many`` as one non-transactional
pipeline of ``GET``\\ s, ``set_many`` as one ``MULTI``/``EXEC`` pipeline of ``SET``\\ s.
The raw side encodes and decodes JSON as any user of redis-py must.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from praisonai.persistence.registry import STATE_STORES
from praisonai.persistence.state.config import RedisStateConfig

from ._conversation import encode
from ._harness import Options, Row, alternating, rate_row
from .servers import _reachable

MIN_RATIO = 0.9  # issue 17: every ratio against a raw driver at least 0.9
CALLS_PER_ROUND_MANY = 20
Prepare = Callable[[], Callable[[int], object]]  # prepares a round, returns its call function


def _value(index: int) -> dict[str, Any]:
    return {"user": f"user-{index % 97}", "step": index, "tags": ["draft", "bench"], "score": index / 7}


def _raw_client(config: RedisStateConfig) -> Any:
    """The same pool the redis store builds (plain TCP, no size limit)."""
    import redis

    pool = redis.ConnectionPool(
        host=config.host,
        port=config.port,
        db=config.db,
        username=config.username,
        password=None if config.password is None else config.password.get_secret_value(),
        socket_timeout=config.socket_timeout,
        socket_connect_timeout=config.socket_connect_timeout,
        decode_responses=True,
        encoding="utf-8",
    )
    return redis.Redis(connection_pool=pool)


def run(options: Options) -> list[Row]:
    _reachable(options.redis_url, 6379, "Redis")
    config = RedisStateConfig.from_options(options.redis_url)
    pid = os.getpid()
    ours_prefix, raw_prefix = f"bench:{pid}:ours:", f"bench:{pid}:raw-:"  # equal lengths
    ours = STATE_STORES.create("redis", url=options.redis_url, key_prefix=ours_prefix)
    raw = _raw_client(config)
    keys = [f"key-{index:06d}" for index in range(options.keys)]
    values = [_value(index) for index in range(options.keys)]
    many_keys = [f"many-{index:06d}" for index in range(options.many)]
    many_items = {key: _value(index) for index, key in enumerate(many_keys)}
    raw_many_keys = [raw_prefix + key for key in many_keys]
    loads = json.loads

    def ours_set() -> Callable[[int], object]:
        return lambda index: ours.set(keys[index], values[index])

    def raw_set() -> Callable[[int], object]:
        return lambda index: raw.set(raw_prefix + keys[index], encode(values[index]), px=None)

    def ours_get() -> Callable[[int], object]:
        return lambda index: ours.get(keys[index])

    def raw_get() -> Callable[[int], object]:
        def get(index: int) -> object:
            text = raw.get(raw_prefix + keys[index])
            return None if text is None else loads(text)

        return get

    def ours_set_many() -> Callable[[int], object]:
        return lambda _: ours.set_many(many_items)

    def raw_set_many() -> Callable[[int], object]:
        def set_many(_: int) -> None:
            with raw.pipeline(transaction=True) as pipe:
                for key, value in many_items.items():
                    pipe.set(raw_prefix + key, encode(value), px=None)
                pipe.execute()

        return set_many

    def ours_get_many() -> Callable[[int], object]:
        return lambda _: ours.get_many(many_keys)

    def raw_get_many() -> Callable[[int], object]:
        def get_many(_: int) -> dict[str, Any]:
            with raw.pipeline(transaction=False) as pipe:
                for key in raw_many_keys:
                    pipe.get(key)
                texts = pipe.execute()
            return {key: loads(text) for key, text in zip(many_keys, texts, strict=True) if text is not None}

        return get_many

    rows: list[Row] = []
    try:
        # The two sides alternate call by call (a pipeline of 1,000 keys is one call).
        for name, ours_call, raw_call in (("set", ours_set, raw_set), ("get", ours_get, raw_get)):
            samples = alternating(ours_call, raw_call, options.keys, options.rounds)
            rows.append(rate_row("redis", name, samples, options.keys, "ops/s", MIN_RATIO))
        pairs: list[tuple[str, Prepare, Prepare, int, str]] = [
            (
                f"set_many of {options.many:,} keys (MULTI/EXEC pipeline)",
                ours_set_many,
                raw_set_many,
                options.many * CALLS_PER_ROUND_MANY,
                "keys/s",
            ),
            (
                f"get_many of {options.many:,} keys (pipeline)",
                ours_get_many,
                raw_get_many,
                options.many * CALLS_PER_ROUND_MANY,
                "keys/s",
            ),
        ]
        for name, ours_run, raw_run, count, unit in pairs:
            samples = alternating(ours_run, raw_run, CALLS_PER_ROUND_MANY, options.rounds)
            rows.append(rate_row("redis", name, samples, count, unit, MIN_RATIO))
    finally:
        for prefix in (ours_prefix, raw_prefix):
            doomed = list(raw.scan_iter(match=prefix + "*", count=1000))
            for start in range(0, len(doomed), 1000):
                raw.delete(*doomed[start : start + 1000])
        ours.close()
        raw.close()
    return rows
