"""The cosmosdb knowledge store on @vercel/cosmosdb-server, for the tests that run it.

The server (started by :func:`tests.support.emulators.start_cosmosdb_server`) is a third-party
reimplementation of Cosmos DB's NoSQL REST API: azure-cosmos drives it over HTTPS for every
container, item and query call. It has no vector search, so :class:`CosmosVectorShim` answers the
adapter's ``ORDER BY VectorDistance`` queries: the server evaluates their WHERE clause with its own
query engine and the shim ranks what comes back by exact brute force, as the client-level fake
(tests/support/hosted_fakes.py) does.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from praisonai.persistence.knowledge.base import KnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES

from .emulators import Service
from .hosted_fakes import _COSMOS_FIELDS, _COSMOS_FUNCTION, _f32, _rank

__all__ = [
    "COSMOSDB_KEY",
    "CosmosVectorShim",
    "cosmosdb_admin",
    "cosmosdb_certificate",
    "drop_cosmosdb_database",
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
        bound = {parameter["name"]: parameter["value"] for parameter in parameters}
        [policy] = self._container.read()["vectorEmbeddingPolicy"]["vectorEmbeddings"]
        if policy["path"] != "/embedding" or len(bound["@q"]) != policy["dimensions"]:
            raise ValueError("VectorDistance path or dimension does not match the vector embedding policy")
        rest = [parameter for parameter in parameters if parameter["name"] not in ("@k", "@q")]
        candidates = self._container.query_items(
            query=f"SELECT {match['fields']} FROM c{match['where'] or ''}", parameters=rest, **options
        )
        distance = _COSMOS_FUNCTION[policy["distanceFunction"]]
        ranked = _rank(distance, bound["@q"], [(item, _f32(item["embedding"])) for item in candidates])
        return ranked[: bound["@k"]]
