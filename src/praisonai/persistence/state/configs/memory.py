"""The state config of the in-process ``memory`` backend (optionally journalled to a snapshot file)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ..._keywords import Ignored, Keyword
from ..._urlform import UrlSpec, memory_form
from . import StateConfig

__all__ = ["MemoryStateConfig"]


class MemoryStateConfig(StateConfig):
    backend: ClassVar[str] = "memory"
    # memory:///srv/state.json names /srv/state.json, as file:///srv/state.json does; no parameters.
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(memory_form("snapshot_path", query={}))
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "path": "snapshot_path",
        "auto_save": Ignored("with a snapshot file, every write is journalled when it is made (see fsync)"),
        "save_interval": Ignored("every write is journalled at once; the snapshot is rewritten every compact_every"),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("path", "auto_save", "save_interval")

    snapshot_path: str | None = Field(default=None, min_length=1)
    """File that keeps the state across restarts (a snapshot plus ``<path>.journal``)."""
    fsync: bool = True
    """With a snapshot file: fsync each journal append, so an acknowledged write survives a crash."""
    compact_every: int = Field(default=10_000, ge=1)
    """Journal entries after which the snapshot is rewritten and the journal emptied."""
