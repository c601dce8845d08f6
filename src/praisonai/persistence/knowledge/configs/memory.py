"""The knowledge config of the pure-Python ``memory`` backend (optionally kept in a JSON file)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ..._urlform import UrlSpec, flag, memory_form
from . import KnowledgeConfig

__all__ = ["MemoryKnowledgeConfig"]


class MemoryKnowledgeConfig(KnowledgeConfig):
    """The pure-Python ``memory`` backend: ``memory://``, or ``memory:///srv/knowledge.json`` (an
    absolute path, as in ``file:///``; ``memory:////srv/knowledge.json`` names the same) to keep the
    collections in a JSON file. A relative path goes through ``path=``."""

    backend: ClassVar[str] = "memory"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        memory_form("path", query={"autosave": "autosave"}, convert={"autosave": flag("autosave")})
    )

    path: str | None = Field(default=None, min_length=1)
    """JSON file holding every collection; loaded on open, rewritten atomically (see ``autosave``)."""
    autosave: bool = True
    """With a path: rewrite the file after every write (else only on ``save()`` and ``close()``)."""
