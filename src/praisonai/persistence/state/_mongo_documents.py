"""The MongoDB documents of the state stores: their layout, filters and client options (``mongodb``, ``async_mongodb``).

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
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from ._document_store import HASH, VALUE, Item, decode_field_name, encode_field_name, prefix_upper_bound
from .config import AsyncMongoStateConfig, MongoStateConfig

__all__ = [
    "TTL_INDEX",
    "client_options",
    "from_document",
    "key_filter",
    "live_filter",
    "scan_filter",
    "to_document",
    "version_filter",
]

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
