"""Couchbase knowledge store: key-value writes and SQL++ vector queries, through the couchbase SDK.

Engine: Couchbase Server 8.0+ / Capella (SQL++ ``VECTOR_DISTANCE``). Driver: ``couchbase``
(extra ``couchbase``).
URL forms: ``couchbase://user:password@host/bucket`` (``couchbases://`` for TLS), options
``scope`` and ``collection_prefix``.
Test tier: fake. The tests run the adapter against a client-level fake of the SDK's
``Cluster`` / ``Bucket`` / ``Scope`` / ``Collection`` (tests/support/hosted_fakes.py): its
key-value calls keep documents in memory and raise the SDK's own exception classes, and
its ``query`` runs the adapter's SQL++ statements with a small evaluator of the
expression subset we emit and exact brute-force ``VECTOR_DISTANCE`` ranking. No
Couchbase server is installable here; Couchbase itself, its query and index services,
vector indexes and auth are not exercised.

Layout: the scope ``scope`` of bucket ``bucket`` (created if missing) holds a collection
``<prefix>catalogue`` (each collection's settings, by name) and one collection
``<prefix><name>`` per knowledge collection with a primary index; documents are keyed by
id and hold the fields of :func:`~._layers.records.document_record`. Filters become SQL++ with
``$p`` named parameters: ``ARRAY_CONTAINS(d.ix, $p0)``, ``d.n.[$p1] > $p2``, ``d.c.[$p3]``.
Search: ``ORDER BY VECTOR_DISTANCE(d.embedding, $q, "<metric>") LIMIT $k`` (``COSINE``, ``DOT``,
``L2``; smaller is closer). Queries use ``REQUEST_PLUS`` consistency, so they see every write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from ._filters.native import Lowered
from ._filters.tokens import SqlSpelling, SqlTokens
from ._layers.hosted_store import HostedVectorStore, Settings
from ._layers.records import document_from_record
from ._layers.store_base import read_pages
from .base import KnowledgeDocument
from .config import CouchbaseKnowledgeConfig

__all__ = ["CouchbaseFilter", "CouchbaseKnowledgeStore"]

_METRICS = {"cosine": "COSINE", "dot": "DOT", "euclidean": "L2"}
_FIELDS = "d.id, d.content, d.metadata, d.content_hash, d.created_at, d.embedding"


class CouchbaseFilter(SqlTokens):
    """The SQL++ spelling of a filter: ``$name`` named parameters, document alias ``d``."""

    spelling = SqlSpelling(
        placeholder="${}",
        contains="ARRAY_CONTAINS(d.ix, {})",
        number="d.n.[{}]",
        chunk="d.c.[{}]",
        present="d.c.[{}] IS VALUED",
    )


class CouchbaseKnowledgeStore(HostedVectorStore[CouchbaseKnowledgeConfig]):
    """A KnowledgeStore on Couchbase collections."""

    engine = "Couchbase"

    def __init__(self, config: CouchbaseKnowledgeConfig) -> None:
        super().__init__(config)
        cluster_module = self._import_driver("couchbase.cluster")
        auth = self._import_driver("couchbase.auth")
        self._options: Any = self._import_driver("couchbase.options")
        self._exceptions: Any = self._import_driver("couchbase.exceptions")
        self._n1ql: Any = self._import_driver("couchbase.n1ql")
        password = config.password.get_secret_value() if config.password is not None else ""
        authenticator = auth.PasswordAuthenticator(config.username or "", password)
        with self._translating:  # an unreachable engine is BackendUnavailableError
            self._cluster: Any = cluster_module.Cluster(
                config.connection_string, self._options.ClusterOptions(authenticator)
            )
            self._cluster.wait_until_ready(timedelta(seconds=config.timeout))
            self._bucket: Any = self._cluster.bucket(config.bucket)
            self._scope: Any = self._bucket.scope(config.scope)
            if config.scope != "_default":  # every bucket has it; it cannot be created
                with contextlib.suppress(self._exceptions.ScopeAlreadyExistsException):
                    self._bucket.collections().create_scope(config.scope)
            self._catalogue_name = f"{config.collection_prefix}catalogue"
            self._ensure_collection(self._catalogue_name)
            self._catalogue: Any = self._scope.collection(self._catalogue_name)

    def _ensure_collection(self, name: str) -> bool:
        try:
            self._bucket.collections().create_collection(self.config.scope, name)
        except self._exceptions.CollectionAlreadyExistsException:
            return False
        return True

    def _collection_name(self, name: str) -> str:
        return f"{self.config.collection_prefix}{name}"

    def _query(self, statement: str, parameters: dict[str, Any]) -> list[Any]:
        options = self._options.QueryOptions(
            named_parameters=parameters, scan_consistency=self._n1ql.QueryScanConsistency.REQUEST_PLUS
        )
        return list(self._scope.query(statement, options).rows())

    # -- primitives ---------------------------------------------------------------------

    def _native_create(self, name: str, settings: Settings) -> bool:
        try:
            self._catalogue.insert(name, {"settings": settings.to_json()})
        except self._exceptions.DocumentExistsException:
            return False
        collection = self._collection_name(name)
        self._ensure_collection(collection)
        self._query(f"CREATE PRIMARY INDEX IF NOT EXISTS ON `{collection}`", {})
        return True

    def _native_drop(self, name: str) -> bool:
        with contextlib.suppress(self._exceptions.CollectionNotFoundException):
            self._bucket.collections().drop_collection(self.config.scope, self._collection_name(name))
        try:
            self._catalogue.remove(name)
        except self._exceptions.DocumentNotFoundException:
            return False
        return True

    def _find(self, name: str) -> Settings | None:
        try:
            entry = self._catalogue.get(name).content_as[dict]
        except self._exceptions.DocumentNotFoundException:
            return None
        return Settings.from_json(entry["settings"])

    def _names(self) -> list[str]:
        return [str(row) for row in self._query(f"SELECT RAW META(d).id FROM `{self._catalogue_name}` AS d", {})]

    def _taken(self, name: str, settings: Settings, ids: list[str]) -> set[str]:
        collection = self._scope.collection(self._collection_name(name))
        return {document_id for document_id in ids if collection.exists(document_id).exists}

    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        collection = self._scope.collection(self._collection_name(name))
        for record in records:
            collection.upsert(record["id"], record)

    def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        collection = self._scope.collection(self._collection_name(name))
        found: dict[str, KnowledgeDocument] = {}
        for document_id in ids:
            try:
                found[document_id] = document_from_record(collection.get(document_id).content_as[dict])
            except self._exceptions.DocumentNotFoundException:
                continue
        return found

    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        where = CouchbaseFilter()
        clause = "" if node is None else f" WHERE {where.render(node)}"
        metric = _METRICS[settings.distance]
        statement = (
            f"SELECT {_FIELDS} FROM `{self._collection_name(name)}` AS d{clause} "
            f'ORDER BY VECTOR_DISTANCE(d.embedding, $q, "{metric}") LIMIT $k'
        )
        rows = self._query(statement, {**where.values, "q": vector, "k": limit})
        return [document_from_record(row) for row in rows]

    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        where = CouchbaseFilter()
        clause = where.render(node)
        parameters = dict(where.values)
        if ids is not None:
            clause = f"{clause} AND META(d).id IN $ids"
            parameters["ids"] = ids
        statement = f"SELECT RAW META(d).id FROM `{self._collection_name(name)}` AS d WHERE {clause}"
        return [str(row) for row in self._query(statement, parameters)]

    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        collection = self._scope.collection(self._collection_name(name))
        for document_id in ids:
            try:
                collection.remove(document_id)
            except self._exceptions.DocumentNotFoundException:
                continue

    def _count(self, name: str, settings: Settings) -> int:
        [count] = self._query(f"SELECT RAW COUNT(*) FROM `{self._collection_name(name)}` AS d", {})
        return int(count)

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        statement = (
            f"SELECT {_FIELDS} FROM `{self._collection_name(name)}` AS d "
            "WHERE META(d).id > $after ORDER BY META(d).id LIMIT $k"
        )
        pages = read_pages(
            lambda last: self._query(statement, {"after": last, "k": batch_size}),
            "",
            lambda _, rows: str(rows[-1]["id"]),
        )
        return ([document_from_record(row) for row in rows] for rows in pages)

    def _release(self) -> None:
        self._cluster.close()
