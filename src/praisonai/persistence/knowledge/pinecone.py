"""Pinecone knowledge store: one serverless index per collection, through the ``pinecone`` SDK (sync and asyncio).

Engine: Pinecone (serverless). Driver: ``pinecone`` (extra ``pinecone``).
URL forms: ``pinecone://:API_KEY@`` (Pinecone's control plane), ``pinecone://:API_KEY@host:port``
(another control plane, e.g. Pinecone Local; ``?ssl=true`` for https); options ``cloud``,
``region``, ``index_prefix``.
Test tier: wire. The tests drive the real ``pinecone`` SDK against an HTTP stand-in of Pinecone's
REST API written from its reference (tests/support/pinecone_standin.py): the control plane, one
data-plane host per index, the documented filter operators, limits and error bodies, which
``_translate_error`` maps (400/413 refused input, 409 a taken name, 429/5xx unavailable).
Pinecone itself (its ANN, freshness, rate limits) is not exercised. The async suite drives the SDK's
asyncio client (``PineconeAsyncio`` / ``IndexAsyncio``) against the same stand-in.

``PineconeKnowledgeStore`` and ``AsyncPineconeKnowledgeStore`` (``async_pinecone``) run one copy of
the engine steps (``_PineconeSteps``, sans-IO: :mod:`.._sansio`) on the SDK's ``Pinecone`` /
``Index`` clients and on its asyncio ones, whose methods have the same names and arguments.

Layout: a collection is an index named ``<index_prefix>-<24 hex of sha1(name)>`` with the
collection's dimension and metric (``cosine``, ``dotproduct``, ``euclidean``) and a tag
``praisonai_collection=<name>``. Documents live in namespace ``namespace`` (default ``documents``); the collection
metadata is one record in namespace ``praisonai-settings``. A record's metadata holds the
fields of :func:`~._layers.records.document_record`: the exact metadata JSON, content, and the filter
index (the ``ix`` token list, the numbers ``n_<key>`` and string chunks ``c_<key>_<j>``), so a
portable filter becomes ``$in`` / ``$nin`` on ``ix`` and ``$gt``-style ranges on numbers.
Pinecone keeps vectors as float32 and numbers as float64; reads are eventually consistent
(a write may take seconds to be visible to ``search`` and ``count``).
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from collections.abc import Iterator
from typing import Any

from .._closing import close_client
from .._sansio import Call, Operation
from .._values import dump_json, load_json
from ..errors import AlreadyExistsError, BackendUnavailableError, InvalidInputError
from ._filters.native import Lowered
from ._filters.tokens import render_mql
from ._layers.hosted_store import (
    AsyncLoopClientHostedVectorStore,
    ClientHostedVectorStore,
    HostedEngineSteps,
    Settings,
)
from ._layers.records import document_from_record
from .base import Distance, KnowledgeDocument
from .config import PineconeKnowledgeConfig

__all__ = ["AsyncPineconeKnowledgeStore", "PineconeKnowledgeStore"]


_SETTINGS_NAMESPACE = "praisonai-settings"
_SETTINGS_ID = "settings"
_TAG = "praisonai_collection"
_METRICS: dict[str, Distance] = {"cosine": "cosine", "dotproduct": "dot", "euclidean": "euclidean"}
_NATIVE = {"cosine": "cosine", "dot": "dotproduct", "euclidean": "euclidean"}
_BATCH = 100
_TOP_K = 10000


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """A record's metadata as Pinecone stores it: flat keys, no nulls."""
    metadata: dict[str, Any] = {
        "id": record["id"],
        "content": record["content"],
        "metadata": record["metadata"],
        "created_at": record["created_at"],
        "ix": record["ix"],
    }
    if record["content_hash"] is not None:
        metadata["content_hash"] = record["content_hash"]
    metadata.update({f"n_{key}": value for key, value in record["n"].items()})
    metadata.update({f"c_{key}": value for key, value in record["c"].items()})
    return metadata


def _client_options(config: PineconeKnowledgeConfig) -> dict[str, Any]:
    """The keyword arguments of ``Pinecone`` / ``PineconeAsyncio`` for ``config``."""
    options: dict[str, Any] = {"api_key": config.api_key.get_secret_value(), "timeout": config.timeout}
    if config.host is not None:
        options["host"] = config.host
    return options


class _PineconeSteps(HostedEngineSteps):
    """Pinecone's primitives as steps of client calls (:mod:`.._sansio`): one copy for the sync store
    and the async one. Control-plane calls go to the client, data-plane calls to the index's handle
    (``Call(..., on=index)``), which ``_open_index`` makes (no I/O) and ``_indexes`` caches by name."""

    config: PineconeKnowledgeConfig
    _pinecone: Any
    _indexes: dict[str, tuple[Any, Settings]]
    engine = "Pinecone"

    @abstractmethod
    def _open_index(self, host: str) -> Any:
        """The client's handle of the index at ``host`` (made without I/O)."""

    def _index_name(self, name: str) -> str:
        return f"{self.config.index_prefix}-{hashlib.sha1(name.encode()).hexdigest()[:24]}"  # noqa: S324 - a name

    def _index(self, name: str) -> Any:
        return self._indexes[name][0]

    def _model_steps(self, name: str) -> Operation[Call, Any | None]:
        index_name = self._index_name(name)
        if not (yield Call("has_index", (index_name,))):
            return None
        model = yield Call("describe_index", (index_name,))
        tags = dict(getattr(model, "tags", None) or {})
        return model if tags.get(_TAG) == name else None

    def _native_create_steps(self, name: str, settings: Settings) -> Operation[Call, bool]:
        index_name = self._index_name(name)
        if (yield Call("has_index", (index_name,))):
            return False
        spec = self._pinecone.ServerlessSpec(cloud=self.config.cloud, region=self.config.region)
        yield Call(
            "create_index",
            (),
            {
                "name": index_name,
                "dimension": settings.dimension,
                "metric": _NATIVE[settings.distance],
                "spec": spec,
                "tags": {_TAG: name},
            },
        )
        model = yield Call("describe_index", (index_name,))
        index = self._open_index(model.host)
        yield Call(
            "upsert",
            (),
            {
                "vectors": [
                    {
                        "id": _SETTINGS_ID,
                        "values": [1.0] * settings.dimension,
                        "metadata": {"settings": dump_json(settings.metadata)},
                    }
                ],
                "namespace": _SETTINGS_NAMESPACE,
            },
            on=index,
        )
        self._indexes[name] = (index, settings)
        return True

    def _native_drop_steps(self, name: str) -> Operation[Call, bool]:
        self._indexes.pop(name, None)
        yield Call("delete_index", (self._index_name(name),))
        return True

    def _find_steps(self, name: str) -> Operation[Call, Settings | None]:
        cached = self._indexes.get(name)
        model = yield from self._model_steps(name)
        if model is None:
            self._indexes.pop(name, None)
            return None
        if cached is not None:
            return cached[1]
        index = self._open_index(model.host)
        fetched = yield Call("fetch", (), {"ids": [_SETTINGS_ID], "namespace": _SETTINGS_NAMESPACE}, on=index)
        stored = fetched.vectors.get(_SETTINGS_ID)
        metadata = None if stored is None else load_json(stored.metadata["settings"])
        settings = Settings(int(model.dimension), _METRICS[str(model.metric)], metadata)
        self._indexes[name] = (index, settings)
        return settings

    def _names_steps(self) -> Operation[Call, list[str]]:
        names = []
        listing: Any = yield Call("list_indexes")
        for model in getattr(listing, "indexes", listing):  # IndexList (older SDKs: a list)
            tags = dict(getattr(model, "tags", None) or {})
            name = tags.get(_TAG)
            if isinstance(name, str) and model.name == self._index_name(name):
                names.append(name)
        return names

    def _vectors_steps(self, name: str, ids: list[str]) -> Operation[Call, dict[str, Any]]:
        """The stored vectors among ``ids``, by id."""
        ids = [key for key in ids if key.isascii()]  # Pinecone holds ASCII ids only: the others are absent
        found: dict[str, Any] = {}
        for start in range(0, len(ids), _BATCH):
            response = yield Call(
                "fetch",
                (),
                {"ids": ids[start : start + _BATCH], "namespace": self.config.namespace},
                on=self._index(name),
            )
            found.update(response.vectors)
        return found

    def _taken_steps(self, name: str, settings: Settings, ids: list[str]) -> Operation[Call, set[str]]:
        return set((yield from self._vectors_steps(name, ids)))

    def _fetch_steps(
        self, name: str, settings: Settings, ids: list[str]
    ) -> Operation[Call, dict[str, KnowledgeDocument]]:
        vectors = yield from self._vectors_steps(name, ids)
        return {key: self._document(vector) for key, vector in vectors.items()}

    def _native_put_steps(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> Operation[Call, None]:
        for record in records:  # the client refuses the whole request; refuse it clearly, before any batch
            if not record["id"].isascii():
                raise InvalidInputError(f"document id {record['id']!r}: Pinecone ids must be ASCII")
        if settings.distance == "cosine":  # before any batch is sent: nothing of the call is written
            for record in records:
                if not any(record["embedding"]):
                    raise InvalidInputError(
                        f"document {record['id']!r} has a zero vector, which Pinecone's cosine indexes refuse"
                    )
        vectors = [{"id": r["id"], "values": r["embedding"], "metadata": _flat(r)} for r in records]
        for start in range(0, len(vectors), _BATCH):
            yield Call(
                "upsert",
                (),
                {"vectors": vectors[start : start + _BATCH], "namespace": self.config.namespace},
                on=self._index(name),
            )

    def _native_query_steps(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        response = yield Call(
            "query",
            (),
            {
                "vector": vector,
                "top_k": min(limit, _TOP_K),
                "filter": None if node is None else self._filter(node),
                "include_values": True,
                "include_metadata": True,
                "namespace": self.config.namespace,
            },
            on=self._index(name),
        )
        return [self._document(match) for match in response.matches]

    def _native_matching_steps(
        self, name: str, settings: Settings, node: Lowered, ids: list[str] | None
    ) -> Operation[Call, list[str]]:
        native = self._filter(node)
        if ids is not None:
            native = {"$and": [native, {"id": {"$in": ids}}]}
        response = yield Call(
            "query",
            (),
            {
                "vector": [1.0] * settings.dimension,
                "top_k": _TOP_K,
                "filter": native,
                "include_values": False,
                "include_metadata": False,
                "namespace": self.config.namespace,
            },
            on=self._index(name),
        )
        matched = [match.id for match in response.matches]
        if len(matched) >= _TOP_K:
            # More than one query can return: delete this page and look again.
            yield from self._native_remove_steps(name, settings, matched)
            return matched + (yield from self._native_matching_steps(name, settings, node, ids))
        return matched

    def _native_remove_steps(self, name: str, settings: Settings, ids: list[str]) -> Operation[Call, None]:
        ids = [key for key in ids if key.isascii()]  # the client refuses others; none can be stored
        for start in range(0, len(ids), _BATCH):
            yield Call(
                "delete",
                (),
                {"ids": ids[start : start + _BATCH], "namespace": self.config.namespace},
                on=self._index(name),
            )

    def _count_steps(self, name: str, settings: Settings) -> Operation[Call, int]:
        stats = yield Call("describe_index_stats", on=self._index(name))
        summary = (stats.namespaces or {}).get(self.config.namespace)
        return 0 if summary is None else int(summary.vector_count)

    def _id_page_steps(self, name: str, limit: int, token: str | None) -> Operation[Call, tuple[list[str], str | None]]:
        """One page of ids and the token of the next one (None: the last page)."""
        page = yield Call(
            "list_paginated",
            (),
            {"limit": limit, "pagination_token": token, "namespace": self.config.namespace},
            on=self._index(name),
        )
        ids = [item if isinstance(item, str) else item.id for item in page.vectors]
        pagination = getattr(page, "pagination", None)
        return ids, getattr(pagination, "next", None) or None

    def _all_ids_steps(self, name: str, settings: Settings) -> Operation[Call, list[str]]:
        ids: list[str] = []
        token: str | None = None
        while True:
            page, token = yield from self._id_page_steps(name, 100, token)
            ids += page
            if token is None:
                return ids

    # -- translation ------------------------------------------------------------------

    def _translate_error(self, error: Exception) -> Exception | None:
        # Pinecone's documented error statuses: 400/413 a refused request (a zero vector on a cosine
        # index, oversized metadata, a bad filter), 409 a name taken, 429 and 5xx worth a retry.
        status = getattr(error, "status_code", None)
        detail = str(getattr(error, "message", "") or error)[:300]
        if status in (400, 413, 422):
            return InvalidInputError(f"Pinecone refused the request ({status}): {detail}")
        if status == 409:
            return AlreadyExistsError(f"Pinecone: {detail}")
        if status == 429 or (isinstance(status, int) and status >= 500):
            return BackendUnavailableError(f"Pinecone is unavailable for now ({status}): {detail}")
        return super()._translate_error(error)

    @staticmethod
    def _filter(node: Lowered) -> dict[str, Any]:
        return render_mql(node, tokens="ix", number=lambda key: f"n_{key}", chunk=lambda key: f"c_{key}")

    @staticmethod
    def _document(vector: Any) -> KnowledgeDocument:
        metadata = dict(vector.metadata)
        metadata.setdefault("content_hash", None)
        metadata["embedding"] = list(vector.values)
        return document_from_record(metadata)


class PineconeKnowledgeStore(_PineconeSteps, ClientHostedVectorStore[PineconeKnowledgeConfig]):
    """A KnowledgeStore on Pinecone serverless indexes: the steps of ``_PineconeSteps`` on ``Pinecone``."""

    def __init__(self, config: PineconeKnowledgeConfig) -> None:
        super().__init__(config)
        self._pinecone = self._import_driver("pinecone")
        with self._translating:
            self._client = self._pinecone.Pinecone(**_client_options(config))
            self._indexes = {}

    def _open_index(self, host: str) -> Any:
        return self._client.Index(host=host)

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        token: str | None = None
        while True:
            ids, token = self._engine(self._id_page_steps(name, min(batch_size, 100), token))
            found = self._engine(self._fetch_steps(name, settings, ids)) if ids else {}
            yield [found[i] for i in ids if i in found]
            if token is None:
                return

    def _release(self) -> None:
        self._indexes.clear()
        close_client(self._client)


class AsyncPineconeKnowledgeStore(_PineconeSteps, AsyncLoopClientHostedVectorStore[PineconeKnowledgeConfig]):
    """An AsyncKnowledgeStore on Pinecone through the SDK's asyncio client: the sync store's steps, awaited.

    The SDK's asyncio clients (``PineconeAsyncio`` and each index's ``IndexAsyncio``) hold HTTP
    connection pools bound to the event loop that used them: they open on the first call, and
    another loop gets clients of its own (those of a loop this store left are dropped).
    """

    def __init__(self, config: PineconeKnowledgeConfig) -> None:
        super().__init__(config)
        self._pinecone = self._import_driver("pinecone")
        self._indexes = {}

    def _open_index(self, host: str) -> Any:
        return self._client.IndexAsyncio(host=host)

    def _open_client(self) -> Any:
        self._indexes = {}  # those of the loop left, with its client
        return self._pinecone.PineconeAsyncio(**_client_options(self.config))

    async def _release(self) -> None:
        indexes, self._indexes = self._indexes, {}
        client = self._take_client()
        if client is None:
            return
        for index, _ in indexes.values():
            await index.close()
        await client.close()
