"""ClickHouse: vectors in ``Array(Float32)`` columns, searched by brute force, through clickhouse-connect.

Engine: a ClickHouse server (HTTP interface), or chDB, ClickHouse's embedded
in-process engine. Driver: clickhouse-connect (``pip install
"praisonai-persistence[clickhouse]"``); the embedded engine also needs
``pip install chdb`` (clickhouse-connect's ``chdb`` interface, which it calls
experimental). One SQL layer serves both: the same statements with the same
``{name:Type}`` server-side parameters go to the server over HTTP or to chDB in
process.

URL forms: ``clickhouse://user:password@host:8123/database`` (``clickhouses://``
or ``?secure=true`` for HTTPS), ``http(s)://host:port/database``; ``chdb://``
(embedded, in memory), ``chdb:///relative/dir``, ``chdb:////absolute/dir``.

Test tier: embedded (chDB 4 with clickhouse-connect's chdb interface, in
process). The HTTP transport to a real server is not exercised here: no
current ClickHouse server installs from the package registries this project is
tested with.

Layout, in ``database``: a catalogue table ``<prefix>collections`` and one
``ReplacingMergeTree(version) ORDER BY id`` table per collection; reads use
``FINAL`` so an upsert (a newer version of the row) replaces atomically.
Metadata is stored as its exact JSON text and filtered with ``JSONType`` /
``JSONExtract*`` (see :mod:`._filter_sql`). Search is exact: ``cosineDistance``
(score ``1 - d``), ``dotProduct`` and ``L2Distance`` (score ``1 / (1 + d)``)
over every row that passes the filter. A zero vector has no cosine and scores 0.0.

ClickHouse has no transactions or unique keys: this store checks ids and
collection names under a lock, which makes insert-never-overwrites hold for
writers sharing one store object, not for several processes writing the same
collection at once. Integers beyond 64 bits in metadata are compared as floats.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._loading import import_driver
from .._values import check_limit, dump_json, load_json
from ..errors import BackendUnavailableError, NotFoundError, StoreError
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
from ._filter_sql import ClickHouseJson, Parameters, translate_filter
from .base import CollectionInfo, Distance, Filter, KnowledgeDocument, KnowledgeStore
from .config import ClickHouseKnowledgeConfig

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

__all__ = ["ClickHouseKnowledgeStore"]

T = TypeVar("T")

_SCORES: dict[str, str] = {
    "cosine": "1 - cosineDistance(embedding, {query:Array(Float32)})",
    "dot": "dotProduct(embedding, {query:Array(Float32)})",
    "euclidean": "1 / (1 + L2Distance(embedding, {query:Array(Float32)}))",
}
_COLUMNS = ["id", "content", "embedding", "metadata", "content_hash", "created_at", "version"]
_SELECT = "id, content, embedding, metadata, content_hash, created_at"


def _quote(identifier: str) -> str:
    # Only validated names get here (letters, digits, '_' and '-'); backticks make '-' legal.
    return f"`{identifier}`"


class ClickHouseKnowledgeStore(KnowledgeStore):
    """Knowledge store on ClickHouse or chDB; thread-safe (one client behind a lock)."""

    backend = "clickhouse"

    def __init__(self, config: ClickHouseKnowledgeConfig | None = None) -> None:
        self.config = config or ClickHouseKnowledgeConfig()
        self._driver = import_driver("clickhouse_connect", backend=self.backend, extra="clickhouse")
        self._exceptions = import_driver(
            "clickhouse_connect.driver.exceptions", backend=self.backend, extra="clickhouse"
        )
        if self.config.chdb_path is not None:
            import_driver("chdb", backend=self.backend, extra=None)
        self._lock = threading.RLock()
        self._client: Client | None = None
        self._closed = False
        self._ready = False
        self._last_version = 0
        self._database = _quote(self.config.database)
        self._catalogue = f"{self._database}.{_quote(self.config.table_prefix + 'collections')}"

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

        def create(client: Client) -> None:
            if self._find(client, name) is not None:
                raise collection_exists(name, self.backend)
            table = self._table(name)
            client.command(
                f"CREATE TABLE IF NOT EXISTS {table} (id String, content String, embedding Array(Float32), "
                "metadata String, content_hash Nullable(String), created_at Float64, version UInt64, "
                f"CONSTRAINT dimension CHECK length(embedding) = {dimension}) "
                "ENGINE = ReplacingMergeTree(version) ORDER BY id"
            )
            client.command(f"TRUNCATE TABLE {table}")  # a leftover of a half-finished delete_collection
            client.insert(
                self._catalogue,
                [[name, dimension, distance, dump_json(copied, self.backend, "metadata"), time.time()]],
                column_names=["name", "dimension", "distance", "metadata", "created_at"],
            )

        self._run(create)

    def delete_collection(self, name: str) -> bool:
        name = check_collection_name(name, self.backend)

        def drop(client: Client) -> bool:
            if self._find(client, name) is None:
                return False
            client.command(f"DELETE FROM {self._catalogue} WHERE name = {{name:String}}", parameters={"name": name})
            client.command(f"DROP TABLE IF EXISTS {self._table(name)}")
            return True

        return self._run(drop)

    def collection_exists(self, name: str) -> bool:
        name = check_collection_name(name, self.backend)
        return self._run(lambda client: self._find(client, name) is not None)

    def list_collections(self) -> list[str]:
        def names(client: Client) -> list[str]:
            rows = client.query(f"SELECT DISTINCT name FROM {self._catalogue} ORDER BY name").result_rows
            return [row[0] for row in rows]

        return self._run(names)

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

        def search(client: Client) -> list[KnowledgeDocument]:
            dimension, distance = self._lookup(client, collection)
            query = check_embedding(query_embedding, dimension, self.backend, "query_embedding")
            params = Parameters()
            where = "" if node is None else " WHERE " + translate_filter(node, ClickHouseJson("metadata"), params)
            rows = client.query(
                f"SELECT {_SELECT}, {_SCORES[distance]} AS score FROM {self._table(collection)} FINAL{where} "
                "ORDER BY score DESC LIMIT {limit:UInt64}",
                parameters={**params.values, "query": query, "limit": limit},
            ).result_rows
            results = []
            for row in rows:
                document = _document(row)
                raw = float(row[6])
                document.score = 0.0 if math.isnan(raw) else raw  # a zero vector has no cosine
                if threshold is not None and document.score < threshold:
                    break  # best first: every later row scores lower
                results.append(document)
            return results

        return self._run(search)

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        wanted = check_document_ids(ids, self.backend)

        def get(client: Client) -> list[KnowledgeDocument]:
            self._lookup(client, collection)
            if not wanted:
                return []
            rows = client.query(
                f"SELECT {_SELECT} FROM {self._table(collection)} FINAL WHERE id IN {{ids:Array(String)}}",
                parameters={"ids": wanted},
            ).result_rows
            found = {row[0]: row for row in rows}
            return [_document(found[document_id]) for document_id in dict.fromkeys(wanted) if document_id in found]

        return self._run(get)

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        wanted, node = check_delete_args(ids, filters, self.backend)

        def delete(client: Client) -> int:
            self._lookup(client, collection)
            if wanted is not None and not wanted:
                return 0
            params = Parameters()
            conditions = []
            if wanted is not None:
                conditions.append("id IN {ids:Array(String)}")
                params.values["ids"] = wanted
            if node is not None:
                conditions.append(translate_filter(node, ClickHouseJson("metadata"), params))
            table = self._table(collection)
            # Select on the FINAL view first: deleting by filter directly could remove the
            # newest version of a row and resurrect an older one.
            doomed = [
                row[0]
                for row in client.query(
                    f"SELECT id FROM {table} FINAL WHERE {' AND '.join(conditions)}", parameters=params.values
                ).result_rows
            ]
            if doomed:
                client.command(f"DELETE FROM {table} WHERE id IN {{ids:Array(String)}}", parameters={"ids": doomed})
            return len(doomed)

        return self._run(delete)

    def count(self, collection: str) -> int:
        def count(client: Client) -> int:
            self._lookup(client, collection)
            return int(client.query(f"SELECT count() FROM {self._table(collection)} FINAL").result_rows[0][0])

        return self._run(count)

    # -- KnowledgeTransfer extras (for migrate / export) --------------------

    def describe_collection(self, name: str) -> CollectionInfo:
        name = check_collection_name(name, self.backend)

        def describe(client: Client) -> CollectionInfo:
            rows = client.query(
                f"SELECT dimension, distance, metadata FROM {self._catalogue} WHERE name = {{name:String}} LIMIT 1",
                parameters={"name": name},
            ).result_rows
            if not rows:
                raise collection_not_found(name, self.backend)
            return CollectionInfo(name, int(rows[0][0]), rows[0][1], load_json(rows[0][2]))

        return self._run(describe)

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        size = check_limit(batch_size, self.backend, "batch_size", allow_zero=False)
        after = ""
        while True:

            def page(client: Client, after: str = after) -> list[Any]:
                self._lookup(client, collection)
                return list(
                    client.query(
                        f"SELECT {_SELECT} FROM {self._table(collection)} FINAL WHERE id > {{after:String}} "
                        "ORDER BY id LIMIT {size:UInt64}",
                        parameters={"after": after, "size": size},
                    ).result_rows
                )

            rows = self._run(page)
            if not rows:
                return
            yield [_document(row) for row in rows]
            after = rows[-1][0]

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __repr__(self) -> str:
        config = self.config
        where = f"chdb_path={config.chdb_path!r}" if config.chdb_path else f"host={config.host!r}"
        return f"ClickHouseKnowledgeStore({where}, database={config.database!r})"

    # -- internals ----------------------------------------------------------

    def _write(self, collection: str, documents: Sequence[KnowledgeDocument], *, replace: bool) -> list[str]:
        def write(client: Client) -> list[str]:
            dimension, _ = self._lookup(client, collection)
            prepared = check_documents(documents, dimension, self.backend)
            ids = [document.id for document in prepared]
            if not prepared:
                return []
            table = self._table(collection)
            if not replace:
                taken = client.query(
                    f"SELECT id FROM {table} FINAL WHERE id IN {{ids:Array(String)}}", parameters={"ids": ids}
                ).result_rows
                if taken:
                    raise document_exists(collection, [row[0] for row in taken], self.backend)
            version = self._next_version()
            rows = [
                [
                    document.id,
                    document.content,
                    document.embedding,
                    dump_json(document.metadata, self.backend, "metadata"),
                    document.content_hash,
                    document.created_at,
                    version,
                ]
                for document in prepared
            ]
            client.insert(table, rows, column_names=_COLUMNS)
            return ids

        return self._run(write)

    def _next_version(self) -> int:
        # Strictly increasing within this store, and across stores as far as the clock allows.
        self._last_version = max(self._last_version + 1, time.time_ns())
        return self._last_version

    def _table(self, collection: str) -> str:
        return f"{self._database}.{_quote(self.config.table_prefix + collection)}"

    def _find(self, client: Client, name: str) -> tuple[int, Distance] | None:
        rows = client.query(
            f"SELECT dimension, distance FROM {self._catalogue} WHERE name = {{name:String}} LIMIT 1",
            parameters={"name": name},
        ).result_rows
        return None if not rows else (int(rows[0][0]), rows[0][1])

    def _lookup(self, client: Client, name: str) -> tuple[int, Distance]:
        check_collection_name(name, self.backend)
        found = self._find(client, name)
        if found is None:
            raise collection_not_found(name, self.backend)
        return found

    def _run(self, operation: Callable[[Client], T]) -> T:
        exceptions = self._exceptions
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed", backend=self.backend)
            try:
                return operation(self._connected())
            except exceptions.OperationalError as error:
                self._drop_client()
                raise BackendUnavailableError(f"ClickHouse is unreachable: {error}", backend=self.backend) from error
            except exceptions.DatabaseError as error:
                if "UNKNOWN_TABLE" in str(error):
                    raise NotFoundError(
                        f"a collection table is missing (dropped meanwhile?): {error}", backend=self.backend
                    ) from error
                raise StoreError(f"ClickHouse error: {error}", backend=self.backend) from error

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # the connection is already unusable
                client.close()

    def _connected(self) -> Client:
        if self._client is not None:
            return self._client
        config = self.config
        if config.chdb_path is not None:
            try:
                client: Client = self._driver.get_client(interface="chdb", path=config.chdb_path)
            except Exception as error:
                raise StoreError(
                    f"cannot open chDB at {config.chdb_path!r} ({type(error).__name__}: {error}); the embedded "
                    "engine needs clickhouse-connect>=1.12 and chdb, and one data directory per process",
                    backend=self.backend,
                ) from error
        else:
            try:
                client = self._driver.get_client(
                    host=config.host,
                    port=config.effective_port,
                    username=config.username,
                    password=config.password.get_secret_value() if config.password is not None else "",
                    secure=config.secure,
                    verify=config.verify,
                    connect_timeout=config.connect_timeout,
                    send_receive_timeout=config.send_receive_timeout,
                    autogenerate_session_id=False,
                )
            except self._exceptions.OperationalError as error:
                raise BackendUnavailableError(
                    f"cannot connect to ClickHouse at {config.host}:{config.effective_port}: {error}",
                    backend=self.backend,
                ) from error
        try:
            if not self._ready:
                client.command(f"CREATE DATABASE IF NOT EXISTS {self._database}")
                client.command(
                    f"CREATE TABLE IF NOT EXISTS {self._catalogue} (name String, dimension UInt32, "
                    "distance String, metadata String, created_at Float64) ENGINE = MergeTree ORDER BY name"
                )
                self._ready = True
        except BaseException:
            client.close()
            raise
        self._client = client
        return client


def _document(row: Sequence[Any]) -> KnowledgeDocument:
    return KnowledgeDocument(
        id=row[0],
        content=row[1],
        embedding=[float(value) for value in row[2]],
        metadata=load_json(row[3]),
        content_hash=row[4],
        created_at=float(row[5]),
    )
