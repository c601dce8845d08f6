"""Pinecone knowledge store: one serverless index per collection, through the ``pinecone`` SDK.

Engine: Pinecone (serverless). Driver: ``pinecone`` (extra ``pinecone``).
URL forms: ``pinecone://:API_KEY@`` (Pinecone's control plane), ``pinecone://:API_KEY@host:port``
(another control plane, e.g. Pinecone Local; ``?ssl=true`` for https); options ``cloud``,
``region``, ``index_prefix``.
Test tier: wire. The tests drive the real ``pinecone`` SDK against an HTTP stand-in of Pinecone's
REST API written from its reference (tests/support/pinecone_standin.py): the control plane, one
data-plane host per index, the documented filter operators, limits and error bodies, which
``_translate_error`` maps (400/413 refused input, 409 a taken name, 429/5xx unavailable).
Pinecone itself (its ANN, freshness, rate limits) is not exercised.

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
from collections.abc import Iterator
from typing import Any

from .._closing import close_client
from .._values import dump_json, load_json
from ..errors import AlreadyExistsError, BackendUnavailableError, InvalidInputError
from ._filters.native import Lowered
from ._filters.tokens import render_mql
from ._layers.hosted_store import HostedVectorStore, Settings
from ._layers.records import document_from_record
from .base import Distance, KnowledgeDocument
from .config import PineconeKnowledgeConfig

__all__ = ["PineconeKnowledgeStore"]

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


class PineconeKnowledgeStore(HostedVectorStore[PineconeKnowledgeConfig]):
    """A KnowledgeStore on Pinecone serverless indexes."""

    engine = "Pinecone"

    def __init__(self, config: PineconeKnowledgeConfig) -> None:
        super().__init__(config)
        pinecone = self._import_driver("pinecone")
        self._pinecone = pinecone
        options: dict[str, Any] = {"api_key": config.api_key.get_secret_value(), "timeout": config.timeout}
        if config.host is not None:
            options["host"] = config.host
        with self._translating:
            self._client: Any = pinecone.Pinecone(**options)
            self._indexes: dict[str, tuple[Any, Settings]] = {}

    # -- helpers ------------------------------------------------------------------

    def _index_name(self, name: str) -> str:
        return f"{self.config.index_prefix}-{hashlib.sha1(name.encode()).hexdigest()[:24]}"  # noqa: S324 - a name

    def _model(self, name: str) -> Any | None:
        index_name = self._index_name(name)
        if not self._client.has_index(index_name):
            return None
        model = self._client.describe_index(index_name)
        tags = dict(getattr(model, "tags", None) or {})
        return model if tags.get(_TAG) == name else None

    def _index(self, name: str) -> Any:
        return self._indexes[name][0]

    # -- primitives -----------------------------------------------------------------

    def _native_create(self, name: str, settings: Settings) -> bool:
        index_name = self._index_name(name)
        if self._client.has_index(index_name):
            return False
        spec = self._pinecone.ServerlessSpec(cloud=self.config.cloud, region=self.config.region)
        self._client.create_index(
            name=index_name,
            dimension=settings.dimension,
            metric=_NATIVE[settings.distance],
            spec=spec,
            tags={_TAG: name},
        )
        model = self._client.describe_index(index_name)
        index = self._client.Index(host=model.host)
        index.upsert(
            vectors=[
                {
                    "id": _SETTINGS_ID,
                    "values": [1.0] * settings.dimension,
                    "metadata": {"settings": dump_json(settings.metadata)},
                }
            ],
            namespace=_SETTINGS_NAMESPACE,
        )
        self._indexes[name] = (index, settings)
        return True

    def _native_drop(self, name: str) -> bool:
        self._indexes.pop(name, None)
        self._client.delete_index(self._index_name(name))
        return True

    def _find(self, name: str) -> Settings | None:
        cached = self._indexes.get(name)
        model = self._model(name)
        if model is None:
            self._indexes.pop(name, None)
            return None
        if cached is not None:
            return cached[1]
        index = self._client.Index(host=model.host)
        fetched = index.fetch(ids=[_SETTINGS_ID], namespace=_SETTINGS_NAMESPACE).vectors.get(_SETTINGS_ID)
        metadata = None if fetched is None else load_json(fetched.metadata["settings"])
        settings = Settings(int(model.dimension), _METRICS[str(model.metric)], metadata)
        self._indexes[name] = (index, settings)
        return settings

    def _names(self) -> list[str]:
        names = []
        listing = self._client.list_indexes()
        for model in getattr(listing, "indexes", listing):  # IndexList (older SDKs: a list)
            tags = dict(getattr(model, "tags", None) or {})
            name = tags.get(_TAG)
            if isinstance(name, str) and model.name == self._index_name(name):
                names.append(name)
        return names

    def _taken(self, name: str, settings: Settings, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), _BATCH):
            response = self._index(name).fetch(ids=ids[start : start + _BATCH], namespace=self.config.namespace)
            found.update(response.vectors)
        return found

    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        if settings.distance == "cosine":  # before any batch is sent: nothing of the call is written
            for record in records:
                if not any(record["embedding"]):
                    raise InvalidInputError(
                        f"document {record['id']!r} has a zero vector, which Pinecone's cosine indexes refuse"
                    )
        vectors = [{"id": r["id"], "values": r["embedding"], "metadata": _flat(r)} for r in records]
        for start in range(0, len(vectors), _BATCH):
            self._index(name).upsert(vectors=vectors[start : start + _BATCH], namespace=self.config.namespace)

    def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        found: dict[str, KnowledgeDocument] = {}
        for start in range(0, len(ids), _BATCH):
            response = self._index(name).fetch(ids=ids[start : start + _BATCH], namespace=self.config.namespace)
            for key, vector in response.vectors.items():
                found[key] = self._document(vector)
        return found

    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        response = self._index(name).query(
            vector=vector,
            top_k=min(limit, _TOP_K),
            filter=None if node is None else self._filter(node),
            include_values=True,
            include_metadata=True,
            namespace=self.config.namespace,
        )
        return [self._document(match) for match in response.matches]

    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        native = self._filter(node)
        if ids is not None:
            native = {"$and": [native, {"id": {"$in": ids}}]}
        response = self._index(name).query(
            vector=[1.0] * settings.dimension,
            top_k=_TOP_K,
            filter=native,
            include_values=False,
            include_metadata=False,
            namespace=self.config.namespace,
        )
        matched = [match.id for match in response.matches]
        if len(matched) >= _TOP_K:
            # More than one query can return: delete this page and look again.
            self._native_remove(name, settings, matched)
            return matched + self._native_matching(name, settings, node, ids)
        return matched

    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self._index(name).delete(ids=ids[start : start + _BATCH], namespace=self.config.namespace)

    def _count(self, name: str, settings: Settings) -> int:
        stats = self._index(name).describe_index_stats()
        summary = (stats.namespaces or {}).get(self.config.namespace)
        return 0 if summary is None else int(summary.vector_count)

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        index = self._index(name)
        for page in index.list(namespace=self.config.namespace, limit=min(batch_size, 100)):
            # Older SDKs yield lists of ids, newer ones ListResponse pages of items with ``.id``.
            items = getattr(page, "vectors", page)
            ids = [item if isinstance(item, str) else item.id for item in items]
            found = self._fetch(name, settings, ids)
            yield [found[i] for i in ids if i in found]

    def _release(self) -> None:
        self._indexes.clear()
        close_client(self._client)

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
