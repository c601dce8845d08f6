"""Google Cloud Firestore state store.

Engine: Cloud Firestore in native mode.
Driver: google-cloud-firestore (``pip install "praisonai-persistence[firestore]"``).
URL form: ``firestore://<project>[/<collection>]``; or the fields of
:class:`~praisonai.persistence.state.config.FirestoreStateConfig`. With
``FIRESTORE_EMULATOR_HOST`` set, the client talks to that emulator.
Test tier: emulator (Google's Cloud Firestore emulator, started on loopback).

One document per key in ``collection``; its id is the SHA-256 of the stored
key (Firestore ids cannot hold ``/`` and are limited to 1500 bytes), and the
key itself is the field ``k``::

    {k, kind: "v" | "h", v: JSON text | h: {encoded field: JSON text}, expires_at: timestamp}

Reads hide expired documents; for Firestore to delete them itself, add a TTL
policy on the ``expires_at`` field of the collection group (it may lag by a
day). Conditional writes use the document's update time as the version.
``keys()`` is a range query on ``k`` by the pattern's literal prefix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, ClassVar

from ..errors import BackendUnavailableError, InvalidInputError
from ._document_store import (
    HASH,
    VALUE,
    DocumentStateStore,
    Item,
    Token,
    decode_field_name,
    encode_field_name,
    prefix_upper_bound,
)
from .config import FirestoreStateConfig

__all__ = ["FirestoreStateStore"]

_BATCH = 500  # Firestore's limit of writes per batch
_MAX_DOCUMENT_BYTES = 1_048_576  # Firestore's limit on a document's storage size


def _document_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _storage_size(value: Any) -> int:
    """A document's size as Firestore counts it: strings are UTF-8 bytes + 1, timestamps 8, maps their entries."""
    if isinstance(value, str):
        return len(value.encode("utf-8")) + 1
    if isinstance(value, dict):
        return sum(len(name.encode("utf-8")) + 1 + _storage_size(item) for name, item in value.items())
    return 8


class FirestoreStateStore(DocumentStateStore[FirestoreStateConfig]):
    """State as one Firestore document per key."""

    max_key_bytes: ClassVar[int | None] = 1500  # longer strings are not indexed whole, so keys() could miss them

    def __init__(self, config: FirestoreStateConfig) -> None:
        super().__init__(config, config.key_prefix)
        firestore = self._import_driver("google.cloud.firestore")
        self._api_errors = self._import_driver("google.api_core.exceptions")
        self._field_filter = firestore.FieldFilter
        self._delete_field = firestore.DELETE_FIELD
        credentials = None
        service_account = (
            self._import_driver("google.oauth2.service_account") if config.credentials_file is not None else None
        )
        with self._translating:
            if service_account is not None:
                credentials = service_account.Credentials.from_service_account_file(config.credentials_file)
            self._client: Any = firestore.Client(
                project=config.project, credentials=credentials, database=config.database
            )
        self._collection: Any = self._client.collection(config.collection)

    def _translate_error(self, error: Exception) -> Exception | None:
        errors = self._api_errors
        if isinstance(error, (errors.ServiceUnavailable, errors.DeadlineExceeded, errors.RetryError)):
            return BackendUnavailableError(f"cannot reach Firestore: {error}")
        if isinstance(error, errors.InvalidArgument):
            return InvalidInputError(f"Firestore refused the request: {error}")
        return None

    def _reference(self, key: str) -> Any:
        return self._collection.document(_document_id(key))

    # -- codec -----------------------------------------------------------------

    @staticmethod
    def _encode(key: str, item: Item) -> dict[str, Any]:
        document: dict[str, Any] = {"k": key, "kind": item.kind}
        if item.kind == VALUE:
            document["v"] = item.value
        else:
            document["h"] = {encode_field_name(field): text for field, text in (item.fields or {}).items()}
        if item.expires_at is not None:
            document["expires_at"] = datetime.fromtimestamp(item.expires_at, tz=timezone.utc)  # microseconds
        # Checked here: the server would refuse it, and a request over gRPC's 4 MiB would be retried for a minute.
        size = _storage_size(document) + 32 + len(_document_id(key)) + 1
        if size > _MAX_DOCUMENT_BYTES:
            raise InvalidInputError(
                f"the value of key {key!r:.80} takes {size} bytes as a Firestore document (JSON text, non-ASCII "
                f"escaped); Firestore stores at most {_MAX_DOCUMENT_BYTES}"
            )
        return document

    @staticmethod
    def _decode(data: dict[str, Any]) -> Item:
        stamp = data.get("expires_at")
        expires_at = None if stamp is None else float(stamp.timestamp())
        if data.get("kind") == HASH:
            fields = {decode_field_name(name): text for name, text in (data.get("h") or {}).items()}
            return Item(HASH, fields=fields, expires_at=expires_at)
        return Item(VALUE, value=data.get("v"), expires_at=expires_at)

    # -- primitives ------------------------------------------------------------

    def _load(self, key: str) -> tuple[Item, Token] | None:
        snapshot = self._reference(key).get()
        if not snapshot.exists:
            return None
        return self._decode(snapshot.to_dict() or {}), snapshot.update_time

    def _conditional(self, write: Any) -> bool:
        errors = self._api_errors
        try:
            write()
        except (errors.AlreadyExists, errors.FailedPrecondition, errors.NotFound):
            return False
        return True

    def _create(self, key: str, item: Item) -> bool:
        return self._conditional(lambda: self._reference(key).create(self._encode(key, item)))

    def _replace(self, key: str, item: Item, token: Token) -> bool:
        document = self._encode(key, item)
        # update() takes a precondition (set() does not); it replaces every top-level field we own.
        changes = {name: document.get(name, self._delete_field) for name in ("k", "kind", "v", "h", "expires_at")}
        option = self._client.write_option(last_update_time=token)
        return self._conditional(lambda: self._reference(key).update(changes, option=option))

    def _remove(self, key: str, token: Token) -> bool:
        option = self._client.write_option(last_update_time=token)
        return self._conditional(lambda: self._reference(key).delete(option=option))

    def _put(self, key: str, item: Item) -> None:
        self._reference(key).set(self._encode(key, item))

    def _scan(self, prefix: str) -> Iterable[tuple[str, float | None]]:
        query = self._collection
        if prefix:
            query = query.where(filter=self._field_filter("k", ">=", prefix))
            upper = prefix_upper_bound(prefix)
            if upper is not None:
                query = query.where(filter=self._field_filter("k", "<", upper))
        query = query.select(["k", "expires_at"])
        found = []
        for snapshot in query.stream():
            data = snapshot.to_dict() or {}
            stamp = data.get("expires_at")
            found.append((data["k"], None if stamp is None else float(stamp.timestamp())))
        return found

    def _load_many(self, keys: list[str]) -> dict[str, Item]:
        found: dict[str, Item] = {}
        for snapshot in self._client.get_all([self._reference(key) for key in keys]):
            if snapshot.exists:
                data = snapshot.to_dict() or {}
                found[data["k"]] = self._decode(data)
        return found

    def _put_many(self, items: list[tuple[str, Item]]) -> None:
        for start in range(0, len(items), _BATCH):
            batch = self._client.batch()
            for key, item in items[start : start + _BATCH]:
                batch.set(self._reference(key), self._encode(key, item))
            batch.commit()

    def _shutdown(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"FirestoreStateStore(collection={self.config.collection!r}, key_prefix={self.config.key_prefix!r})"
