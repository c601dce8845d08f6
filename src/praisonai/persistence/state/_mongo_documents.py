"""MongoDB for the state stores (``mongodb``, ``async_mongodb``): the documents, and the primitives on them.

One document per key::

    {_id: key, kind: "v", v: JSON text, expires_at: BSON date, ver: str}
    {_id: key, kind: "h", h: {encoded field: JSON text}, expires_at: BSON date, ver: str}

``expires_at`` is a real date with a TTL index (``expireAfterSeconds: 0``), so
the server deletes expired keys itself; reads hide them before that happens.
Keys are only ever compared as values (``{_id: key}``, ``$gte``/``$lt`` ranges,
``$in`` lists), never put in a field path or a regex, and hash fields are
encoded (``encode_field_name``) before they become map keys, so neither can
inject an operator or a dotted path. ``ver`` is a fresh random token on every
write: the compare-and-set of ``_document_store`` filters on it.

:class:`MongoPrimitives` writes the primitives of ``_document_store`` once, as
operations (``_sansio.py``) of collection requests (``find_one``, ``insert_one``,
``replace_one``, ``delete_one``, ``find_all``, ``bulk_write``): the sync store
runs them on a pymongo ``Collection``, the async one on an ``AsyncCollection``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Generator
from datetime import datetime, timezone
from typing import Any, TypeVar

from .._guard import GuardedStore
from .._sansio import Call
from ..errors import BackendUnavailableError, InvalidInputError, StoreError
from ._document_store import HASH, VALUE, Item, Token, decode_field_name, encode_field_name, prefix_upper_bound
from .config import AsyncMongoStateConfig, MongoStateConfig

__all__ = [
    "TTL_INDEX",
    "MongoPrimitives",
    "client_options",
    "from_document",
    "key_filter",
    "live_filter",
    "scan_filter",
    "to_document",
    "version_filter",
]

R = TypeVar("R")
CollectionOperation = Generator[Call, Any, R]

TTL_INDEX = "praisonai_expires_at"
PROJECTION_FOR_SCAN = {"expires_at": True}


def client_options(config: MongoStateConfig | AsyncMongoStateConfig) -> dict[str, Any]:
    options: dict[str, Any] = {
        "tz_aware": True,
        "serverSelectionTimeoutMS": config.server_selection_timeout_ms,
        "appname": "praisonai-persistence",
    }
    if config.username is not None:
        options["username"] = config.username
    if config.password is not None:
        options["password"] = config.password.get_secret_value()
    return options


def to_date(epoch: float) -> datetime:
    # BSON dates hold milliseconds.
    return datetime.fromtimestamp(round(epoch * 1000) / 1000, tz=timezone.utc)


def to_document(key: str, item: Item) -> dict[str, Any]:
    document: dict[str, Any] = {"_id": key, "kind": item.kind, "ver": uuid.uuid4().hex}
    if item.kind == VALUE:
        document["v"] = item.value
    else:
        document["h"] = {encode_field_name(field): text for field, text in (item.fields or {}).items()}
    if item.expires_at is not None:
        document["expires_at"] = to_date(item.expires_at)
    return document


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:  # a client without tz_aware: BSON dates are UTC
        value = value.replace(tzinfo=timezone.utc)
    return float(value.timestamp())


def from_document(document: dict[str, Any]) -> tuple[Item, str]:
    expires_at = _epoch(document.get("expires_at"))
    if document.get("kind") == HASH:
        fields = {decode_field_name(name): text for name, text in (document.get("h") or {}).items()}
        item = Item(HASH, fields=fields, expires_at=expires_at)
    else:
        item = Item(VALUE, value=document.get("v"), expires_at=expires_at)
    return item, document.get("ver", "")


def key_filter(key: str) -> dict[str, Any]:
    return {"_id": {"$eq": key}}


def version_filter(key: str, version: str) -> dict[str, Any]:
    return {"_id": {"$eq": key}, "ver": {"$eq": version}}


def live_filter(now: float) -> dict[str, Any]:
    return {"$or": [{"expires_at": None}, {"expires_at": {"$gt": to_date(now)}}]}


def scan_filter(prefix: str, now: float) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = [live_filter(now)]
    if prefix:
        bounds: dict[str, Any] = {"$gte": prefix}
        upper = prefix_upper_bound(prefix)
        if upper is not None:
            bounds["$lt"] = upper
        conditions.append({"_id": bounds})
    else:
        conditions.append({"_id": {"$type": "string"}})
    return {"$and": conditions}


def epoch_of(document: dict[str, Any]) -> float | None:
    return _epoch(document.get("expires_at"))


class MongoPrimitives(GuardedStore):
    """The primitives of a document state store on one MongoDB collection; ``_errors`` is ``pymongo.errors``."""

    _errors: Any
    _replace_one: Any  # pymongo.ReplaceOne

    def _import_pymongo(self) -> Any:
        """The pymongo module (a missing one names the extra); keeps the error classes and ``ReplaceOne``."""
        pymongo = self._import_driver("pymongo")
        self._errors, self._replace_one = pymongo.errors, pymongo.ReplaceOne
        return pymongo

    def _translate_error(self, error: Exception) -> Exception | None:
        errors = self._errors
        if isinstance(error, (errors.ServerSelectionTimeoutError, errors.AutoReconnect, errors.ConnectionFailure)):
            return BackendUnavailableError(f"cannot reach MongoDB: {error}")
        if isinstance(error, errors.DocumentTooLarge) or getattr(error, "code", None) in (10334, 17419, 17420):
            # A value over MongoDB's 16 MiB document limit (the client refuses it before sending, or
            # the server does): no retry can store it.
            return InvalidInputError(f"the value is too large for one MongoDB document (16 MiB at most): {error}")
        return None

    def _load_document(self, key: str) -> CollectionOperation[tuple[Item, Token] | None]:
        document = yield Call("find_one", (key_filter(key),))
        return None if document is None else from_document(document)

    def _create_document(self, key: str, item: Item) -> CollectionOperation[bool]:
        try:
            yield Call("insert_one", (to_document(key, item),))
        except self._errors.DuplicateKeyError:
            return False
        return True

    def _replace_document(self, key: str, item: Item, token: Token) -> CollectionOperation[bool]:
        result = yield Call("replace_one", (version_filter(key, token), to_document(key, item)))
        return bool(result.matched_count == 1)

    def _remove_document(self, key: str, token: Token) -> CollectionOperation[bool]:
        result = yield Call("delete_one", (version_filter(key, token),))
        return bool(result.deleted_count == 1)

    def _put_document(self, key: str, item: Item) -> CollectionOperation[None]:
        document = to_document(key, item)
        for _attempt in range(3):
            try:
                yield Call("replace_one", (key_filter(key), document, True))  # upsert
                return
            except self._errors.DuplicateKeyError:
                pass  # two upserts of a new _id can race; the loser retries and replaces
        raise StoreError(f"key {key!r}: concurrent upserts kept colliding")

    def _scan_documents(self, prefix: str) -> CollectionOperation[list[tuple[str, float | None]]]:
        documents = yield Call("find_all", (scan_filter(prefix, time.time()), PROJECTION_FOR_SCAN))
        return [(document["_id"], epoch_of(document)) for document in documents]

    def _load_documents(self, keys: list[str]) -> CollectionOperation[dict[str, Item]]:
        documents = yield Call("find_all", ({"_id": {"$in": keys}}, None))
        return {document["_id"]: from_document(document)[0] for document in documents}

    def _put_documents(self, items: list[tuple[str, Item]]) -> CollectionOperation[None]:
        requests = [self._replace_one(key_filter(key), to_document(key, item), upsert=True) for key, item in items]
        yield Call("bulk_write", (requests, False))  # unordered
