"""Google Cloud Storage state store: one object per key.

Engine: Google Cloud Storage (and endpoints that speak its JSON API).
Driver: google-cloud-storage (``pip install "praisonai-persistence[gcs]"``).
URL form: ``gs://<bucket>/<prefix>``; or the fields of
:class:`~praisonai.persistence.state.config.GCSStateConfig`.
Test tier: emulator (fake-gcs-server on loopback). It enforces generation preconditions on uploads,
so the conditional read-modify-writes (``hset``, ``hdel``, ``expire``) are tested; it ignores them on
DELETE, so the conditional delete is not.

Each key is the object ``<prefix><key>`` (``%``, CR, LF and other control
characters percent-encoded), holding JSON::

    {"kind": "v" | "h", "v": JSON text | "h": {field: JSON text}, "expires_at": epoch seconds}

``expires_at`` is also custom metadata (so ``keys()`` filters a listing
without downloading objects) and the object's Custom-Time (so a lifecycle
rule on ``daysSinceCustomTime`` can delete expired keys; GCS has no finer TTL).
Reads hide expired keys themselves. ``keys()`` lists by the pattern's prefix.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, ClassVar

from .._values import dump_json, load_json
from ..errors import BackendUnavailableError, InvalidInputError, NotFoundError
from ._document_store import HASH, VALUE, DocumentStateStore, Item, Token
from .config import GCSStateConfig

__all__ = ["GCSStateStore"]

_UNSAFE = re.compile(r"[%\x00-\x1f\x7f]")


def encode_object_name(key: str) -> str:
    """Percent-encode what object names cannot hold; character by character, so prefixes stay prefixes."""
    return _UNSAFE.sub(lambda match: f"%{ord(match[0]):02X}", key)


def decode_object_name(name: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda match: chr(int(match[1], 16)), name)


class GCSStateStore(DocumentStateStore[GCSStateConfig]):
    """State as one GCS object per key, written conditionally on its generation."""

    max_key_bytes: ClassVar[int | None] = None  # checked on the encoded object name instead

    def __init__(self, config: GCSStateConfig) -> None:
        super().__init__(config)
        storage = self._import_driver("google.cloud.storage")
        self._api_errors = self._import_driver("google.api_core.exceptions")
        self._requests_errors = self._import_driver("requests.exceptions")
        credentials = None
        service_account = (
            self._import_driver("google.oauth2.service_account") if config.credentials_file is not None else None
        )
        anonymous = self._import_driver("google.auth.credentials") if config.endpoint is not None else None
        options = {"api_endpoint": config.endpoint} if config.endpoint is not None else None
        with self._translating:
            if service_account is not None:
                credentials = service_account.Credentials.from_service_account_file(config.credentials_file)
            elif anonymous is not None:
                credentials = anonymous.AnonymousCredentials()
            self._client: Any = storage.Client(project=config.project, credentials=credentials, client_options=options)
            try:
                self._bucket: Any = self._open_bucket()
            except BaseException:
                self._client.close()
                raise

    def _open_bucket(self) -> Any:
        config = self.config
        bucket = self._client.bucket(config.bucket)
        if bucket.exists(timeout=config.timeout):
            return bucket
        if not config.create_bucket:
            raise NotFoundError(f"bucket {config.bucket!r} does not exist; create it or pass create_bucket=True")
        with contextlib.suppress(self._api_errors.Conflict):  # created meanwhile
            bucket = self._client.create_bucket(config.bucket, timeout=config.timeout)
        return bucket

    def _translate_error(self, error: Exception) -> Exception | None:
        api_errors = self._api_errors
        if isinstance(
            error, (api_errors.ServiceUnavailable, api_errors.RetryError, self._requests_errors.ConnectionError)
        ):
            return BackendUnavailableError(f"cannot reach GCS: {error}")
        return None

    def _stored(self, key: str) -> str:
        # Stored keys are object names; ``_scan`` takes and returns plain keys (the base's prefix is empty).
        name = self.config.prefix + encode_object_name(super()._stored(key))
        if len(name.encode("utf-8")) > 1024:
            raise InvalidInputError(
                f"the object name of this key is {len(name.encode('utf-8'))} bytes long in UTF-8; GCS allows 1024"
            )
        return name

    # -- codec -----------------------------------------------------------------

    def _upload(self, stored: str, item: Item, generation: int | None) -> None:
        body: dict[str, Any] = {"kind": item.kind}
        if item.kind == VALUE:
            body["v"] = item.value
        else:
            body["h"] = dict(item.fields or {})
        blob = self._bucket.blob(stored)
        if item.expires_at is not None:
            body["expires_at"] = item.expires_at
            blob.metadata = {"expires_at": repr(item.expires_at)}
            blob.custom_time = datetime.fromtimestamp(item.expires_at, tz=timezone.utc)
        blob.upload_from_string(
            dump_json(body, what="object"),
            content_type="application/json",
            if_generation_match=generation,
            timeout=self.config.timeout,
        )

    @staticmethod
    def _decode(data: bytes) -> Item:
        body = load_json(data)
        expires_at = body.get("expires_at")
        if body.get("kind") == HASH:
            return Item(HASH, fields=body.get("h") or {}, expires_at=expires_at)
        return Item(VALUE, value=body.get("v"), expires_at=expires_at)

    # -- primitives ------------------------------------------------------------

    def _load(self, key: str) -> tuple[Item, Token] | None:
        blob = self._bucket.blob(key)
        try:
            data = blob.download_as_bytes(timeout=self.config.timeout)
        except self._api_errors.NotFound:
            return None
        return self._decode(data), blob.generation

    def _conditional(self, write: Any) -> bool:
        try:
            write()
        except (self._api_errors.PreconditionFailed, self._api_errors.NotFound):
            return False
        return True

    def _create(self, key: str, item: Item) -> bool:
        return self._conditional(lambda: self._upload(key, item, 0))

    def _replace(self, key: str, item: Item, token: Token) -> bool:
        return self._conditional(lambda: self._upload(key, item, token))

    def _remove(self, key: str, token: Token) -> bool:
        blob = self._bucket.blob(key)
        return self._conditional(lambda: blob.delete(if_generation_match=token, timeout=self.config.timeout))

    def _put(self, key: str, item: Item) -> None:
        self._upload(key, item, None)

    def _scan(self, prefix: str) -> Iterable[tuple[str, float | None]]:
        cut = len(self.config.prefix)
        found = []
        for blob in self._client.list_blobs(
            self._bucket, prefix=self.config.prefix + encode_object_name(prefix), timeout=self.config.timeout
        ):
            expires_at = (blob.metadata or {}).get("expires_at")
            found.append((decode_object_name(blob.name[cut:]), None if expires_at is None else float(expires_at)))
        return found

    def _shutdown(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"GCSStateStore(gs://{self.config.bucket}/{self.config.prefix})"
