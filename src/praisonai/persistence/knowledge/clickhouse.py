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
``JSONExtract*`` (see :mod:`._filters.sql`). Search is exact: ``cosineDistance``
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
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._loading import import_driver
from .._values import dump_json, load_json
from ..errors import BackendUnavailableError, InvalidInputError, NotFoundError, StoreError
from ._filters.sql import ClickHouseJson, Parameters, translate_filter
from ._layers.store_base import CollectionSettings, KnowledgeStoreBase
from .base import Distance, KnowledgeDocument
from .config import ClickHouseKnowledgeConfig
from .filters import FilterNode

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

__all__ = ["ClickHouseKnowledgeStore"]

T = TypeVar("T")

_SCORES: dict[str, str] = {
    # A zero vector's cosine is NaN here, which ORDER BY ranks last: it scores 0.0 (the reference).
    "cosine": "ifNotFinite(1 - cosineDistance(embedding, {query:Array(Float32)}), 0.0)",
    "dot": "dotProduct(embedding, {query:Array(Float32)})",
    "euclidean": "1 / (1 + L2Distance(embedding, {query:Array(Float32)}))",
}
_COLUMNS = ["id", "content", "embedding", "metadata", "content_hash", "created_at", "version"]
_SELECT = "id, content, embedding, metadata, content_hash, created_at"


def _quote(identifier: str) -> str:
    # Only validated names get here (letters, digits, '_' and '-'); backticks make '-' legal.
    return f"`{identifier}`"


class ClickHouseKnowledgeStore(KnowledgeStoreBase[CollectionSettings, ClickHouseKnowledgeConfig]):
    """Knowledge store on ClickHouse or chDB; thread-safe (one client behind a lock)."""

    backend = "clickhouse"
    exact_filter_numbers = 2**64  # ClickHouse's JSON functions read larger integers as strings

    def __init__(self, config: ClickHouseKnowledgeConfig | None = None) -> None:
        super().__init__(config or ClickHouseKnowledgeConfig())
        self._driver = self._import_driver("clickhouse_connect")
        self._exceptions = self._import_driver("clickhouse_connect.driver.exceptions")
        if self.config.chdb_path is not None:
            import_driver("chdb", backend=self.backend, extra=None)
        self._client: Client | None = None
        self._ready = False
        self._last_version = 0
        self._database = _quote(self.config.database)
        self._catalogue = f"{self._database}.{_quote(self.config.table_prefix + 'collections')}"

    def __repr__(self) -> str:
        config = self.config
        where = f"chdb_path={config.chdb_path!r}" if config.chdb_path else f"host={config.host!r}"
        return f"ClickHouseKnowledgeStore({where}, database={config.database!r})"

    # -- engine primitives (called with the lock held) ----------------------

    def _find(self, name: str) -> CollectionSettings | None:
        rows = self._rows(
            f"SELECT dimension, distance, metadata FROM {self._catalogue} WHERE name = {{name:String}} LIMIT 1",
            parameters={"name": name},
        )
        return None if not rows else CollectionSettings(int(rows[0][0]), rows[0][1], load_json(rows[0][2]))

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        client = self._connected()
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
            [[name, dimension, distance, dump_json(metadata, what="metadata"), time.time()]],
            column_names=["name", "dimension", "distance", "metadata", "created_at"],
        )

    def _drop(self, name: str, target: CollectionSettings) -> None:
        client = self._connected()
        client.command(f"DELETE FROM {self._catalogue} WHERE name = {{name:String}}", parameters={"name": name})
        client.command(f"DROP TABLE IF EXISTS {self._table(name)}")

    def _names(self) -> list[str]:
        rows = self._connected().query(f"SELECT DISTINCT name FROM {self._catalogue} ORDER BY name").result_rows
        return [row[0] for row in rows]

    def _taken(self, name: str, target: CollectionSettings, ids: list[str]) -> list[str]:
        rows = self._rows(
            f"SELECT id FROM {self._table(name)} FINAL WHERE id IN {{ids:Array(String)}}", parameters={"ids": ids}
        )
        return [row[0] for row in rows]

    def _put(
        self, name: str, target: CollectionSettings, documents: list[KnowledgeDocument], *, overwrite: bool
    ) -> None:
        for document in documents:  # before anything is written
            for key, value in (document.metadata or {}).items():
                if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
                    raise InvalidInputError(
                        f"document {document.id!r}: metadata field {key!r} holds an integer beyond 64 bits, "
                        "which ClickHouse's JSON functions read as a string (it would never match a filter)"
                    )
        version = self._next_version()
        rows = [
            [
                document.id,
                document.content,
                document.embedding,
                dump_json(document.metadata, what="metadata"),
                document.content_hash,
                document.created_at,
                version,
            ]
            for document in documents
        ]
        self._connected().insert(self._table(name), rows, column_names=_COLUMNS)

    def _search(
        self, name: str, target: CollectionSettings, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        params = Parameters()
        where = "" if node is None else " WHERE " + translate_filter(node, ClickHouseJson("metadata"), params)
        rows = self._rows(
            f"SELECT {_SELECT}, {_SCORES[target.distance]} AS score FROM {self._table(name)} FINAL{where} "
            "ORDER BY score DESC LIMIT {limit:UInt64}",
            parameters={**params.values, "query": query, "limit": limit},
        )
        results = []
        for row in rows:
            document = _document(row)
            raw = float(row[6])
            document.score = 0.0 if math.isnan(raw) else raw  # a zero vector has no cosine
            results.append(document)
        return results

    def _fetch(self, name: str, target: CollectionSettings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        rows = self._rows(
            f"SELECT {_SELECT} FROM {self._table(name)} FINAL WHERE id IN {{ids:Array(String)}}",
            parameters={"ids": ids},
        )
        return {row[0]: _document(row) for row in rows}

    def _remove(self, name: str, target: CollectionSettings, ids: list[str] | None, node: FilterNode | None) -> int:
        client = self._connected()
        params = Parameters()
        conditions = []
        if ids is not None:
            conditions.append("id IN {ids:Array(String)}")
            params.values["ids"] = ids
        if node is not None:
            conditions.append(translate_filter(node, ClickHouseJson("metadata"), params))
        table = self._table(name)
        # Select on the FINAL view first: deleting by filter directly could remove the
        # newest version of a row and resurrect an older one.
        doomed = [
            row[0]
            for row in self._rows(f"SELECT id FROM {table} FINAL WHERE {' AND '.join(conditions)}", params.values)
        ]
        if doomed:
            client.command(f"DELETE FROM {table} WHERE id IN {{ids:Array(String)}}", parameters={"ids": doomed})
        return len(doomed)

    def _count(self, name: str, target: CollectionSettings) -> int:
        return int(self._connected().query(f"SELECT count() FROM {self._table(name)} FINAL").result_rows[0][0])

    def _scan(self, name: str, target: CollectionSettings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        statement = (
            f"SELECT {_SELECT} FROM {self._table(name)} FINAL WHERE id > {{after:String}} "
            "ORDER BY id LIMIT {size:UInt64}"
        )
        pages = self._pages_of(
            name,
            target,
            lambda _, after: self._rows(statement, parameters={"after": after, "size": batch_size}),
            "",
            lambda _, rows: rows[-1][0],
        )
        return ([_document(row) for row in rows] for rows in pages)

    def _release(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _translate_error(self, error: Exception) -> Exception | None:
        exceptions = self._exceptions
        if isinstance(error, exceptions.OperationalError):
            self._drop_client()
            return BackendUnavailableError(f"ClickHouse is unreachable: {error}")
        if isinstance(error, exceptions.DatabaseError):
            if "UNKNOWN_TABLE" in str(error):
                return NotFoundError(f"a collection table is missing (dropped meanwhile?): {error}")
            return StoreError(f"ClickHouse error: {error}")
        return None

    # -- internals ----------------------------------------------------------

    def _next_version(self) -> int:
        # Strictly increasing within this store, and across stores as far as the clock allows.
        self._last_version = max(self._last_version + 1, time.time_ns())
        return self._last_version

    def _table(self, collection: str) -> str:
        return f"{self._database}.{_quote(self.config.table_prefix + collection)}"

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # the connection is already unusable
                client.close()

    def _rows(self, sql: str, parameters: dict[str, Any]) -> Sequence[Any]:
        return self._connected().query(sql, parameters=parameters).result_rows

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
                    "engine needs clickhouse-connect>=1.12 and chdb, and one data directory per process"
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
                    f"cannot connect to ClickHouse at {config.host}:{config.effective_port}: {error}"
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
