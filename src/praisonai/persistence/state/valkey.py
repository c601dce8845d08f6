"""valkey state backend: Valkey through redis-py, the redis state backend's commands.

Valkey speaks the Redis protocol and commands, so this is the redis backend
under Valkey's name and URL schemes (``valkey://``, ``valkeys://``). PraisonAI
4.7.19's ``ValkeyStateStore`` (valkey-glide) is this class.

Test tier: server, but on the Redis server on loopback; no Valkey server is exercised.
"""

from __future__ import annotations

from .redis import RedisStateStore

__all__ = ["ValkeyStateStore"]


class ValkeyStateStore(RedisStateStore):
    """State in Valkey: the redis backend's store (see :class:`~.redis.RedisStateStore`)."""

    backend = "valkey"
