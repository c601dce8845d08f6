"""LangGraph's long-term memory store (``BaseStore``) over one of our state stores.

``pip install "praisonai-persistence[langgraph]"``::

    from praisonai.persistence.registry import STATE_STORES
    from praisonai.persistence.integrations.langgraph import PersistenceStore

    store = PersistenceStore(STATE_STORES.create("redis", url="redis://localhost:6379/0"))
    store.put(("users", "u1"), "prefs", {"theme": "dark"})
    graph = builder.compile(store=store)

Any state store works, sync or async (``abatch`` is native over an async one,
``batch`` over a sync one; the other runs in a worker thread). With a knowledge
store and ``index={"dims": ..., "embed": ..., "fields": [...]}`` (LangGraph's
``IndexConfig``; ``embed`` may also be one of our embedders) ``search(query=...)``
is semantic: the indexed fields' texts are embedded on ``put`` and kept in the
knowledge store's ``collection``, one document per text, and a query ranks items
by their best text (cosine similarity).

Semantics follow LangGraph's documentation of ``BaseStore`` and its reference
stores: the reads of a batch see the store as it was before the batch, and its
puts apply after them, the last put of a key winning; a put keeps the item's
``created_at`` and sets ``updated_at``; ``ttl`` is in minutes and reads refresh
it unless ``refresh_ttl=False`` (``ttl_config`` as LangGraph's ``TTLConfig``);
``search`` without a query lists the newest updates first; ``filter`` matches
values exactly, nested dicts and lists included, or with ``$eq``, ``$ne``,
``$gt``, ``$gte``, ``$lt``, ``$lte``; ``list_namespaces`` is sorted.

Layout in the state store: one key per item, ``<prefix><label>/<label>/:<key>``
(labels and key percent-encoded, so no glob or separator character can mix
namespaces up), holding ``{"value", "created_at", "updated_at", "ttl"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
from collections.abc import Callable, Generator, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any, cast
from urllib.parse import quote, unquote

from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    ensure_embeddings,
    validate_op_namespace,
)
from langgraph.store.base.embed import get_text_at_path, tokenize_path

from .._sansio import Call, drive, drive_async
from ..errors import AlreadyExistsError, UsageError
from ..knowledge.base import KnowledgeDocument

__all__ = ["PersistenceStore"]

_KEY_MARK = ":"  # before the encoded key; quote() encodes ":" and "/" inside labels and keys
_Request = Call
_Batch = Generator[_Request, Any, list[Result]]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _encode(label: str) -> str:
    return quote(label, safe="")


def _matches(value: Any, wanted: Any) -> bool:
    """LangGraph's filter semantics: exact (nested) equality, or comparison operators."""
    if isinstance(wanted, dict):
        if any(isinstance(name, str) and name.startswith("$") for name in wanted):
            return all(_compare(value, operator, operand) for operator, operand in wanted.items())
        return isinstance(value, dict) and all(_matches(value.get(name), inner) for name, inner in wanted.items())
    if isinstance(wanted, (list, tuple)):
        return (
            isinstance(value, (list, tuple))
            and len(value) == len(wanted)
            and all(_matches(a, b) for a, b in zip(value, wanted, strict=True))
        )
    return bool(value == wanted)


def _compare(value: Any, operator: str, operand: Any) -> bool:
    if operator == "$eq":
        return bool(value == operand)
    if operator == "$ne":
        return bool(value != operand)
    if operator not in ("$gt", "$gte", "$lt", "$lte"):
        raise UsageError(f"langgraph store: unsupported filter operator {operator!r}")
    try:
        left, right = float(value), float(operand)
    except (TypeError, ValueError):
        return False  # a missing or non-numeric value matches no comparison
    if operator == "$gt":
        return left > right
    if operator == "$gte":
        return left >= right
    if operator == "$lt":
        return left < right
    return left <= right


def _namespace_matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    window = namespace[: len(path)] if condition.match_type == "prefix" else namespace[len(namespace) - len(path) :]
    return all(p == "*" or p == n for p, n in zip(path, window, strict=True))


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norm if norm else 0.0


class PersistenceStore(BaseStore):
    """LangGraph's ``BaseStore`` over a state store (and a knowledge store for semantic search)."""

    supports_ttl = True

    def __init__(
        self,
        state: Any,
        *,
        knowledge: Any = None,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        prefix: str = "langgraph:",
        collection: str = "langgraph",
    ) -> None:
        if index is not None and knowledge is None:
            raise UsageError("langgraph store: semantic search (index=) needs a knowledge store (knowledge=)")
        self.state = state
        self.knowledge = knowledge
        self.prefix = prefix
        self.collection = collection
        self.ttl_config = ttl
        self.index_config = index
        self._embeddings: Any = None
        self._fields: list[tuple[str, list[str]]] = []
        if index is not None:
            embed = index.get("embed")
            if embed is None or "dims" not in index:
                raise UsageError("langgraph store: index= needs 'dims' and 'embed'")
            if callable(getattr(embed, "embed", None)) and hasattr(embed, "dimension"):
                from .langchain import EmbedderEmbeddings

                embed = EmbedderEmbeddings(embed)
            self._embeddings = ensure_embeddings(embed)
            self._fields = [(path, tokenize_path(path)) for path in index.get("fields") or ["$"]]
        self._collection_ready = False

    def __repr__(self) -> str:
        return f"<PersistenceStore over {getattr(self.state, 'backend', type(self.state).__name__)}>"

    # -- keys ---------------------------------------------------------------------------------------------------------

    def _namespace_key(self, namespace: Sequence[str]) -> str:
        return self.prefix + "".join(_encode(label) + "/" for label in namespace)

    def _key(self, namespace: Sequence[str], key: str) -> str:
        return self._namespace_key(namespace) + _KEY_MARK + _encode(key)

    def _decode(self, stored_key: str) -> tuple[tuple[str, ...], str] | None:
        if not stored_key.startswith(self.prefix):
            return None
        *labels, last = stored_key[len(self.prefix) :].split("/")
        if not last.startswith(_KEY_MARK):
            return None
        return tuple(unquote(label) for label in labels), unquote(last[len(_KEY_MARK) :])

    @staticmethod
    def _item(
        namespace: tuple[str, ...], key: str, record: Any, score: float | None = None, search: bool = False
    ) -> Item:
        created = datetime.fromisoformat(record["created_at"])
        updated = datetime.fromisoformat(record["updated_at"])
        if search:
            return SearchItem(namespace, key, record["value"], created, updated, score)
        return Item(value=record["value"], key=key, namespace=namespace, created_at=created, updated_at=updated)

    def _refresh(self, op_refresh: bool | None) -> bool:
        if op_refresh is not None:
            return op_refresh
        return True if self.ttl_config is None else bool(self.ttl_config.get("refresh_on_read", True))

    # -- the batch, written once as requests (run by drive / drive_async) -------------------------------------------

    def _run_batch(self, ops: Sequence[Op]) -> _Batch:
        for op in ops:
            validate_op_namespace(op)
        results: list[Result] = [None] * len(ops)
        puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for position, op in enumerate(ops):
            if isinstance(op, GetOp):
                results[position] = yield from self._get(op)
            elif isinstance(op, SearchOp):
                results[position] = yield from self._search(op)
            elif isinstance(op, ListNamespacesOp):
                results[position] = yield from self._list_namespaces(op)
            elif isinstance(op, PutOp):
                puts[(tuple(op.namespace), op.key)] = op
            else:
                raise UsageError(f"langgraph store: unknown operation {type(op).__name__}")
        if puts:
            yield from self._apply_puts(list(puts.values()))
        return results

    def _get(self, op: GetOp) -> Generator[_Request, Any, Item | None]:
        key = self._key(op.namespace, op.key)
        record = yield Call("state.get", (key,))
        if not isinstance(record, dict):
            return None
        if record.get("ttl") is not None and self._refresh(op.refresh_ttl):
            yield Call("state.expire", (key, float(record["ttl"]) * 60.0))
        return self._item(tuple(op.namespace), op.key, record)

    def _scan(self, namespace_prefix: Sequence[str]) -> Generator[_Request, Any, list[tuple[str, dict[str, Any]]]]:
        keys = yield Call("state.scan_prefix", (self._namespace_key(namespace_prefix),))
        if not keys:
            return []
        found = yield Call("state.get_many", (list(keys),))
        return [(key, record) for key in keys if isinstance(record := found.get(key), dict)]

    def _search(self, op: SearchOp) -> Generator[_Request, Any, list[SearchItem]]:
        if op.limit < 0 or op.offset < 0:
            raise UsageError("langgraph store: search limit and offset must be >= 0")
        rows = yield from self._scan(op.namespace_prefix)
        candidates: list[tuple[str, tuple[str, ...], str, dict[str, Any]]] = []
        for stored_key, record in rows:
            decoded = self._decode(stored_key)
            if decoded is None:
                continue
            if op.filter and not all(_matches(record["value"].get(name), wanted) for name, wanted in op.filter.items()):
                continue
            candidates.append((stored_key, decoded[0], decoded[1], record))
        scores: dict[str, float] = {}
        if op.query and self._embeddings is not None and candidates:
            scores = yield from self._scores(op.query, candidates)
            # Items with vectors by their best text, then the ones never indexed (as LangGraph's reference store).
            candidates.sort(key=lambda row: (row[0] not in scores, -scores.get(row[0], 0.0), row[0]))
        else:
            candidates.sort(key=lambda row: (row[3]["updated_at"], row[0]), reverse=True)
        page = candidates[op.offset : op.offset + op.limit]
        if self._refresh(op.refresh_ttl):
            for stored_key, _, _, record in page:
                if record.get("ttl") is not None:
                    yield Call("state.expire", (stored_key, float(record["ttl"]) * 60.0))
        return [
            cast(SearchItem, self._item(namespace, key, record, scores.get(stored_key), search=True))
            for stored_key, namespace, key, record in page
        ]

    def _scores(
        self, query: str, candidates: list[tuple[str, tuple[str, ...], str, dict[str, Any]]]
    ) -> Generator[_Request, Any, dict[str, float]]:
        """Each item's best cosine similarity to ``query`` over its indexed texts (exact, over the candidates)."""
        owners = {doc_id: stored_key for stored_key, *_, record in candidates for doc_id in record.get("indexed") or ()}
        if not owners:
            return {}
        vector = yield Call("embed.query", (query,))
        documents = yield Call("knowledge.get_all", (self.collection, list(owners)))
        best: dict[str, float] = {}
        for document in documents:
            owner = owners.get(document.id)
            if owner is not None and document.embedding is not None:
                best[owner] = max(_cosine(vector, document.embedding), best.get(owner, -math.inf))
        return best

    def _list_namespaces(self, op: ListNamespacesOp) -> Generator[_Request, Any, list[tuple[str, ...]]]:
        keys = yield Call("state.scan_prefix", (self.prefix,))
        namespaces: set[tuple[str, ...]] = set()
        for stored_key in keys or []:
            decoded = self._decode(stored_key)
            if decoded is None:
                continue
            namespace = decoded[0]
            if op.match_conditions and not all(_namespace_matches(c, namespace) for c in op.match_conditions):
                continue
            namespaces.add(namespace[: op.max_depth] if op.max_depth is not None else namespace)
        return sorted(namespaces)[op.offset : op.offset + op.limit]

    def _texts(self, op: PutOp) -> list[tuple[str, str]]:
        """(path, text) pairs of a put's value to embed."""
        if self._embeddings is None or op.value is None or op.index is False:
            return []
        paths = self._fields if op.index is None else [(path, tokenize_path(path)) for path in op.index]
        texts: list[tuple[str, str]] = []
        for path, tokens in paths:
            found = get_text_at_path(op.value, tokens)
            if len(found) == 1:
                texts.append((path, found[0]))
            else:
                texts.extend((f"{path}.{i}", text) for i, text in enumerate(found))
        return texts

    def _apply_puts(self, puts: list[PutOp]) -> Generator[_Request, Any, None]:
        keys = [self._key(op.namespace, op.key) for op in puts]
        previous = yield Call("state.get_many", (keys,))
        now = _now().isoformat()
        stale: list[str] = []  # indexed texts of the previous values
        fresh: list[KnowledgeDocument] = []  # texts to embed, their embeddings still to come
        for stored_key, op in zip(keys, puts, strict=True):
            old = previous.get(stored_key)
            if isinstance(old, dict):
                stale.extend(old.get("indexed") or ())
            if op.value is None:
                yield Call("state.delete", (stored_key,))
                continue
            texts = [
                KnowledgeDocument(id=f"{stored_key}#{path}", content=text, metadata={"item": stored_key, "path": path})
                for path, text in self._texts(op)
            ]
            fresh.extend(texts)
            record = {
                "value": dict(op.value),
                "created_at": old["created_at"] if isinstance(old, dict) else now,
                "updated_at": now,
                "ttl": op.ttl,
                "indexed": [document.id for document in texts],
            }
            seconds = None if op.ttl is None else float(op.ttl) * 60.0
            yield Call("state.set", (stored_key, record, seconds))
        if self.knowledge is None:
            return
        kept = {document.id for document in fresh}
        gone = [doc_id for doc_id in dict.fromkeys(stale) if doc_id not in kept]
        if gone:
            exists = yield Call("knowledge.collection_exists", (self.collection,))
            if exists:
                yield Call("knowledge.delete", (self.collection, gone))
        if fresh:
            vectors = yield Call("embed.documents", ([document.content for document in fresh],))
            for document, vector in zip(fresh, vectors, strict=True):
                document.embedding = list(vector)
            if not self._collection_ready:
                yield Call("knowledge.create_collection_once", (self.collection, len(fresh[0].embedding or ())))
                self._collection_ready = True
            yield Call("knowledge.upsert", (self.collection, fresh))

    # -- runners ------------------------------------------------------------------------------------------------------

    def _targets(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "knowledge": _KnowledgeCalls(self.knowledge),
            "embed": _EmbedCalls(self._embeddings),
        }

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        targets = self._targets()
        if any(_is_async(target) for target in (self.state, self.knowledge) if target is not None):
            return asyncio.run(self.abatch(ops))  # an async store from sync code: its own loop, in this thread

        def execute(call: Call) -> Any:
            owner, method = call.method.split(".", 1)
            return getattr(targets[owner], method)(*call.args)

        return drive(self._run_batch(list(ops)), execute)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        targets = self._targets()

        async def execute(call: Call) -> Any:
            owner, method = call.method.split(".", 1)
            function: Callable[..., Any] = getattr(targets[owner], method)
            if owner == "embed":
                return await getattr(targets[owner], "a" + method)(*call.args)
            if inspect.iscoroutinefunction(function) or _is_async(getattr(targets[owner], "inner", None)):
                result = function(*call.args)
                return await result if inspect.isawaitable(result) else result
            return await asyncio.to_thread(function, *call.args)

        return await drive_async(self._run_batch(list(ops)), execute)


def _is_async(store: Any) -> bool:
    return store is not None and inspect.iscoroutinefunction(getattr(store, "get", None))


class _KnowledgeCalls:
    """The knowledge store's calls the batch makes, sync or async as the store is."""

    _CHUNK = 500  # ids per get

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_collection_once(self, name: str, dimension: int) -> Any:
        if _is_async(self.inner):
            return self._acreate(name, dimension)
        if not self.inner.collection_exists(name):
            with contextlib.suppress(AlreadyExistsError):  # created meanwhile
                self.inner.create_collection(name, dimension, distance="cosine")
        return None

    async def _acreate(self, name: str, dimension: int) -> None:
        if not await self.inner.collection_exists(name):
            try:
                await self.inner.create_collection(name, dimension, distance="cosine")
            except AlreadyExistsError:
                return

    def get_all(self, collection: str, ids: list[str]) -> Any:
        if _is_async(self.inner):
            return self._aget_all(collection, ids)
        found: list[KnowledgeDocument] = []
        for start in range(0, len(ids), self._CHUNK):
            found.extend(self.inner.get(collection, ids[start : start + self._CHUNK]))
        return found

    async def _aget_all(self, collection: str, ids: list[str]) -> list[KnowledgeDocument]:
        found: list[KnowledgeDocument] = []
        for start in range(0, len(ids), self._CHUNK):
            found.extend(await self.inner.get(collection, ids[start : start + self._CHUNK]))
        return found


class _EmbedCalls:
    def __init__(self, embeddings: Any) -> None:
        self.embeddings = embeddings

    def documents(self, texts: list[str]) -> list[list[float]]:
        return cast(list[list[float]], self.embeddings.embed_documents(texts))

    def query(self, text: str) -> list[float]:
        return cast(list[float], self.embeddings.embed_query(text))

    async def adocuments(self, texts: list[str]) -> list[list[float]]:
        return cast(list[list[float]], await self.embeddings.aembed_documents(texts))

    async def aquery(self, text: str) -> list[float]:
        return cast(list[float], await self.embeddings.aembed_query(text))
