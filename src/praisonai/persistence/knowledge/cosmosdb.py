"""Azure Cosmos DB for NoSQL knowledge store (vector search), through azure-cosmos (sync and asyncio).

Engine: Azure Cosmos DB for NoSQL with vector search. Driver: ``azure-cosmos`` (extra ``cosmosdb``,
with ``aiohttp`` for ``azure.cosmos.aio``).
URL forms: the account endpoint ``https://<account>.documents.azure.com:443/`` with ``key``, or a
connection string ``AccountEndpoint=https://...;AccountKey=...;``.
Test tier: emulator (third-party reimplementation, patched for a missing item's 404). The
tests drive azure-cosmos (the async suite its ``aio`` client) over HTTPS against @vercel/cosmosdb-server, a
Node.js reimplementation of Cosmos DB's NoSQL REST API from npm, for databases, containers, items,
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

asyncio: ``async_cosmosdb`` (:class:`AsyncCosmosDbKnowledgeStore`) runs the same steps
(:class:`_CosmosSteps`, client calls as :class:`~.._sansio.Call`) on ``azure.cosmos.aio``, whose
clients have the sync ones' names and arguments; its client (aiohttp) opens on the first call, one
per event loop. Cosmos DB writes one item per request, so a write of the async store, once sent,
runs to its end when its caller is cancelled, and the cancellation then goes on: a cancelled
``insert`` or ``upsert`` is stored whole or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from typing import Any, NamedTuple, TypeVar

from .._closing import close_client
from .._guard import describe_error
from .._sansio import Call, Operation, drive, drive_async, throw_in_everything
from ..errors import AlreadyExistsError, BackendUnavailableError, InvalidInputError, NotFoundError
from ._filters.native import Lowered
from ._filters.tokens import SqlSpelling, SqlTokens
from ._layers.hosted_store import AsyncSteppedHostedVectorStore, HostedEngineSteps, Settings, SteppedHostedVectorStore
from ._layers.records import document_from_record
from .base import KnowledgeDocument
from .config import CosmosDbKnowledgeConfig

__all__ = ["AsyncCosmosDbKnowledgeStore", "CosmosDbKnowledgeStore", "CosmosFilter"]

R = TypeVar("R")

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


class _Container(NamedTuple):
    """The ``on`` of a :class:`~.._sansio.Call` to the container ``id`` of the store's database."""

    id: str


_DATABASE = _Container("")
"""The ``on`` of a call to the store's database itself (``on=None``: to the client)."""


def _bound(client: Any, database: Any, call: Call) -> Any:
    """``call``'s method on the client, the database or one of its containers (made without I/O)."""
    if call.on is None:
        target = client
    elif call.on is _DATABASE:
        target = database
    else:
        assert isinstance(call.on, _Container)
        target = database.get_container_client(call.on.id)
    return getattr(target, call.method)


class _CosmosSteps(HostedEngineSteps):
    """Cosmos DB's primitives as steps of azure-cosmos calls (:mod:`.._sansio`): one copy for the
    sync store (``azure.cosmos``) and the async one (``azure.cosmos.aio``), whose clients, database
    and container proxies have the same methods. ``query_items`` answers the list of its items (every
    partition's: the sync client asks for that with ``enable_cross_partition_query``, the aio one by default)."""

    config: CosmosDbKnowledgeConfig
    _exceptions: Any
    _partition_key: Any
    engine = "Azure Cosmos DB"

    def _use_driver(self, import_driver: Any) -> None:
        self._exceptions = import_driver("azure.cosmos.exceptions")
        self._partition_key = import_driver("azure.cosmos").PartitionKey

    def _client_options(self) -> dict[str, Any]:
        """The arguments of ``CosmosClient`` (sync and aio) for the store's config."""
        return {
            "url": self.config.url,
            "credential": self.config.key.get_secret_value(),
            "connection_timeout": int(self.config.timeout),
        }

    def _open_database(self, client: Any) -> Any:
        """The client's proxy of the store's database (made without I/O)."""
        return client.get_database_client(self.config.database)

    def _open_steps(self) -> Operation[Call, None]:
        """Create the database and the catalogue container where they are missing."""
        yield Call("create_database_if_not_exists", (), {"id": self.config.database})
        yield Call(
            "create_container_if_not_exists",
            (),
            {"id": self._catalogue().id, "partition_key": self._partition_key(path="/id")},
            on=_DATABASE,
        )

    def _catalogue(self) -> _Container:
        return _Container(f"{self.config.container_prefix}catalogue")

    def _container(self, name: str) -> _Container:
        return _Container(f"{self.config.container_prefix}{name}")

    def _query_steps(
        self, on: _Container, statement: str, parameters: list[dict[str, Any]]
    ) -> Operation[Call, list[Any]]:
        items: list[Any] = yield Call(
            "query_items",
            (),
            {"query": statement, "parameters": parameters},
            on=on,
        )
        return items

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

    # -- primitives ------------------------------------------------------------------

    def _native_create_steps(self, name: str, settings: Settings) -> Operation[Call, bool]:
        try:
            yield Call("create_item", ({"id": name, "settings": settings.to_json()},), on=self._catalogue())
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
        yield Call(
            "create_container",
            (),
            {
                "id": self._container(name).id,
                "partition_key": self._partition_key(path="/id"),
                "vector_embedding_policy": policy,
                "indexing_policy": indexing,
            },
            on=_DATABASE,
        )
        return True

    def _native_drop_steps(self, name: str) -> Operation[Call, bool]:
        with contextlib.suppress(self._exceptions.CosmosResourceNotFoundError):
            yield Call("delete_container", (self._container(name).id,), on=_DATABASE)
        try:
            yield Call("delete_item", (), {"item": name, "partition_key": name}, on=self._catalogue())
        except self._exceptions.CosmosResourceNotFoundError:
            return False
        return True

    def _find_steps(self, name: str) -> Operation[Call, Settings | None]:
        try:
            entry = yield Call("read_item", (), {"item": name, "partition_key": name}, on=self._catalogue())
        except self._exceptions.CosmosResourceNotFoundError:
            return None
        return Settings.from_json(entry["settings"])

    def _every_id_steps(self, on: _Container) -> Operation[Call, list[str]]:
        return [str(item) for item in (yield from self._query_steps(on, "SELECT VALUE c.id FROM c", []))]

    def _names_steps(self) -> Operation[Call, list[str]]:
        return (yield from self._every_id_steps(self._catalogue()))

    def _taken_steps(self, name: str, settings: Settings, ids: list[str]) -> Operation[Call, set[str]]:
        statement = "SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(@ids, c.id)"
        return {str(item) for item in (yield from self._query_steps(self._container(name), statement, [_ids(ids)]))}

    def _native_put_steps(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> Operation[Call, None]:
        # Checked for the whole call first: one item per request, so a refusal midway would store half.
        for record in records:
            if _REFUSED_ID.search(record["id"]):
                raise InvalidInputError(
                    f"document id {record['id']!r}: Cosmos DB ids cannot contain '/', '\\', '#', '?', "
                    "a tab or a line break, nor end with a space"
                )
        for record in records:
            yield Call("upsert_item", (record,), on=self._container(name))

    def _fetch_steps(
        self, name: str, settings: Settings, ids: list[str]
    ) -> Operation[Call, dict[str, KnowledgeDocument]]:
        statement = f"SELECT {_FIELDS} FROM c WHERE ARRAY_CONTAINS(@ids, c.id)"
        items = yield from self._query_steps(self._container(name), statement, [_ids(ids)])
        return {str(item["id"]): document_from_record(item) for item in items}

    def _native_query_steps(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        where = CosmosFilter()
        clause = "" if node is None else f" WHERE {where.render(node)}"
        statement = f"SELECT TOP @k {_FIELDS} FROM c{clause} ORDER BY VectorDistance(c.embedding, @q)"
        parameters = [*where.parameters(), {"name": "@k", "value": limit}, {"name": "@q", "value": vector}]
        items = yield from self._query_steps(self._container(name), statement, parameters)
        return [document_from_record(item) for item in items]

    def _native_matching_steps(
        self, name: str, settings: Settings, node: Lowered, ids: list[str] | None
    ) -> Operation[Call, list[str]]:
        where = CosmosFilter()
        clause = where.render(node)
        parameters = where.parameters()
        if ids is not None:
            clause = f"{clause} AND ARRAY_CONTAINS(@ids, c.id)"
            parameters.append(_ids(ids))
        statement = f"SELECT VALUE c.id FROM c WHERE {clause}"
        return [str(item) for item in (yield from self._query_steps(self._container(name), statement, parameters))]

    def _native_remove_steps(self, name: str, settings: Settings, ids: list[str]) -> Operation[Call, None]:
        for document_id in ids:
            with contextlib.suppress(self._exceptions.CosmosResourceNotFoundError):
                yield Call(
                    "delete_item", (), {"item": document_id, "partition_key": document_id}, on=self._container(name)
                )

    def _count_steps(self, name: str, settings: Settings) -> Operation[Call, int]:
        [count] = yield from self._query_steps(self._container(name), "SELECT VALUE COUNT(1) FROM c", [])
        return int(count)

    def _all_ids_steps(self, name: str, settings: Settings) -> Operation[Call, list[str]]:
        return [
            str(item) for item in (yield from self._query_steps(self._container(name), "SELECT VALUE c.id FROM c", []))
        ]


class CosmosDbKnowledgeStore(_CosmosSteps, SteppedHostedVectorStore[CosmosDbKnowledgeConfig]):
    """A KnowledgeStore on Azure Cosmos DB for NoSQL: the steps of ``_CosmosSteps`` on ``azure.cosmos``."""

    def __init__(self, config: CosmosDbKnowledgeConfig) -> None:
        super().__init__(config)
        cosmos = self._import_driver("azure.cosmos")
        self._use_driver(self._import_driver)
        with self._translating:  # an unreachable engine is BackendUnavailableError
            self._client: Any = cosmos.CosmosClient(**self._client_options())
            self._db: Any = self._open_database(self._client)
            self._engine(self._open_steps())

    def _engine(self, steps: Operation[Call, R]) -> R:
        def execute(call: Call) -> Any:
            method = _bound(self._client, self._db, call)
            if call.method == "query_items":
                return list(method(*call.args, **(call.kwargs or {}), enable_cross_partition_query=True))
            return method(*call.args, **(call.kwargs or {}))

        return drive(steps, execute, throw_in_everything)

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        container = self._db.get_container_client(self._container(name).id)
        pages = container.query_items(
            query=f"SELECT {_FIELDS} FROM c", enable_cross_partition_query=True, max_item_count=batch_size
        ).by_page()
        for page in pages:
            yield [document_from_record(item) for item in page]

    def _release(self) -> None:
        close_client(self._client)


class AsyncCosmosDbKnowledgeStore(_CosmosSteps, AsyncSteppedHostedVectorStore[CosmosDbKnowledgeConfig]):
    """An AsyncKnowledgeStore on Azure Cosmos DB through ``azure.cosmos.aio``: the sync store's steps, awaited.

    The aio client (an aiohttp session) is bound to its event loop: it opens on the first call
    (creating the database and the catalogue where missing), and another loop gets one of its
    own (that of a loop this store left is dropped). Cancellation: each primitive's requests,
    once the first is sent, run to their end (one item per request: a write stopped midway
    would store part of a batch); the cancellation is raised when they are done.
    """

    def __init__(self, config: CosmosDbKnowledgeConfig) -> None:
        super().__init__(config)
        self._use_driver(self._import_driver)
        self._aio: Any = self._import_driver("azure.cosmos.aio")
        self._import_driver("aiohttp")  # azure-core's async transport: missing, it would fail on first use
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._db: Any = None

    async def _loop_database(self) -> tuple[Any, Any]:
        """The running loop's client and database proxy, opened on first use in that loop."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            client = self._aio.CosmosClient(**self._client_options())
            database = self._open_database(client)
            try:
                await self._drive_on(client, database, self._open_steps())
            except BaseException:
                await client.close()
                raise
            self._client, self._client_loop, self._db = client, loop, database
        return self._client, self._db

    @staticmethod
    async def _drive_on(client: Any, database: Any, steps: Operation[Call, R]) -> R:
        async def execute(call: Call) -> Any:
            answer = _bound(client, database, call)(*call.args, **(call.kwargs or {}))
            if call.method == "query_items":
                return [item async for item in answer]
            return await answer

        return await drive_async(steps, execute, throw_in_everything)

    async def _run(self, steps: Operation[Call, R]) -> R:
        client, database = await self._loop_database()
        return await self._drive_on(client, database, steps)

    async def _engine(self, steps: Operation[Call, R]) -> R:
        running = asyncio.ensure_future(self._run(steps))
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            # Cancelled while its requests run: let them finish (the result or error is dropped),
            # so the store's lock is released with nothing half done, then be cancelled.
            with contextlib.suppress(Exception):
                await running
            raise

    async def _release(self) -> None:
        client, self._client, self._db = self._client, None, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            await client.close()


def _ids(ids: list[str]) -> dict[str, Any]:
    return {"name": "@ids", "value": ids}
