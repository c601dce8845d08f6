"""Conversation configs of local files: sqlite, async_sqlite, json, and turso (libSQL, local or remote)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from ..._config import StoreConfig
from ..._fields import FilePath, LongSeconds, Seconds, TablePrefix, Text, needs
from ..._keywords import CREATES_TABLES, Derive, Ignored, Keyword
from ..._paths import data_dir
from ..._urlform import Param, UrlForm, UrlSpec
from ...url import URL
from . import AsyncConversationConfig, ConversationConfig

__all__ = [
    "AsyncSqliteConversationConfig",
    "JsonConversationConfig",
    "SqliteConversationConfig",
    "TursoConversationConfig",
]

# sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy spells file paths; file:// likewise.
_SQLITE_FILE = UrlForm(schemes=("sqlite", "file"), path="path", local=True)


def _default_sqlite_path() -> str:
    return str(data_dir() / "conversations.db")


class _SqliteSettings(StoreConfig):
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(_SQLITE_FILE, bare="path")

    path: Text = Field(default_factory=_default_sqlite_path, min_length=1)
    """Database file, or ``:memory:``. Accepts ``sqlite:///relative.db`` and ``sqlite:////abs.db`` URLs."""
    table_prefix: TablePrefix = "praison_"
    busy_timeout: Seconds = 5.0
    """Seconds a writer waits for another process's lock before giving up."""
    durable: bool = True
    """fsync on every commit (``synchronous=FULL``); False trades durability on power loss for speed."""


class SqliteConversationConfig(_SqliteSettings, ConversationConfig):
    backend: ClassVar[str] = "sqlite"
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "auto_create_tables": CREATES_TABLES,
        "check_same_thread": Ignored("the store is safe to share between threads (it locks around its connection)"),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = (
        "url",
        "path",
        "table_prefix",
        "auto_create_tables",
        "check_same_thread",
    )


class AsyncSqliteConversationConfig(_SqliteSettings, AsyncConversationConfig):
    backend: ClassVar[str] = "async_sqlite"
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "path", "table_prefix")


def _default_json_dir() -> str:
    return str(data_dir() / "conversations")


class JsonConversationConfig(ConversationConfig):
    """A directory of JSON files; see ``conversation/json.py`` for the layout."""

    backend: ClassVar[str] = "json"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(schemes=("json", "file"), path="path", local=True), bare="path"
    )

    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "pretty": Ignored("the files' layout and formatting are this store's own (see conversation/json.py)"),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "path", "pretty")

    path: FilePath = Field(default_factory=_default_json_dir)
    """The store's directory (created if missing). Accepts ``json:///relative/dir`` and ``json:////abs/dir``."""
    durable: bool = True
    """fsync every write before it returns; False keeps atomicity but may lose the last writes on power loss."""
    lock_timeout: Seconds = 30.0
    """Seconds to wait for another process's lock on the directory before raising."""


_TURSO_REMOTE_SCHEMES = ("libsql", "https", "http")


def _default_turso_path() -> str:
    return str(data_dir() / "conversations-libsql.db")


def _local_path(value: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    return {"replica_path" if given.get("url") is not None else "path": value}


class TursoConversationConfig(ConversationConfig):
    """libSQL: a local file (``path``), a remote Turso database (``url`` + ``auth_token``),
    or an embedded replica of one (``url`` + ``auth_token`` + ``replica_path``)."""

    backend: ClassVar[str] = "turso"
    # Any other scheme is kept in ``url``, whose validator names the remote schemes.
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        _SQLITE_FILE,
        bare="path",
        fallback=UrlForm(
            schemes=(),
            query={"authToken": Param("auth_token", SecretStr), "auth_token": Param("auth_token", SecretStr)},
            other_params=True,
            keep="url",
        ),
    )

    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "local_path": Derive(
            _local_path,
            "`replica_path` when a URL is given (an embedded replica, as PraisonAI opens one), else `path`",
            ("path", "replica_path"),
        ),
        "auto_create_tables": CREATES_TABLES,
        "sync_on_write": Ignored(
            "an embedded replica sends every write to the remote primary and reads its own writes"
        ),
    }
    env_defaults: ClassVar[dict[str, tuple[str, ...]]] = {
        "url": ("TURSO_DATABASE_URL",),
        "auth_token": ("TURSO_AUTH_TOKEN",),
    }
    env_url_excludes: ClassVar[tuple[str, ...]] = ("path",)
    env_with_url: ClassVar[tuple[str, ...]] = ("auth_token",)
    praisonai_keywords: ClassVar[tuple[str, ...]] = (
        "url",
        "auth_token",
        "local_path",
        "table_prefix",
        "auto_create_tables",
        "sync_on_write",
    )

    path: FilePath | None = None
    """Local libSQL/SQLite file; without ``url`` it defaults to ``$PRAISONAI_DATA_DIR/conversations-libsql.db``."""
    url: str | None = None
    """Remote database: ``libsql://<db>-<org>.turso.io`` (or ``https://``, ``http://`` for a self-hosted sqld)."""
    auth_token: SecretStr | None = None
    """Database token of the remote database; ``?authToken=`` in the URL is accepted too."""
    replica_path: FilePath | None = None
    """Local file of an embedded replica of ``url``: reads are local, writes go to the remote primary."""
    sync_interval: LongSeconds | None = None
    """Seconds between background syncs of the embedded replica (default: sync at connect only)."""
    table_prefix: TablePrefix = "praison_"
    busy_timeout: Seconds = 5.0
    """Seconds a writer waits for another connection's lock on a local file."""
    durable: bool = True
    """On a local file: fsync on every commit (``synchronous=FULL``)."""

    @model_validator(mode="before")
    @classmethod
    def _default_path(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("path") is None and data.get("url") is None:
            return {**data, "path": _default_turso_path()}
        return data

    @field_validator("url")
    @classmethod
    def _remote_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        parsed = URL.parse(value)
        if parsed.scheme not in _TURSO_REMOTE_SCHEMES:
            raise ValueError(f"remote libSQL URLs start with libsql://, https:// or http://, not {parsed.scheme}://")
        if not parsed.host:
            raise ValueError("remote libSQL URL has no host")
        if parsed.username is not None or parsed.password is not None:
            raise ValueError("put the credential in auth_token, not in the URL")
        if info.data.get("path") is not None:
            raise ValueError(
                "give either path (a local file) or url (a remote database), not both; "
                "for an embedded replica of url, set replica_path"
            )
        return value

    _token_needs_url = needs("auth_token", "url", "auth_token is only used with a remote url")
    _replica_needs_url = needs("replica_path", "url", "an embedded replica needs the url of its remote database")
    _interval_needs_replica = needs(
        "sync_interval", "replica_path", "sync_interval applies to an embedded replica only; set replica_path"
    )

    @property
    def mode(self) -> Literal["local", "remote", "replica"]:
        """Which of the three connections this config describes."""
        if self.url is None:
            return "local"
        return "remote" if self.replica_path is None else "replica"
