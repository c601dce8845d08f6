"""The cosmosdb knowledge store on @vercel/cosmosdb-server, for the tests that run it.

The server (started by :func:`tests.support.emulators.start_cosmosdb_server`) is a third-party
reimplementation of Cosmos DB's NoSQL REST API: azure-cosmos drives it over HTTPS for every
container, item and query call. It has no vector search, so :class:`CosmosVectorShim` answers the
adapter's ``ORDER BY VectorDistance`` queries: the server evaluates their WHERE clause with its own
query engine and the shim ranks what comes back by exact brute force, as the client-level fake
(tests/support/hosted_fakes.py) does. :class:`AsyncCosmosVectorShim` does the same for
``azure.cosmos.aio``'s proxies (the async store's ``_open_database``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES

from .emulators import Service
from .hosted_fakes import _COSMOS_FIELDS, _COSMOS_FUNCTION, _f32, _rank

__all__ = [
    "COSMOSDB_KEY",
    "AsyncCosmosVectorShim",
    "CosmosVectorShim",
    "cosmosdb_admin",
    "cosmosdb_certificate",
    "drop_cosmosdb_database",
    "open_async_cosmosdb",
    "open_cosmosdb",
]

COSMOSDB_KEY = "c2VjcmV0LWtleQ=="
"""Any base64 text: the server checks no request signatures, the client wants an account key's form."""

_VECTOR_QUERY = re.compile(
    r"^SELECT TOP @k (?P<fields>"
    + re.escape(_COSMOS_FIELDS)
    + r") FROM c(?P<where> WHERE .+?)? ORDER BY VectorDistance\(c\.embedding, @q\)$"
)


def open_cosmosdb(server: Service, database: str) -> KnowledgeStore:
    """A cosmosdb store on ``server``'s database ``database``, its vector queries answered by the shim."""
    url = f"AccountEndpoint={server.endpoint};AccountKey={COSMOSDB_KEY};"
    store = KNOWLEDGE_STORES.create("azure_cosmos", url=url, database=database)
    store._db = CosmosVectorShim(store._db)  # type: ignore[attr-defined]
    return store


def open_async_cosmosdb(server: Service, database: str) -> AsyncKnowledgeStore:
    """The async_cosmosdb store on ``server``'s database ``database``, its vector queries answered by the shim."""
    from praisonai.persistence.knowledge.cosmosdb import AsyncCosmosDbKnowledgeStore

    url = f"AccountEndpoint={server.endpoint};AccountKey={COSMOSDB_KEY};"
    store = KNOWLEDGE_STORES.create("async_cosmosdb", url=url, database=database)
    assert isinstance(store, AsyncCosmosDbKnowledgeStore)  # native, not the thread offload
    open_database = store._open_database
    store._open_database = lambda client: AsyncCosmosVectorShim(open_database(client))  # type: ignore[method-assign]
    return store


def cosmosdb_admin(server: Service) -> Any:
    """One azure-cosmos ``CosmosClient`` on ``server`` for the tests' own calls, made once per server."""
    if "admin" not in server.extra:
        from azure.cosmos import CosmosClient

        server.extra["admin"] = CosmosClient(server.endpoint, credential=COSMOSDB_KEY)
    return server.extra["admin"]


def cosmosdb_certificate(server: Service) -> Path:
    """The server's self-signed certificate (the package's own)."""
    return Path(server.extra["package"]) / "cert.pem"


def drop_cosmosdb_database(server: Service, database: str) -> None:
    from azure.cosmos.exceptions import CosmosResourceNotFoundError

    with contextlib.suppress(CosmosResourceNotFoundError):
        cosmosdb_admin(server).delete_database(database)


class _VectorQuery:
    """A vector query the shim answers: the server's query for its candidates, and their ranking."""

    def __init__(self, match: re.Match[str], parameters: list[dict[str, Any]], policy: dict[str, Any]) -> None:
        bound = {parameter["name"]: parameter["value"] for parameter in parameters}
        if policy["path"] != "/embedding" or len(bound["@q"]) != policy["dimensions"]:
            raise ValueError("VectorDistance path or dimension does not match the vector embedding policy")
        self.query = f"SELECT {match['fields']} FROM c{match['where'] or ''}"
        self.parameters = [parameter for parameter in parameters if parameter["name"] not in ("@k", "@q")]
        self._distance = _COSMOS_FUNCTION[policy["distanceFunction"]]
        self._vector = bound["@q"]
        self._limit = bound["@k"]

    def ranked(self, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = _rank(self._distance, self._vector, [(item, _f32(item["embedding"])) for item in candidates])
        return found[: self._limit]


class CosmosVectorShim:
    """Wraps an azure-cosmos ``DatabaseProxy``; its containers answer ``ORDER BY VectorDistance`` queries.

    Such a query goes to the server without ``TOP @k`` and ``ORDER BY`` (and without ``@k``,
    ``@q``), so the server's query engine evaluates its WHERE clause; the shim ranks the items
    that come back with the distance function of the container's vector embedding policy, as
    the server stored it, and keeps the first k. Every other call reaches the real proxy.
    """

    def __init__(self, database: Any) -> None:
        self._database = database
        self.queries: list[tuple[str, list[dict[str, Any]]]] = []

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._database, attribute)

    def get_container_client(self, id: str) -> _ShimContainer:
        return _ShimContainer(self, self._database.get_container_client(id))


class _ShimContainer:
    def __init__(self, shim: CosmosVectorShim, container: Any) -> None:
        self._shim = shim
        self._container = container

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._container, attribute)

    def query_items(self, query: str, parameters: list[dict[str, Any]] | None = None, **options: Any) -> Any:
        match = _VECTOR_QUERY.match(query)
        if match is None:
            return self._container.query_items(query=query, parameters=parameters, **options)
        parameters = parameters or []
        self._shim.queries.append((query, parameters))
        [policy] = self._container.read()["vectorEmbeddingPolicy"]["vectorEmbeddings"]
        vector = _VectorQuery(match, parameters, policy)
        return vector.ranked(
            list(self._container.query_items(query=vector.query, parameters=vector.parameters, **options))
        )


class AsyncCosmosVectorShim(CosmosVectorShim):
    """:class:`CosmosVectorShim` on an ``azure.cosmos.aio`` ``DatabaseProxy``."""

    def get_container_client(self, id: str) -> _AsyncShimContainer:  # type: ignore[override]
        return _AsyncShimContainer(self, self._database.get_container_client(id))


class _AsyncShimContainer(_ShimContainer):
    def query_items(self, query: str, parameters: list[dict[str, Any]] | None = None, **options: Any) -> Any:
        match = _VECTOR_QUERY.match(query)
        if match is None:
            return self._container.query_items(query=query, parameters=parameters, **options)
        self._shim.queries.append((query, parameters or []))
        return self._ranked(match, parameters or [], options)

    async def _ranked(
        self, match: re.Match[str], parameters: list[dict[str, Any]], options: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        [policy] = (await self._container.read())["vectorEmbeddingPolicy"]["vectorEmbeddings"]
        vector = _VectorQuery(match, parameters, policy)
        candidates = self._container.query_items(query=vector.query, parameters=vector.parameters, **options)
        for item in vector.ranked([item async for item in candidates]):
            yield item
