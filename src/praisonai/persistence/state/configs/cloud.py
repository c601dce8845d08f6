"""State configs of cloud services: dynamodb (boto3), firestore and gcs (Google Cloud clients)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, SecretStr

from ..._fields import KeyPrefix
from ..._keywords import Keyword
from ..._urlform import UrlForm, UrlSpec
from ...url import URL
from . import StateConfig

__all__ = ["DynamoDBStateConfig", "FirestoreStateConfig", "GCSStateConfig"]

_DYNAMODB_TABLE = r"^[A-Za-z0-9_.\-]{3,255}$"


def _table_in_path(parsed: URL, fields: dict[str, Any]) -> None:
    # dynamodb://<table> and dynamodb:///<table> both name the table.
    if not parsed.host and parsed.database:
        fields["table_name"] = parsed.database


class DynamoDBStateConfig(StateConfig):
    """Amazon DynamoDB through boto3. Credentials default to boto3's usual chain."""

    backend: ClassVar[str] = "dynamodb"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(
            schemes=("dynamodb",),
            host="table_name",
            query={"region": "region_name", "endpoint_url": "endpoint_url", "profile": "profile_name"},
            hook=_table_in_path,
        )
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"region": "region_name", "auto_create_table": "create_table"}
    env_defaults: ClassVar[dict[str, tuple[str, ...]]] = {"region_name": ("AWS_REGION",)}
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("table_name", "region", "endpoint_url", "auto_create_table")

    table_name: str = Field(default="praisonai_state", pattern=_DYNAMODB_TABLE)
    region_name: str | None = None
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://")
    """A DynamoDB-compatible endpoint (DynamoDB Local, moto, LocalStack)."""
    profile_name: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None
    create_table: bool = True
    """Create the table (on-demand capacity, native TTL enabled) when it does not exist."""
    enable_ttl: bool = True
    """With create_table: switch on DynamoDB's own TTL deletion for the ``ttl_epoch`` attribute."""
    key_prefix: KeyPrefix = ""
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    """boto3's retry budget per request."""


def _firestore_collection(value: str) -> str:
    if not 1 <= len(value.encode("utf-8")) <= 1500 or "/" in value or (value.startswith("__") and value.endswith("__")):
        raise ValueError("must be 1 to 1500 bytes without '/', and not __reserved__")
    return value


class FirestoreStateConfig(StateConfig):
    """Google Cloud Firestore (native mode) through google-cloud-firestore.

    Credentials default to Application Default Credentials; with
    ``FIRESTORE_EMULATOR_HOST`` set, the client talks to that emulator.
    """

    backend: ClassVar[str] = "firestore"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(schemes=("firestore",), host="project", path="collection", query={})
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"credentials_path": "credentials_file"}
    env_defaults: ClassVar[dict[str, tuple[str, ...]]] = {"project": ("FIRESTORE_PROJECT",)}
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("project", "collection", "credentials_path")

    project: str | None = None
    database: str = Field(default="(default)", min_length=1)
    collection: Annotated[str, AfterValidator(_firestore_collection)] = "praisonai_state"
    credentials_file: str | None = None
    """A service-account JSON key file (default: Application Default Credentials)."""
    key_prefix: KeyPrefix = ""


def _bucket_and_prefix(parsed: URL, fields: dict[str, Any]) -> None:
    if not parsed.host:
        raise ValueError("gs:// needs a bucket, as in gs://my-bucket/agents/state/")
    if parsed.database:
        fields["prefix"] = parsed.database if parsed.database.endswith("/") else parsed.database + "/"


class GCSStateConfig(StateConfig):
    """Google Cloud Storage through google-cloud-storage: one object per key under ``prefix``."""

    backend: ClassVar[str] = "gcs"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(schemes=("gs", "gcs"), host="bucket", query={}, hook=_bucket_and_prefix)
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"bucket_name": "bucket", "credentials_path": "credentials_file"}
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("bucket_name", "bucket", "prefix", "project", "credentials_path")

    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9._\-]{1,220}[a-z0-9]$")
    prefix: str = Field(default="praisonai/state/", min_length=1, max_length=512)
    """Object-name prefix of this store's keys (never empty, so keys can never collide with other objects)."""
    project: str | None = None
    credentials_file: str | None = None
    """A service-account JSON key file (default: Application Default Credentials)."""
    endpoint: str | None = Field(default=None, pattern=r"^https?://")
    """Another endpoint, such as a local emulator; without credentials_file it is used anonymously."""
    create_bucket: bool = False
    timeout: float = Field(default=30.0, gt=0)
