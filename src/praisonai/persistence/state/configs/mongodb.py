"""State configs of MongoDB: mongodb (pymongo) and async_mongodb (pymongo's asyncio client)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field

from ..._fields import KeyPrefix
from ..._mongo_config import MongoSettings
from . import AsyncStateConfig, StateConfig

__all__ = ["AsyncMongoStateConfig", "MongoStateConfig"]


def _mongo_collection(value: str) -> str:
    if not 1 <= len(value) <= 120 or "$" in value or "\x00" in value or value.startswith("system."):
        raise ValueError("must be 1 to 120 characters, without $ or NUL, not starting with 'system.'")
    return value


class _MongoOptions(MongoSettings):
    """Fields shared by the sync and async MongoDB stores."""

    collection: Annotated[str, AfterValidator(_mongo_collection)] = "praisonai_state"
    key_prefix: KeyPrefix = ""
    create_indexes: bool = True
    """Create the TTL index on ``expires_at`` (MongoDB then deletes expired keys itself)."""
    server_selection_timeout_ms: int = Field(default=5_000, ge=1)


class MongoStateConfig(_MongoOptions, StateConfig):
    """MongoDB through pymongo."""

    backend: ClassVar[str] = "mongodb"
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "database", "collection")


class AsyncMongoStateConfig(_MongoOptions, AsyncStateConfig):
    """MongoDB through pymongo's native asyncio client (``AsyncMongoClient``)."""

    backend: ClassVar[str] = "async_mongodb"
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "database", "collection")
