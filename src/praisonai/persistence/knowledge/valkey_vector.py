"""valkey knowledge backend (alias valkey_vector): Valkey with valkey-search, through redis-py.

valkey-search's ``FT.*`` commands follow RediSearch's, so this is the redis
knowledge backend under Valkey's name and URL schemes (``valkey://``,
``valkeys://``). PraisonAI 4.7.19's ``ValkeyVectorKnowledgeStore`` (valkey-glide)
is this class; PraisonAI registers it as ``valkey``. ``async_valkey`` is ``async_redis``'s store
under the same name.

Test tier: server, but on Redis Stack (RediSearch) on loopback; no Valkey server is exercised.
"""

from __future__ import annotations

from .redis import AsyncRedisVectorKnowledgeStore, RedisVectorKnowledgeStore

__all__ = ["AsyncValkeyVectorKnowledgeStore", "ValkeyVectorKnowledgeStore"]


class ValkeyVectorKnowledgeStore(RedisVectorKnowledgeStore):
    """Vectors in Valkey: the redis knowledge backend's store (see :class:`~.redis.RedisVectorKnowledgeStore`)."""

    backend = "valkey"


class AsyncValkeyVectorKnowledgeStore(AsyncRedisVectorKnowledgeStore):
    """``async_valkey``: the redis knowledge backend's native async store under Valkey's name."""

    backend = "async_valkey"
