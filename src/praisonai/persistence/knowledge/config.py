"""Config models of the built-in knowledge backends.

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import Field

from .._catalogue import Kind
from .._config import StoreConfig, build_store
from ..url import URL

if TYPE_CHECKING:
    from .base import KnowledgeStore

__all__ = ["KnowledgeConfig", "MemoryKnowledgeConfig"]


class KnowledgeConfig(StoreConfig):
    """Config of a knowledge backend; ``open()`` is a KnowledgeStore."""

    kind: ClassVar[Kind] = "knowledge"

    def open(self) -> KnowledgeStore:
        return cast("KnowledgeStore", build_store(self))


class MemoryKnowledgeConfig(KnowledgeConfig):
    """The pure-Python ``memory`` backend: ``memory://``, or ``memory:///relative.json`` /
    ``memory:////absolute.json`` to keep the collections in a JSON file."""

    backend: ClassVar[str] = "memory"

    path: str | None = Field(default=None, min_length=1)
    """JSON file holding every collection; loaded on open, rewritten atomically (see ``autosave``)."""
    autosave: bool = True
    """With a path: rewrite the file after every write (else only on ``save()`` and ``close()``)."""

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme != "memory":
            raise ValueError(f"expected memory:// or memory:///path/to/file.json, got scheme {parsed.scheme!r}")
        if parsed.host or parsed.username or parsed.port:
            raise ValueError("memory URLs have no host: use memory:///relative.json or memory:////absolute.json")
        fields: dict[str, Any] = {"path": parsed.database} if parsed.database else {}
        for key, value in parsed.query:
            if key != "autosave":
                raise ValueError(f"unknown memory URL parameter {key!r}; the only one is autosave")
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"autosave must be true or false, got {value!r:.20}")
            fields["autosave"] = value.lower() in ("true", "1", "yes")
        return fields
