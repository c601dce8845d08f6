"""Apache Cassandra 5 knowledge store (SAI vector search), through cassandra-driver.

Engine: Apache Cassandra 5.0+ (Storage-Attached Indexes with vector search); DataStax
Astra/HCD speak the same CQL. Driver: ``cassandra-driver`` (extra ``cassandra``).
URL forms: ``cassandra://user:password@host1,host2:9042/keyspace`` (also ``scylla://``).
Test tier: fake. No Cassandra-compatible engine installs from PyPI, Debian or npm here,
so the tests run the adapter against a client-level fake of the driver's ``Cluster`` /
``Session`` (tests/support/hosted_fakes.py) that executes exactly the CQL statements
this module sends (matched by their text) with the documented semantics (``IF NOT
EXISTS`` light-weight transactions, ``CONTAINS`` on a SAI-indexed set, ``ORDER BY ... ANN
OF`` by brute force). Cassandra itself (CQL parsing, SAI, consistency, auth) is not
exercised.

Layout: keyspace ``keyspace`` (created with SimpleStrategy when ``create_keyspace``), a
catalogue table ``<prefix>collections`` and one table ``<prefix><sha1 of the name, 24 hex>``
per collection: ``id`` (partition key), ``content``, ``metadata`` (exact JSON),
``content_hash``, ``created_at``, ``embedding vector<float, N>`` with a SAI vector index of
the collection's similarity function (``COSINE``, ``DOT_PRODUCT``, ``EUCLIDEAN``) and ``ix
set<text>`` (the filter tokens of :mod:`._layers.records`) with a SAI index.

Filters: SAI in Cassandra 5.0 has no ``OR`` and no negation, and a set's ``CONTAINS`` is
the only predicate on the tokens, so only equality (``$eq``) and ``$and`` are expressed
(``ix CONTAINS ? AND ix CONTAINS ?``); ``$ne $nin $in $or`` and ordering comparisons raise
UnsupportedFilterError. Embeddings are float32.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from ._filters.native import All, Eq, Lowered
from ._layers.hosted_store import HostedVectorStore, Settings
from ._layers.records import RANGE_OPERATORS, RECORD_COLUMNS, document_from_record, value_token
from .base import KnowledgeDocument
from .config import CassandraKnowledgeConfig

__all__ = ["CassandraKnowledgeStore", "contains_clauses"]

_FUNCTIONS = {"cosine": "COSINE", "dot": "DOT_PRODUCT", "euclidean": "EUCLIDEAN"}
_FIELDS = ", ".join(RECORD_COLUMNS)


def contains_clauses(node: Lowered) -> list[str]:
    """The tokens of a filter of equalities joined by AND, each one ``ix CONTAINS ?``."""
    if isinstance(node, Eq):
        return [value_token(node.field, node.kind, node.value)]
    if isinstance(node, All):
        return [token for part in node.parts for token in contains_clauses(part)]
    raise AssertionError(f"unexpected filter node {node!r} (only $eq and $and are supported)")


def _row(row: Any) -> KnowledgeDocument:
    return document_from_record(dict(zip(RECORD_COLUMNS, row, strict=True)))


class CassandraKnowledgeStore(HostedVectorStore[CassandraKnowledgeConfig]):
    """A KnowledgeStore on Cassandra tables with SAI vector indexes."""

    engine = "Cassandra"
    unsupported_filters = RANGE_OPERATORS | frozenset({"$ne", "$nin", "$in", "$or"})

    def __init__(self, config: CassandraKnowledgeConfig) -> None:
        super().__init__(config)
        cluster_module = self._import_driver("cassandra.cluster")
        auth = None
        if config.username is not None:
            auth_module = self._import_driver("cassandra.auth")
            password = "" if config.password is None else config.password.get_secret_value()
            auth = auth_module.PlainTextAuthProvider(username=config.username, password=password)
        with self._translating:  # an unreachable engine is BackendUnavailableError
            # An Astra bundle names the endpoints itself; the driver refuses contact points beside it.
            bundle = config.secure_connect_bundle
            where: dict[str, Any] = (
                {"cloud": {"secure_connect_bundle": bundle}}
                if bundle is not None
                else {"contact_points": list(config.hosts), "port": config.port}
            )
            self._cluster: Any = cluster_module.Cluster(
                **where,
                auth_provider=auth,
                connect_timeout=config.connect_timeout,
            )
            self._session: Any = self._cluster.connect()
            self._prepared: dict[str, Any] = {}
            keyspace = f'"{config.keyspace}"'
            if config.create_keyspace:
                self._session.execute(
                    f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
                    f"{{'class': 'SimpleStrategy', 'replication_factor': {int(config.replication_factor)}}}"
                )
            self._catalogue = f'{keyspace}."{config.table_prefix}collections"'
            self._session.execute(
                f"CREATE TABLE IF NOT EXISTS {self._catalogue} (name text PRIMARY KEY, settings text)"
            )

    def _table(self, name: str) -> str:
        digest = hashlib.sha1(name.encode()).hexdigest()[:24]  # noqa: S324 - a name, not a secret
        return f'"{self.config.keyspace}"."{self.config.table_prefix}{digest}"'

    def _index_name(self, name: str, suffix: str) -> str:
        return f"{self.config.table_prefix}{hashlib.sha1(name.encode()).hexdigest()[:24]}_{suffix}"  # noqa: S324

    def _run(self, statement: str, parameters: Any = ()) -> Any:
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = self._session.prepare(statement)
        return self._session.execute(prepared, parameters)

    # -- primitives ----------------------------------------------------------------------

    def _native_create(self, name: str, settings: Settings) -> bool:
        table = self._table(name)
        self._session.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (id text PRIMARY KEY, content text, metadata text, "
            f"content_hash text, created_at double, embedding vector<float, {int(settings.dimension)}>, ix set<text>)"
        )
        self._session.execute(
            f'CREATE CUSTOM INDEX IF NOT EXISTS "{self._index_name(name, "vec")}" ON {table} (embedding) '
            f"USING 'StorageAttachedIndex' WITH OPTIONS = {{'similarity_function': '{_FUNCTIONS[settings.distance]}'}}"
        )
        self._session.execute(
            f'CREATE CUSTOM INDEX IF NOT EXISTS "{self._index_name(name, "ix")}" ON {table} (ix) '
            "USING 'StorageAttachedIndex'"
        )
        result = self._run(
            f"INSERT INTO {self._catalogue} (name, settings) VALUES (?, ?) IF NOT EXISTS",
            (name, settings.to_json()),
        )
        return bool(result.was_applied)

    def _native_drop(self, name: str) -> bool:
        self._session.execute(f"DROP TABLE IF EXISTS {self._table(name)}")
        self._prepared = {key: value for key, value in self._prepared.items() if self._table(name) not in key}
        self._run(f"DELETE FROM {self._catalogue} WHERE name = ?", (name,))
        return True

    def _find(self, name: str) -> Settings | None:
        row = self._run(f"SELECT settings FROM {self._catalogue} WHERE name = ?", (name,)).one()
        return None if row is None else Settings.from_json(row[0])

    def _names(self) -> list[str]:
        return [str(row[0]) for row in self._session.execute(f"SELECT name FROM {self._catalogue}")]

    def _taken(self, name: str, settings: Settings, ids: list[str]) -> set[str]:
        return {str(row[0]) for row in self._run(f"SELECT id FROM {self._table(name)} WHERE id IN ?", (ids,))}

    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        statement = (
            f"INSERT INTO {self._table(name)} (id, content, metadata, content_hash, created_at, embedding, ix) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        for r in records:
            self._run(
                statement,
                (*(r[column] for column in RECORD_COLUMNS), set(r["ix"])),
            )

    def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        rows = self._run(f"SELECT {_FIELDS} FROM {self._table(name)} WHERE id IN ?", (ids,))
        return {str(row[0]): _row(row) for row in rows}

    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        tokens = [] if node is None else contains_clauses(node)
        where = (" WHERE " + " AND ".join(["ix CONTAINS ?"] * len(tokens))) if tokens else ""
        statement = f"SELECT {_FIELDS} FROM {self._table(name)}{where} ORDER BY embedding ANN OF ? LIMIT ?"
        return [_row(row) for row in self._run(statement, (*tokens, vector, limit))]

    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        tokens = contains_clauses(node)
        statement = f"SELECT id FROM {self._table(name)} WHERE " + " AND ".join(["ix CONTAINS ?"] * len(tokens))
        found = [str(row[0]) for row in self._run(statement, tuple(tokens))]
        if ids is None:
            return found
        wanted = set(ids)
        return [document_id for document_id in found if document_id in wanted]

    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        self._run(f"DELETE FROM {self._table(name)} WHERE id IN ?", (ids,))

    def _count(self, name: str, settings: Settings) -> int:
        return int(self._run(f"SELECT COUNT(*) FROM {self._table(name)}").one()[0])

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        query = self._import_driver("cassandra.query")
        result = self._session.execute(
            query.SimpleStatement(f"SELECT {_FIELDS} FROM {self._table(name)}", fetch_size=batch_size)
        )
        while True:
            yield [_row(row) for row in result.current_rows]
            if not result.has_more_pages:
                return
            result.fetch_next_page()

    def _release(self) -> None:
        self._cluster.shutdown()
