"""State config of Valkey: the Redis state backend's, with Valkey's URL schemes."""

from __future__ import annotations

from typing import ClassVar

from ..._urlform import UrlSpec, valkey_form
from .redis import RedisStateConfig

__all__ = ["ValkeyStateConfig"]


class ValkeyStateConfig(RedisStateConfig):
    """Valkey through redis-py (Valkey speaks Redis's protocol and commands): ``valkey://``,
    ``valkeys://`` (TLS), ``redis://``, ``rediss://``, or the fields of the redis backend."""

    backend: ClassVar[str] = "valkey"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(valkey_form({"db": "db"}))
