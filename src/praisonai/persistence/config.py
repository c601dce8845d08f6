"""PraisonAI 4.7.19's persistence settings: which store of each kind, its URL and options.

>>> from praisonai.persistence.config import PersistenceConfig
>>> config = PersistenceConfig(conversation_store="sqlite", conversation_options={"path": "chat.db"})

A :class:`PersistenceConfig` names backends; :func:`~praisonai.persistence.factory.create_stores_from_config`
builds them through the registries, where each backend's own config model validates
the URL and options. ``from_env``, ``from_dict``, ``from_yaml`` and ``validate``
behave as PraisonAI's do.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from typing_extensions import Self

__all__ = ["ENV_VARS", "PersistenceConfig", "get_env_var", "list_available_backends"]

logger = logging.getLogger(__name__)

_KINDS = ("conversation", "knowledge", "state")

# Settings keys -> environment variables. Documentation for users (and read by get_env_var);
# PersistenceConfig.from_env reads only the PRAISONAI_* names and the three URL fallbacks.
_SAME_NAME_KEYS = (
    "postgres_url",
    "postgres_host",
    "postgres_port",
    "postgres_database",
    "postgres_user",
    "postgres_password",
    "qdrant_url",
    "qdrant_host",
    "qdrant_port",
    "qdrant_api_key",
    "redis_url",
    "redis_host",
    "redis_port",
    "redis_password",
    "pinecone_api_key",
    "pinecone_environment",
    "pinecone_index",
    "chroma_host",
    "chroma_port",
    "weaviate_url",
    "weaviate_api_key",
    "milvus_host",
    "milvus_port",
    "milvus_token",
    "mongodb_url",
    "mongodb_database",
    "aws_region",
    "dynamodb_table",
    "firestore_project",
    "upstash_redis_url",
    "upstash_redis_token",
    "upstash_vector_url",
    "upstash_vector_token",
    "supabase_url",
    "supabase_key",
    "surrealdb_url",
    "mysql_url",
    "mysql_host",
    "mysql_port",
    "mysql_database",
    "mysql_user",
    "mysql_password",
    "singlestore_url",
    "clickhouse_host",
    "clickhouse_port",
    "clickhouse_user",
    "clickhouse_password",
    "cassandra_hosts",
    "cassandra_keyspace",
    "lancedb_path",
    "lancedb_uri",
    "neon_database_url",
    "turso_database_url",
    "turso_auth_token",
    "cockroachdb_url",
    "xata_database_url",
)
ENV_VARS: dict[str, str] = {
    **{f"{kind}_{part}": f"PRAISONAI_{kind.upper()}_{part.upper()}" for kind in _KINDS for part in ("store", "url")},
    "session_id": "PRAISONAI_SESSION_ID",
    "user_id": "PRAISONAI_USER_ID",
    **{key: key.upper() for key in _SAME_NAME_KEYS},
    "chroma_path": "CHROMA_DB_PATH",
    "google_credentials": "GOOGLE_APPLICATION_CREDENTIALS",
    "surrealdb_namespace": "SURREALDB_NS",
    "surrealdb_database": "SURREALDB_DB",
}


def get_env_var(key: str, default: str | None = None) -> str | None:
    """The environment variable that ``ENV_VARS`` names for ``key`` (else ``KEY``), or ``default``."""
    return os.getenv(ENV_VARS.get(key, key.upper()), default)


def list_available_backends() -> dict[str, list[str]]:
    """Backend names and aliases of each store kind, sorted."""
    from .registry import get_default_registry

    return {kind: get_default_registry(kind).list_all_names() for kind in _KINDS}


@dataclass
class PersistenceConfig:
    """Which backend (name or alias), URL and options for each store kind; a kind without a name is not built."""

    conversation_store: str | None = None
    conversation_url: str | None = None
    conversation_options: dict[str, Any] = field(default_factory=dict)
    knowledge_store: str | None = None
    knowledge_url: str | None = None
    knowledge_options: dict[str, Any] = field(default_factory=dict)
    state_store: str | None = None
    state_url: str | None = None
    state_options: dict[str, Any] = field(default_factory=dict)
    session_id: str | None = None
    user_id: str | None = None
    auto_create_tables: bool = True
    """Accepted for PraisonAI's sake; our stores always create what they need."""
    lazy_init: bool = True
    """Accepted for PraisonAI's sake; stores are built when the config is used."""

    @classmethod
    def from_env(cls) -> Self:
        """Read ``PRAISONAI_{CONVERSATION,KNOWLEDGE,STATE}_{STORE,URL}``, ``PRAISONAI_SESSION_ID`` and
        ``PRAISONAI_USER_ID``; the URLs fall back to ``POSTGRES_URL``, ``QDRANT_URL`` and ``REDIS_URL``."""
        env = os.environ.get
        return cls(
            conversation_store=env("PRAISONAI_CONVERSATION_STORE"),
            conversation_url=env("PRAISONAI_CONVERSATION_URL") or env("POSTGRES_URL"),
            knowledge_store=env("PRAISONAI_KNOWLEDGE_STORE"),
            knowledge_url=env("PRAISONAI_KNOWLEDGE_URL") or env("QDRANT_URL"),
            state_store=env("PRAISONAI_STATE_STORE"),
            state_url=env("PRAISONAI_STATE_URL") or env("REDIS_URL"),
            session_id=env("PRAISONAI_SESSION_ID"),
            user_id=env("PRAISONAI_USER_ID"),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a mapping; keys that are not fields are ignored."""
        names = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})

    @classmethod
    def from_yaml(cls, path: str) -> Self:
        """Read a YAML file (needs PyYAML); a top-level ``persistence:`` mapping is unwrapped."""
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError as error:
            install = 'pip install "praisonai-persistence[yaml]"'
            raise ImportError(f"PersistenceConfig.from_yaml needs PyYAML: {install}") from error
        with open(path, encoding="utf-8") as file:
            data = yaml.safe_load(file) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
        section = data.get("persistence", data)
        if not isinstance(section, dict):
            raise ValueError(f"{path}: 'persistence' must be a mapping, got {type(section).__name__}")
        return cls.from_dict(section)

    def to_dict(self) -> dict[str, Any]:
        """Every field, by name."""
        return {item.name: getattr(self, item.name) for item in fields(self)}

    def validate(self) -> bool:
        """Whether every named backend is registered (names and aliases, as written); errors are logged."""
        from .registry import get_default_registry

        valid = True
        for kind in _KINDS:
            name = getattr(self, f"{kind}_store")
            if name and name not in get_default_registry(kind).list_all_names():
                logger.error("unknown %s store %r", kind, name)
                valid = False
        return valid
