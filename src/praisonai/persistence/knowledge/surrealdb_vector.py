"""SurrealDB vectors: one table per collection, exact search with SurrealQL's vector functions.

Engine: SurrealDB, embedded in process by the official SDK (``mem://``,
``surrealkv://``) or a server (``ws://``, ``http://``). Driver: the
``surrealdb`` SDK (``pip install "praisonai-persistence[surrealdb]"``).

URL forms: ``mem://``; ``surrealkv:///abs/dir``, ``surrealkv://relative/dir``,
``surrealkv+versioned://``, ``file://``; ``ws[s]://user:password@host:8000/rpc``
or ``http[s]://host:8000`` with ``?ns=&db=``. A bare path means ``surrealkv://<path>``.

Test tier: embedded (the SDK's in-process engine, ``mem://`` and ``surrealkv://``).
Servers are not exercised (no SurrealDB server installs from the package registries
this project is tested with).

Layout: a catalogue table ``<prefix>collections`` (record id = collection name)
and a table ``<prefix><name>`` per collection whose record ids are the document
ids. Search is exact: ``vector::similarity::cosine``, ``vector::dot`` and
``1 / (1 + vector::distance::euclidean)`` over every record that passes the
filter, best first. A zero vector has no cosine and scores 0.0.

Metadata is kept twice: ``metadata_json`` (the exact JSON text, returned) and
``meta`` (an object, filtered on; see :mod:`._filter_sql`). The SDK sends
Python ``None`` as NONE, which erases an object key, so the keys whose value is
``null`` are listed in ``meta_nulls``; integers beyond 64 bits are stored in
``meta`` as exact decimals. SurrealDB cannot return strings containing NUL:
such content is refused with :class:`InvalidInputError`.

A ``surrealkv`` directory is locked (``<dir>.lock``) while a store has it open:
the engine itself does not stop a second process from opening it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

from .._loading import import_driver
from .._values import check_limit, dump_json, load_json
from ..errors import AlreadyExistsError, BackendUnavailableError, InvalidInputError, StoreError
from ._common import (
    check_collection_metadata,
    check_collection_name,
    check_delete_args,
    check_dimension,
    check_distance,
    check_document_ids,
    check_documents,
    check_embedding,
    check_score_threshold,
    check_search_limit,
    collection_exists,
    collection_not_found,
    document_exists,
    parse_filters,
)
from ._filter_sql import Parameters, SurrealObject, surreal_scalar, translate_filter
from .base import CollectionInfo, Distance, Filter, KnowledgeDocument, KnowledgeStore
from .config import SurrealVectorKnowledgeConfig

__all__ = ["SurrealVectorKnowledgeStore"]

T = TypeVar("T")

_SCORES: dict[str, str] = {
    # A zero vector has no cosine (NaN, which SurrealDB sorts first): score it 0.0.
    "cosine": "IF vector::magnitude(embedding) = 0 OR vector::magnitude($query) = 0 THEN 0.0 "
    "ELSE vector::similarity::cosine(embedding, $query) END",
    "dot": "vector::dot(embedding, $query)",
    "euclidean": "1 / (1 + vector::distance::euclidean(embedding, $query))",
}
_FIELDS = "record::id(id) AS id, content, embedding, metadata_json, content_hash, created_at"
_DOCUMENT_EXISTS = "already exists"


class _QueryFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _filter_copy(value: Any) -> Any:
    """``value`` as SurrealDB can store it for filtering: big integers as decimals, ``None`` dropped from objects."""
    if isinstance(value, dict):
        return {key: _filter_copy(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_filter_copy(item) for item in value]
    return surreal_scalar(value)


class SurrealVectorKnowledgeStore(KnowledgeStore):
    """Knowledge store on SurrealDB; thread-safe (one connection behind a lock)."""

    backend = "surrealdb_vector"

    def __init__(self, config: SurrealVectorKnowledgeConfig | None = None) -> None:
        self.config = config or SurrealVectorKnowledgeConfig()
        self._sdk = import_driver("surrealdb", backend=self.backend, extra="surrealdb")
        self._lock = threading.RLock()
        self._connection: Any = None
        self._lock_file: IO[str] | None = None
        self._closed = False
        self._catalogue = f"{self.config.table_prefix}collections"

    # -- collections --------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        name = check_collection_name(name, self.backend)
        dimension = check_dimension(dimension, self.backend)
        distance = check_distance(distance, self.backend)
        copied = check_collection_metadata(metadata, self.backend)
        record = {
            "id": self._record(self._catalogue, name),
            "dimension": dimension,
            "distance": distance,
            "metadata_json": dump_json(copied, self.backend, "metadata"),
            "created_at": time.time(),
        }
        table = self._quoted_table(name)
        try:
            self._query(
                "BEGIN TRANSACTION; "
                f"CREATE $record.id CONTENT $record RETURN NONE; REMOVE TABLE IF EXISTS {table}; "
                f"DEFINE TABLE {table} SCHEMALESS; COMMIT TRANSACTION;",
                {"record": record},
            )
        except _QueryFailed as error:
            if _DOCUMENT_EXISTS in error.message:
                raise collection_exists(name, self.backend) from None
            raise self._error(error) from None

    def delete_collection(self, name: str) -> bool:
        name = check_collection_name(name, self.backend)
        result = self._query(
            f"BEGIN TRANSACTION; DELETE $record RETURN BEFORE; REMOVE TABLE IF EXISTS {self._quoted_table(name)}; "
            "COMMIT TRANSACTION;",
            {"record": self._record(self._catalogue, name)},
        )
        return bool(result[0])

    def collection_exists(self, name: str) -> bool:
        name = check_collection_name(name, self.backend)
        return self._find(name) is not None

    def list_collections(self) -> list[str]:
        [names] = self._query("SELECT VALUE record::id(id) FROM type::table($table)", {"table": self._catalogue})
        return sorted(names)

    # -- documents ----------------------------------------------------------

    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self._write(collection, documents, replace=False)

    def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self._write(collection, documents, replace=True)

    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        limit = check_search_limit(limit, self.backend)
        threshold = check_score_threshold(score_threshold, self.backend)
        node = parse_filters(filters, self.backend)
        dimension, distance = self._lookup(collection)
        query = check_embedding(query_embedding, dimension, self.backend, "query_embedding")
        params = Parameters()
        where = "" if node is None else " WHERE " + translate_filter(node, SurrealObject("meta", "meta_nulls"), params)
        [rows] = self._query(
            f"SELECT {_FIELDS}, {_SCORES[distance]} AS score FROM type::table($table){where} "
            "ORDER BY score DESC LIMIT $limit",
            {**params.values, "table": self._table(collection), "query": query, "limit": limit},
        )
        results = []
        for row in rows:
            document = _document(row)
            document.score = float(row["score"])
            if threshold is not None and document.score < threshold:
                break  # best first: every later row scores lower
            results.append(document)
        return results

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        wanted = check_document_ids(ids, self.backend)
        self._lookup(collection)
        if not wanted:
            return []
        table = self._table(collection)
        [rows] = self._query(
            f"SELECT {_FIELDS} FROM $records", {"records": [self._record(table, item) for item in wanted]}
        )
        found = {row["id"]: row for row in rows}
        return [_document(found[document_id]) for document_id in dict.fromkeys(wanted) if document_id in found]

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        wanted, node = check_delete_args(ids, filters, self.backend)
        self._lookup(collection)
        if wanted is not None and not wanted:
            return 0
        table = self._table(collection)
        params = Parameters()
        where = "" if node is None else " WHERE " + translate_filter(node, SurrealObject("meta", "meta_nulls"), params)
        values: dict[str, Any]
        if wanted is not None:
            target, values = "$records", {"records": [self._record(table, item) for item in dict.fromkeys(wanted)]}
        else:
            target, values = "type::table($table)", {"table": table}
        [deleted] = self._query(f"DELETE {target}{where} RETURN BEFORE", {**params.values, **values})
        return len(deleted)

    def count(self, collection: str) -> int:
        self._lookup(collection)
        [rows] = self._query("SELECT count() FROM type::table($table) GROUP ALL", {"table": self._table(collection)})
        return int(rows[0]["count"]) if rows else 0

    # -- KnowledgeTransfer extras (for migrate / export) --------------------

    def describe_collection(self, name: str) -> CollectionInfo:
        name = check_collection_name(name, self.backend)
        [rows] = self._query(
            "SELECT dimension, distance, metadata_json FROM $record", {"record": self._record(self._catalogue, name)}
        )
        if not rows:
            raise collection_not_found(name, self.backend)
        row = rows[0]
        return CollectionInfo(name, int(row["dimension"]), row["distance"], load_json(row["metadata_json"]))

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        size = check_limit(batch_size, self.backend, "batch_size", allow_zero=False)
        start = 0
        while True:
            self._lookup(collection)
            [rows] = self._query(
                f"SELECT {_FIELDS} FROM type::table($table) ORDER BY id LIMIT $size START $start",
                {"table": self._table(collection), "size": size, "start": start},
            )
            if not rows:
                return
            yield [_document(row) for row in rows]
            start += len(rows)

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connection, self._connection = self._connection, None
            try:
                if connection is not None:
                    connection.close()
            finally:
                if self._lock_file is not None:
                    self._lock_file.close()
                    self._lock_file = None

    def __repr__(self) -> str:
        return f"SurrealVectorKnowledgeStore(url={self.config.url!r}, namespace={self.config.namespace!r})"

    # -- internals ----------------------------------------------------------

    def _write(self, collection: str, documents: Sequence[KnowledgeDocument], *, replace: bool) -> list[str]:
        dimension, _ = self._lookup(collection)
        prepared = check_documents(documents, dimension, self.backend)
        table = self._table(collection)
        rows = [self._row(table, document, index) for index, document in enumerate(prepared)]
        ids = [document.id for document in prepared]
        if not rows:
            return ids
        quoted = self._quoted_table(collection)
        try:
            if replace:
                self._query(
                    f"BEGIN TRANSACTION; DELETE $records; INSERT INTO {quoted} $rows RETURN NONE; COMMIT TRANSACTION;",
                    {"records": [row["id"] for row in rows], "rows": rows},
                )
            else:
                self._query(f"INSERT INTO {quoted} $rows RETURN NONE", {"rows": rows})
        except _QueryFailed as error:
            if _DOCUMENT_EXISTS in error.message:
                [taken] = self._query(
                    "SELECT VALUE record::id(id) FROM $records", {"records": [row["id"] for row in rows]}
                )
                raise document_exists(collection, taken or ids, self.backend) from None
            raise self._error(error) from None
        return ids

    def _row(self, table: str, document: KnowledgeDocument, index: int) -> dict[str, Any]:
        if "\x00" in document.content:
            raise InvalidInputError(
                f"documents[{index}].content contains a NUL character, which SurrealDB cannot return",
                backend=self.backend,
            )
        metadata = document.metadata or {}
        row: dict[str, Any] = {
            "id": self._record(table, document.id),
            "content": document.content,
            "embedding": document.embedding,
            "metadata_json": dump_json(document.metadata, self.backend, "metadata"),
            "meta": _filter_copy(metadata),
            "meta_nulls": [key for key, value in metadata.items() if value is None],
            "created_at": document.created_at,
        }
        if document.content_hash is not None:
            row["content_hash"] = document.content_hash
        return row

    def _table(self, collection: str) -> str:
        return f"{self.config.table_prefix}{check_collection_name(collection, self.backend)}"

    def _quoted_table(self, collection: str) -> str:
        # Validated names only (letters, digits, '_', '-'); backticks make '-' legal in SurrealQL.
        return f"`{self._table(collection)}`"

    def _record(self, table: str, record_id: str) -> Any:
        return self._sdk.RecordID(table, record_id)

    def _find(self, name: str) -> tuple[int, Distance] | None:
        [rows] = self._query("SELECT dimension, distance FROM $record", {"record": self._record(self._catalogue, name)})
        return None if not rows else (int(rows[0]["dimension"]), rows[0]["distance"])

    def _lookup(self, name: str) -> tuple[int, Distance]:
        check_collection_name(name, self.backend)
        found = self._find(name)
        if found is None:
            raise collection_not_found(name, self.backend)
        return found

    def _query(self, statement: str, variables: dict[str, Any]) -> list[Any]:
        """Run ``statement``; the result of each statement that returns one. Raises _QueryFailed on ERR."""
        with self._lock:
            connection = self._connected()
            try:
                response = connection.query_raw(statement, variables)
            except (ConnectionError, OSError) as error:
                self._drop_connection()
                raise BackendUnavailableError(f"SurrealDB is unreachable: {error}", backend=self.backend) from error
            except RuntimeError as error:
                raise StoreError(f"SurrealDB refused a statement: {error}", backend=self.backend) from error
        if "error" in response:
            raise StoreError(f"SurrealDB error: {response['error']}", backend=self.backend)
        results = []
        for item in response["result"]:
            if item.get("status") != "OK":
                raise _QueryFailed(str(item.get("result")))
            if item.get("result") is not None:
                results.append(item["result"])
        return results

    def _error(self, error: _QueryFailed) -> StoreError:
        if _DOCUMENT_EXISTS in error.message:
            return AlreadyExistsError(error.message, backend=self.backend)
        return StoreError(f"SurrealDB error: {error.message}", backend=self.backend)

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def _connected(self) -> Any:
        if self._closed:
            raise StoreError("the store is closed", backend=self.backend)
        if self._connection is not None:
            return self._connection
        config = self.config
        if config.directory is not None and self._lock_file is None:
            self._lock_file = _lock_directory(config.directory, self.backend)
        try:
            connection = self._sdk.Surreal(config.url)
            connection.connect()
            if config.token is not None:
                connection.authenticate(config.token.get_secret_value())
            elif config.username is not None:
                password = config.password.get_secret_value() if config.password is not None else ""
                connection.signin({"username": config.username, "password": password})
            connection.use(config.namespace, config.database)
        except (ConnectionError, OSError) as error:
            raise BackendUnavailableError(f"cannot reach SurrealDB: {error}", backend=self.backend) from error
        self._connection = connection
        return connection


def _lock_directory(directory: str, backend: str) -> IO[str]:
    path = Path(directory).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_file = open(path.with_name(path.name + ".lock"), "a", encoding="utf-8")  # noqa: SIM115 - held while open
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks
        return lock_file
    try:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        raise StoreError(f"{path} is in use by another store", backend=backend) from None
    return lock_file


def _document(row: dict[str, Any]) -> KnowledgeDocument:
    return KnowledgeDocument(
        id=row["id"],
        content=row.get("content") or "",
        embedding=[float(value) for value in row["embedding"]],
        metadata=load_json(row["metadata_json"]),
        content_hash=row.get("content_hash"),
        created_at=float(row["created_at"]),
    )
