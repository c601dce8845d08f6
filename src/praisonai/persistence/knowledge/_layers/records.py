"""The record layout of the hosted vector backends (pinecone, weaviate, cassandra, mongodb_vector,
couchbase, singlestore_vector, upstash_vector, cosmosdb).

Every one of them stores a document as one record with the same fields (see
:func:`document_record`):

- ``id``, ``content``, ``metadata`` (the exact metadata JSON, which is what is
  returned, so it round-trips exactly), ``content_hash``, ``created_at``,
  ``embedding`` (the caller's floats);
- ``ix``: filter tokens, a list of short strings drawn from ``[0-9a-z:=.f-]``:
  ``f<hex>:<kind>`` (the field holds a scalar of that kind) and
  ``f<hex>=<kind letter>:<canonical value>`` (it holds that value; strings as
  their SHA-256, numbers in a canonical form so ``1`` meets ``1.0`` but ``True``
  never meets ``1``). ``<hex>`` is the field name's UTF-8 in hex
  (:func:`~.._filters.native.field_key`), so no caller text ever reaches a filter;
- ``n``: the number fields as floats, by ``f<hex>`` (ordering comparisons);
- ``c``: the string order chunks of :func:`~.._filters.native.string_chunks`, by
  ``f<hex>_<j>`` (ordering comparisons on strings, as numbers).

A filter is lowered (:func:`~.._filters.native.lower`) to equality atoms, which
become "``ix`` contains the token" / "does not contain it" (an absent field
contains no token, so ``$ne`` matches it), and range atoms on ``n`` and ``c``;
:mod:`.._filters.tokens` renders them for the Mongo-like and SQL-like engines.
"""

from __future__ import annotations

import math
from typing import Any

from ..._values import dump_json, load_json
from .._filters.native import field_key, index_metadata, string_digest
from ..base import KnowledgeDocument

__all__ = [
    "CHUNKS",
    "RANGE_OPERATORS",
    "RECORD_COLUMNS",
    "document_from_record",
    "document_record",
    "kind_token",
    "number_key",
    "value_token",
]

CHUNKS = 16
"""String order chunks kept per field: ordering comparisons against strings of up to 90 UTF-8 bytes."""

RANGE_OPERATORS = frozenset({"$gt", "$gte", "$lt", "$lte"})

RECORD_COLUMNS = ("id", "content", "metadata", "content_hash", "created_at", "embedding")
"""A record's fields besides its filter index, in the order the CQL and SQL engines write and select them."""


def number_key(field: str) -> str:
    """The key of a field in ``ix`` tokens and in the ``n`` map: ``f`` + hex of its UTF-8."""
    return "f" + field_key(field)


def _canonical_number(value: int | float) -> str:
    if isinstance(value, int):
        as_float = float(value) if abs(value) < 2**1023 else math.inf
        return repr(as_float) if as_float == value else str(value)
    return repr(value)


def kind_token(field: str, kind: str) -> str:
    """The token saying that ``field`` holds a scalar of ``kind`` (string, number, bool, null)."""
    return f"{number_key(field)}:{kind}"


def value_token(field: str, kind: str, value: Any) -> str:
    """The token saying that ``field`` holds ``value`` (null: the kind token)."""
    key = number_key(field)
    if kind == "null":
        return f"{key}:null"
    if kind == "string":
        return f"{key}=s:{string_digest(value)}"
    if kind == "bool":
        return f"{key}=b:{'true' if value else 'false'}"
    return f"{key}=n:{_canonical_number(value)}"


def document_record(document: KnowledgeDocument) -> dict[str, Any]:
    """The stored form of a (checked) document: see the module docstring."""
    tokens: list[str] = ["doc"]  # never empty: some engines drop empty lists
    numbers: dict[str, float] = {}
    chunks: dict[str, int] = {}
    for indexed in index_metadata(document.metadata, chunk_limit=CHUNKS):
        tokens.append(kind_token(indexed.name, indexed.kind))
        if indexed.kind != "null":
            tokens.append(value_token(indexed.name, indexed.kind, indexed.value))
        key = number_key(indexed.name)
        if indexed.kind == "number":
            assert isinstance(indexed.value, (int, float))
            numbers[key] = (
                float(indexed.value) if abs(indexed.value) < 1e308 else (1e308 if indexed.value > 0 else -1e308)
            )
        for position, chunk in enumerate(indexed.chunks):
            chunks[f"{key}_{position}"] = chunk
    assert document.embedding is not None
    return {
        "id": document.id,
        "content": document.content,
        "metadata": dump_json(document.metadata, what="metadata"),
        "content_hash": document.content_hash,
        "created_at": document.created_at,
        "embedding": list(document.embedding),
        "ix": tokens,
        "n": numbers,
        "c": chunks,
    }


def document_from_record(record: Any, embedding_field: str = "embedding") -> KnowledgeDocument:
    """A document from a record's fields (a mapping with at least the stored fields).

    ``embedding_field`` names the field holding the vector (LanceDB and Milvus: ``vector``).
    """
    return KnowledgeDocument(
        id=str(record["id"]),
        content=str(record["content"]),
        embedding=[float(x) for x in record[embedding_field]],
        metadata=load_json(record["metadata"]),
        content_hash=record.get("content_hash"),
        created_at=float(record["created_at"]),
    )
