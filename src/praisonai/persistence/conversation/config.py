"""Config models of the built-in conversation backends.

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import Field, field_validator

from .._catalogue import Kind
from .._config import StoreConfig, TablePrefix, build_store
from .._paths import data_dir
from ..url import URL

if TYPE_CHECKING:
    from .base import AsyncConversationStore, ConversationStore

__all__ = [
    "AsyncConversationConfig",
    "AsyncSqliteConversationConfig",
    "ConversationConfig",
    "SqliteConversationConfig",
]


class ConversationConfig(StoreConfig):
    """Config of a synchronous conversation backend; ``open()`` is a ConversationStore."""

    kind: ClassVar[Kind] = "conversation"

    def open(self) -> ConversationStore:
        return cast("ConversationStore", build_store(self))


class AsyncConversationConfig(StoreConfig):
    """Config of an asyncio conversation backend; ``open()`` is an AsyncConversationStore."""

    kind: ClassVar[Kind] = "conversation"

    def open(self) -> AsyncConversationStore:
        return cast("AsyncConversationStore", build_store(self))


def _default_sqlite_path() -> str:
    return str(data_dir() / "conversations.db")


class _SqliteSettings(StoreConfig):
    path: str = Field(default_factory=_default_sqlite_path, min_length=1)
    """Database file, or ``:memory:``. Accepts ``sqlite:///relative.db`` and ``sqlite:////abs.db`` URLs."""
    table_prefix: TablePrefix = "praison_"
    busy_timeout: float = Field(default=5.0, gt=0, le=3600)
    """Seconds a writer waits for another process's lock before giving up."""
    durable: bool = True
    """fsync on every commit (``synchronous=FULL``); False trades durability on power loss for speed."""

    @field_validator("path")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if "://" not in url:
            return {"path": url}
        parsed = URL.parse(url)
        if parsed.scheme not in ("sqlite", "file"):
            raise ValueError(f"expected a sqlite:/// URL or a file path, got scheme {parsed.scheme!r}")
        if parsed.host:
            raise ValueError("sqlite URLs have no host: use sqlite:///relative.db or sqlite:////absolute.db")
        if not parsed.database:
            raise ValueError("sqlite URL has no database path")
        return {"path": parsed.database}


class SqliteConversationConfig(_SqliteSettings, ConversationConfig):
    backend: ClassVar[str] = "sqlite"


class AsyncSqliteConversationConfig(_SqliteSettings, AsyncConversationConfig):
    backend: ClassVar[str] = "async_sqlite"
