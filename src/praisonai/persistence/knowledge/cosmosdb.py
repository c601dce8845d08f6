"""Azure Cosmos DB for NoSQL knowledge store (vector search), through azure-cosmos.

Engine: Azure Cosmos DB for NoSQL with vector search. Driver: ``azure-cosmos`` (extra ``cosmosdb``).
URL forms: the account endpoint ``https://<account>.documents.azure.com:443/`` with ``key``, or a
connection string ``AccountEndpoint=https://...;AccountKey=...;``.
Test tier: emulator (third-party reimplementation, patched for a missing item's 404). The
tests drive azure-cosmos over HTTPS against @vercel/cosmosdb-server, a Node.js
reimplementation of Cosmos DB's NoSQL REST API from npm, for databases, containers, items,
create-if-absent and the filter queries; a wrapper (tests/support/cosmosdb_server.js) turns
its 500 on a point read of a missing item into Cosmos DB's 404. It has no vector search: a
shim ranks the ``VectorDistance`` queries in Python over the items its query engine
filtered. Microsoft's emulators are Windows or Docker images; Cosmos DB itself, its query
engine, vector indexes, request units and auth are not exercised.

Layout: one container ``<prefix><name>`` per collection (partition key ``/id``) with a
vector embedding policy on ``/embedding`` (the collection's ``distanceFunction``:
``cosine``, ``dotproduct``, ``euclidean``) and a vector index (``vector_index``); a
container ``<prefix>catalogue`` holds each collection's settings. Items hold the fields of
:func:`~._layers.records.document_record`. Filters become a WHERE clause with ``@p`` parameters:
``ARRAY_CONTAINS(c.ix, @p0)``, ``c.n[@p1] > @p2``, ``c.c[@p3]`` (string order chunks).
Search is ``SELECT TOP @k ... ORDER BY VectorDistance(c.embedding, @q)``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from .._closing import close_client
from .._guard import describe_error
from ..errors import AlreadyExistsError, BackendUnavailableError, InvalidInputError, NotFoundError
from ._filters.native import Lowered
from ._filters.tokens import SqlSpelling, SqlTokens
from ._layers.hosted_store import HostedVectorStore, Settings
from ._layers.records import document_from_record
from .base import KnowledgeDocument
from .config import CosmosDbKnowledgeConfig

__all__ = ["CosmosDbKnowledgeStore", "CosmosFilter"]

_FUNCTIONS = {"cosine": "cosine", "dot": "dotproduct", "euclidean": "euclidean"}
_FIELDS = "c.id, c.content, c.metadata, c.content_hash, c.created_at, c.embedding"
# What Cosmos DB refuses in an item id (azure-cosmos checks it before sending, with a bare ValueError).
_REFUSED_ID = re.compile(r"[/\\#?\t\r\n]|[ \n]\Z")


class CosmosFilter(SqlTokens):
    """The Cosmos DB NoSQL spelling of a filter: ``@name`` parameters, item alias ``c``."""

    spelling = SqlSpelling(
        placeholder="@{}",
        contains="ARRAY_CONTAINS(c.ix, {})",
        number="c.n[{}]",
        chunk="c.c[{}]",
        present="IS_DEFINED(c.c[{}])",
    )

    def parameters(self) -> list[dict[str, Any]]:
        return [{"name": f"@{name}", "value": value} for name, value in self.values.items()]


class CosmosDbKnowledgeStore(HostedVectorStore[CosmosDbKnowledgeConfig]):
    """A KnowledgeStore on Azure Cosmos DB for NoSQL."""

    engine = "Azure Cosmos DB"

    def __init__(self, config: CosmosDbKnowledgeConfig) -> None:
        super().__init__(config)
        cosmos = self._import_driver("azure.cosmos")
        self._exceptions: Any = self._import_driver("azure.cosmos.exceptions")
        self._partition_key: Any = cosmos.PartitionKey
        with self._translating:  # an unreachable engine is BackendUnavailableError
            self._client: Any = cosmos.CosmosClient(
                config.url, credential=config.key.get_secret_value(), connection_timeout=int(config.timeout)
            )
            self._db: Any = self._client.create_database_if_not_exists(id=config.database)
            self._catalogue: Any = self._db.create_container_if_not_exists(
                id=f"{config.container_prefix}catalogue", partition_key=cosmos.PartitionKey(path="/id")
            )

    def _translate_error(self, error: Exception) -> Exception | None:
        # Cosmos DB's documented status codes: 400/413 a refused request (a malformed item or
        # query, an item over 2 MB), 404 a container or item that is gone (another client dropped
        # the collection), 409 a name or id taken, 408/429/449/503 and other 5xx worth a retry.
        # 401/403 (key, firewall, quota) are left to the default: EngineError.
        status = getattr(error, "status_code", None)
        if not isinstance(error, self._exceptions.CosmosHttpResponseError) or not isinstance(status, int):
            return super()._translate_error(error)
        detail = describe_error(error)
        if status in (400, 413):
            return InvalidInputError(f"Cosmos DB refused the request ({status}): {detail}")
        if status == 404:
            return NotFoundError(f"Cosmos DB: not found (404), dropped by another client? {detail}")
        if status == 409:
            return AlreadyExistsError(f"Cosmos DB: conflict (409): {detail}")
        if status in (408, 429, 449) or status >= 500:
            return BackendUnavailableError(f"Cosmos DB is unavailable for now ({status}): {detail}")
        return super()._translate_error(error)

    def _container(self, name: str) -> Any:
        return self._db.get_container_client(f"{self.config.container_prefix}{name}")

    def _query(self, name: str, statement: str, parameters: list[dict[str, Any]], **options: Any) -> Any:
        return self._container(name).query_items(
            query=statement, parameters=parameters, enable_cross_partition_query=True, **options
        )

    # -- primitives ------------------------------------------------------------------

    def _native_create(self, name: str, settings: Settings) -> bool:
        try:
            self._catalogue.create_item({"id": name, "settings": settings.to_json()})
        except self._exceptions.CosmosResourceExistsError:
            return False
        policy = {
            "vectorEmbeddings": [
                {
                    "path": "/embedding",
                    "dataType": "float32",
                    "distanceFunction": _FUNCTIONS[settings.distance],
                    "dimensions": settings.dimension,
                }
            ]
        }
        indexing: dict[str, Any] = {
            "indexingMode": "consistent",
            "includedPaths": [{"path": "/*"}],
            "excludedPaths": [{"path": '/"_etag"/?'}, {"path": "/embedding/*"}],
        }
        if self.config.vector_index != "none":
            indexing["vectorIndexes"] = [{"path": "/embedding", "type": self.config.vector_index}]
        self._db.create_container(
            id=f"{self.config.container_prefix}{name}",
            partition_key=self._partition_key(path="/id"),
            vector_embedding_policy=policy,
            indexing_policy=indexing,
        )
        return True

    def _native_drop(self, name: str) -> bool:
        with contextlib.suppress(self._exceptions.CosmosResourceNotFoundError):
            self._db.delete_container(f"{self.config.container_prefix}{name}")
        try:
            self._catalogue.delete_item(item=name, partition_key=name)
        except self._exceptions.CosmosResourceNotFoundError:
            return False
        return True

    def _find(self, name: str) -> Settings | None:
        try:
            entry = self._catalogue.read_item(item=name, partition_key=name)
        except self._exceptions.CosmosResourceNotFoundError:
            return None
        return Settings.from_json(entry["settings"])

    def _names(self) -> list[str]:
        items = self._catalogue.query_items(query="SELECT VALUE c.id FROM c", enable_cross_partition_query=True)
        return [str(name) for name in items]

    def _taken(self, name: str, settings: Settings, ids: list[str]) -> set[str]:
        items = self._query(name, "SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(@ids, c.id)", [_ids(ids)])
        return {str(item) for item in items}

    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        # Checked for the whole call first: one item per request, so a refusal midway would store half.
        for record in records:
            if _REFUSED_ID.search(record["id"]):
                raise InvalidInputError(
                    f"document id {record['id']!r}: Cosmos DB ids cannot contain '/', '\\', '#', '?', "
                    "a tab or a line break, nor end with a space"
                )
        container = self._container(name)
        for record in records:
            container.upsert_item(record)

    def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        items = self._query(name, f"SELECT {_FIELDS} FROM c WHERE ARRAY_CONTAINS(@ids, c.id)", [_ids(ids)])
        return {str(item["id"]): document_from_record(item) for item in items}

    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        where = CosmosFilter()
        clause = "" if node is None else f" WHERE {where.render(node)}"
        statement = f"SELECT TOP @k {_FIELDS} FROM c{clause} ORDER BY VectorDistance(c.embedding, @q)"
        parameters = [*where.parameters(), {"name": "@k", "value": limit}, {"name": "@q", "value": vector}]
        return [document_from_record(item) for item in self._query(name, statement, parameters)]

    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        where = CosmosFilter()
        clause = where.render(node)
        parameters = where.parameters()
        if ids is not None:
            clause = f"{clause} AND ARRAY_CONTAINS(@ids, c.id)"
            parameters.append(_ids(ids))
        return [str(item) for item in self._query(name, f"SELECT VALUE c.id FROM c WHERE {clause}", parameters)]

    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        container = self._container(name)
        for document_id in ids:
            with contextlib.suppress(self._exceptions.CosmosResourceNotFoundError):
                container.delete_item(item=document_id, partition_key=document_id)

    def _count(self, name: str, settings: Settings) -> int:
        return int(next(iter(self._query(name, "SELECT VALUE COUNT(1) FROM c", []))))

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        pages = self._query(name, f"SELECT {_FIELDS} FROM c", [], max_item_count=batch_size).by_page()
        for page in pages:
            yield [document_from_record(item) for item in page]

    def _release(self) -> None:
        close_client(self._client)


def _ids(ids: list[str]) -> dict[str, Any]:
    return {"name": "@ids", "value": ids}
