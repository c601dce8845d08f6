"""Knowledge config of Valkey with its search module: the Redis vector backend's, with Valkey's URL schemes."""

from __future__ import annotations

from typing import ClassVar

from ..._urlform import UrlSpec, valkey_form
from .engines import RedisVectorKnowledgeConfig

__all__ = ["ValkeyVectorKnowledgeConfig"]


class ValkeyVectorKnowledgeConfig(RedisVectorKnowledgeConfig):
    """Valkey with valkey-search (its FT.* commands follow RediSearch's), through redis-py:
    ``valkey://``, ``valkeys://`` (TLS), ``redis://``, ``rediss://``, or the fields of the redis backend."""

    backend: ClassVar[str] = "valkey"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(valkey_form({"key_prefix": "key_prefix"}))
