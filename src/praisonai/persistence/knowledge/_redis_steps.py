"""Redis's knowledge store, written once as sans-IO steps for the sync and the async store.

:class:`_RedisSteps` holds the engine primitives of :mod:`..redis` as
generators of :class:`~praisonai.persistence._sansio.Call` requests of
redis-py client methods: the collections hash, the search index and its
``FT.ALTER``-added attributes, the Lua scripts that write (``_WRITE``), take
back (``_TAKE_BACK``) and read documents in parts, the searches and the
filters rendered as RediSearch queries (:func:`_render`). The stores of
:mod:`..redis` run them on ``redis.Redis`` and ``redis.asyncio.Redis``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, TypeVar

from .._sansio import Call, Operation
from .._values import dump_json, load_json
from ..errors import BackendUnavailableError, StoreError
from ._filters import native as nodes
from ._filters.native import (
    as_float,
    field_key,
    flat_index,
    index_metadata,
    render,
    string_digest,
)
from ._layers.checks import (
    collection_exists,
    document_exists,
    partly_stored,
)
from ._layers.contract import EngineStepsPrimitives
from ._layers.store_base import CollectionSettings, score_of_distance
from .base import Distance, KnowledgeDocument
from .config import RedisVectorKnowledgeConfig
from .filters import FilterNode, matches

__all__: list[str] = []

R = TypeVar("R")

_METRIC = {"cosine": "COSINE", "dot": "IP", "euclidean": "L2"}
_CHUNKS = 32
_PAGE = 1000
# Documents and bytes per write script (see the module docstring).
_WRITE_DOCUMENTS = 500
_WRITE_BYTES = 4 << 20
_RETURN = ("id", "content", "metadata", "content_hash", "created_at", "vec")
_SCORE = "__score"


class _Params:
    """The PARAMS of one query: every value goes here, the query text only names them."""

    def __init__(self) -> None:
        self.values: dict[str, str | bytes] = {}

    def add(self, value: str | bytes) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def arguments(self) -> list[str | bytes]:
        if not self.values:
            return []
        flat: list[str | bytes] = ["PARAMS", str(2 * len(self.values))]
        for name, value in self.values.items():
            flat += [name, value]
        return flat


def _parts(hashes: list[tuple[str, dict[str, Any]]]) -> list[list[tuple[str, dict[str, Any]]]]:
    """``hashes`` cut into runs of at most ``_WRITE_DOCUMENTS`` and (beyond one) ``_WRITE_BYTES``."""
    parts: list[list[tuple[str, dict[str, Any]]]] = [[]]
    size = 0
    for key, mapping in hashes:
        width = len(key) + sum(len(field) + len(value) for field, value in mapping.items())
        if parts[-1] and (len(parts[-1]) >= _WRITE_DOCUMENTS or size + width > _WRITE_BYTES):
            parts.append([])
            size = 0
        parts[-1].append((key, mapping))
        size += width
    return parts


def _flag_text(value: bool) -> str:
    return "1" if value else "0"


def _number_text(value: int | float) -> str:
    return repr(as_float(value)) if isinstance(value, float) or abs(value) > 2**53 else str(value)


# Writes documents in one step, atomically: with ARGV[1] == "0" (insert) nothing is written if one of
# KEYS exists (their keys are returned); else each key is deleted and set anew. ARGV[2..]: for each key,
# its number of field/value items, then the items.
_WRITE = """
if ARGV[1] == '0' then
  local taken = {}
  for _, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then taken[#taken + 1] = key end
  end
  if #taken > 0 then return taken end
end
local at = 2
for _, key in ipairs(KEYS) do
  local last = at + tonumber(ARGV[at])
  redis.call('DEL', key)
  for first = at + 1, last, 200 do
    redis.call('HSET', key, unpack(ARGV, first, math.min(first + 199, last)))
  end
  at = last + 1
end
return {}
"""
# Delete each of KEYS whose created_at and vec are still ARGV[2i-1], ARGV[2i]: what an insert wrote.
_TAKE_BACK = """
for i, key in ipairs(KEYS) do
  local stored = redis.call('HMGET', key, 'created_at', 'vec')
  if stored[1] == ARGV[2 * i - 1] and stored[2] == ARGV[2 * i] then redis.call('DEL', key) end
end
return 0
"""
# Which of KEYS exist.
_EXISTING = """
local taken = {}
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then taken[#taken + 1] = key end
end
return taken
"""
# The fields ARGV of the hashes KEYS, in one round trip.
_READ = """
local found = {}
for i, key in ipairs(KEYS) do found[i] = redis.call('HMGET', key, unpack(ARGV)) end
return found
"""


class _RedisSteps(EngineStepsPrimitives):
    """The redis knowledge store's engine primitives as steps of client calls (:mod:`.._sansio`), and
    the mapping of documents and filters: one copy for the sync store (``redis.Redis``) and the
    async one (``redis.asyncio.Redis``), whose methods have the same names and arguments. Writes of
    several keys are one Lua script (``EVAL``), so each is one atomic engine call."""

    config: RedisVectorKnowledgeConfig
    _errors: Any

    def _use_config(self, config: RedisVectorKnowledgeConfig) -> None:
        self._prefix = config.key_prefix
        self._catalogue = f"{self._prefix}:collections"
        self._format = "<{}f" if config.vector_type == "FLOAT32" else "<{}d"
        self.float32_embeddings = config.vector_type == "FLOAT32"

    def _client_options(self) -> dict[str, Any]:
        config = self.config
        return {
            "host": config.host,
            "port": config.port,
            "db": config.db,
            "username": config.username,
            "password": config.password.get_secret_value() if config.password is not None else None,
            "ssl": config.ssl,
            "socket_timeout": config.socket_timeout,
            "socket_connect_timeout": config.socket_timeout,
            "protocol": 2,
        }

    # -- the steps ---------------------------------------------------------------------

    def _find_steps(self, name: str) -> Operation[Call, CollectionSettings | None]:
        stored = yield Call("hget", (self._catalogue, name))
        return None if stored is None else CollectionSettings.from_json(stored)

    def _create_steps(
        self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None
    ) -> Operation[Call, None]:
        settings = CollectionSettings(dimension, distance, metadata).to_json()
        config = self.config
        vector = ["TYPE", config.vector_type, "DIM", str(dimension), "DISTANCE_METRIC", _METRIC[distance]]
        schema = ["iddigest", "TAG", "CASESENSITIVE", "vec", "VECTOR", config.algorithm, str(len(vector)), *vector]
        if not (yield Call("hsetnx", (self._catalogue, name, settings))):
            raise collection_exists(name)
        try:
            yield Call("delete", (self._fields_key(name),))
            command = ["FT.CREATE", self._index(name), "ON", "HASH", "PREFIX", "1", self._document_prefix(name)]
            try:
                yield Call("execute_command", (*command, "SCHEMA", *schema))
            except self._errors.ResponseError as error:
                if "already exists" not in str(error).lower():
                    raise
                # Left behind by a create that failed half-way: nothing in the catalogue points at it.
                yield Call("execute_command", ("FT.DROPINDEX", self._index(name), "DD"))
                yield Call("execute_command", (*command, "SCHEMA", *schema))
        except BaseException:
            yield Call("hdel", (self._catalogue, name))
            raise

    def _drop_steps(self, name: str, target: CollectionSettings) -> Operation[Call, None]:
        if not (yield Call("hdel", (self._catalogue, name))):
            return  # dropped by another client meanwhile
        try:
            yield Call("execute_command", ("FT.DROPINDEX", self._index(name), "DD"))
        except self._errors.ResponseError as error:
            if "unknown index" not in str(error).lower() and "no such index" not in str(error).lower():
                raise
        yield Call("delete", (self._fields_key(name), self._zeros_key(name)))

    def _names_steps(self) -> Operation[Call, list[str]]:
        return [name.decode() for name in (yield Call("hkeys", (self._catalogue,)))]

    def _put_steps(
        self, name: str, target: CollectionSettings, documents: list[KnowledgeDocument], overwrite: bool
    ) -> Operation[Call, None]:
        hashes = [(self._key(name, document.id), self._hash(document)) for document in documents]
        yield from self._add_attributes(name, documents)
        zeros = [document.id for document in documents if not any(document.embedding or ())]
        if zeros and target.distance == "cosine":
            # Remembered before the write (a stale id is harmless: _zero_vectors reads what is stored).
            yield Call("sadd", (self._zeros_key(name), *zeros))
        written: list[list[tuple[str, dict[str, Any]]]] = []
        try:
            for part in _parts(hashes):
                written.append(part)  # before the call: its outcome is unknown if the connection fails
                items: list[Any] = ["1" if overwrite else "0"]
                for _, mapping in part:
                    items.append(str(2 * len(mapping)))
                    for field, value in mapping.items():
                        items += [field, value]
                taken = yield Call("eval", (_WRITE, len(part), *(key for key, _ in part), *items))
                if taken:
                    written.pop()  # the script wrote nothing of this part
                    prefix = len(self._document_prefix(name))
                    raise document_exists(name, [bytes(key).decode()[prefix:] for key in taken])
        except Exception as error:
            if not overwrite and written:
                try:
                    for part in written:
                        fields = [value for _, mapping in part for value in (mapping["created_at"], mapping["vec"])]
                        yield Call("eval", (_TAKE_BACK, len(part), *(key for key, _ in part), *fields))
                except Exception as cleanup:
                    if len(written) > 1:  # parts before the last were stored for sure
                        raise partly_stored(name, sum(len(part) for part in written), error, cleanup) from error
            raise

    def _taken_steps(self, name: str, target: CollectionSettings, ids: list[str]) -> Operation[Call, list[str]]:
        # Checked again, atomically, by each part's write script (another client may insert meanwhile).
        taken: list[str] = []
        for start in range(0, len(ids), _PAGE):
            keys = [self._key(name, document_id) for document_id in ids[start : start + _PAGE]]
            found = yield Call("eval", (_EXISTING, len(keys), *keys))
            prefix = len(self._document_prefix(name))
            taken += [bytes(key).decode()[prefix:] for key in found]
        return taken

    def _add_attributes(self, collection: str, documents: list[KnowledgeDocument]) -> Operation[Call, None]:
        wanted: dict[str, str] = {}
        for document in documents:
            for indexed in index_metadata(document.metadata, chunk_limit=_CHUNKS):
                key = indexed.key
                wanted[f"t_{key}"] = "TAG"
                wanted[
                    {"string": f"s_{key}", "number": f"n_{key}", "bool": f"b_{key}", "null": f"t_{key}"}[indexed.kind]
                ] = "NUMERIC" if indexed.kind == "number" else "TAG"
                for position in range(len(indexed.chunks)):
                    wanted[f"c_{key}_{position}"] = "NUMERIC"
        if not wanted:
            return
        known = yield from self._attributes(collection)
        for attribute, kind in wanted.items():
            if attribute in known:
                continue
            options = ["TAG", "CASESENSITIVE"] if kind == "TAG" else ["NUMERIC"]
            try:
                yield Call(
                    "execute_command", ("FT.ALTER", self._index(collection), "SCHEMA", "ADD", attribute, *options)
                )
            except self._errors.ResponseError as error:
                if "duplicate" not in str(error).lower():
                    raise
            yield Call("sadd", (self._fields_key(collection), attribute))

    def _search_steps(
        self, name: str, target: CollectionSettings, query: list[float], limit: int, node: FilterNode | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        params = _Params()
        condition = yield from self._condition(name, node, params)
        if condition is nodes.NEVER:
            return []
        k, blob = params.add(str(limit)), params.add(struct.pack(self._format.format(len(query)), *query))
        # HNSW keeps ef_runtime candidates (at least the limit) per search: RediSearch's default of 10 loses recall.
        ef = ""
        if self.config.algorithm == "HNSW":
            ef = f" EF_RUNTIME {params.add(str(max(limit, self.config.ef_runtime)))}"
        text = f"({condition or '*'})=>[KNN {k} @vec {blob}{ef} AS {_SCORE}]"
        reply = yield Call("execute_command", (
            "FT.SEARCH", self._index(name), text, *params.arguments(),
            "SORTBY", _SCORE, "ASC", "RETURN", str(len(_RETURN) + 1), *_RETURN, _SCORE,
            "LIMIT", "0", str(limit), "DIALECT", "2",
        ))  # fmt: skip
        results = []
        for fields in _documents(reply):
            document = self._document(fields)
            document.score = score_of_distance(target.distance, float(fields[_SCORE.encode()]))
            results.append(document)
        return results

    def _zero_vectors_steps(
        self, name: str, target: CollectionSettings, limit: int, node: FilterNode | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        """Cosine: RediSearch scores a zero vector NaN and a filtered KNN query leaves it out, so the
        ids of zero vectors are kept in a set; those still stored as zero and matching are added."""
        members = sorted(member.decode() for member in (yield Call("smembers", (self._zeros_key(name),))))
        if target.distance != "cosine" or not members:
            return []
        loaded = yield from self._load_steps([self._key(name, member) for member in members])
        found = [
            document
            for document in loaded
            if not any(document.embedding or ()) and (node is None or matches(node, document.metadata))
        ]
        for document in found:
            document.score = 0.0
        return found[:limit]

    def _fetch_steps(
        self, name: str, target: CollectionSettings, ids: list[str]
    ) -> Operation[Call, dict[str, KnowledgeDocument]]:
        loaded = yield from self._load_steps([self._key(name, i) for i in ids])
        return {document.id: document for document in loaded}

    def _remove_steps(
        self, name: str, target: CollectionSettings, ids: list[str] | None, node: FilterNode | None
    ) -> Operation[Call, int]:
        if node is None:
            assert ids is not None
            return int((yield Call("delete", tuple(self._key(name, i) for i in ids))))
        params = _Params()
        condition = yield from self._condition(name, node, params)
        if condition is nodes.NEVER:
            return 0
        parts = [condition] if condition else []
        if ids is not None:
            digests = " | ".join(params.add(string_digest(i)) for i in ids)
            parts.append(f"@iddigest:{{{digests}}}")
        text = " ".join(f"({part})" for part in parts) or "*"
        deleted = 0
        while True:
            reply = yield Call("execute_command", (
                "FT.SEARCH", self._index(name), text, *params.arguments(),
                "NOCONTENT", "LIMIT", "0", str(_PAGE), "DIALECT", "2",
            ))  # fmt: skip
            keys = reply[1:]
            if not keys:
                return deleted
            deleted += int((yield Call("delete", tuple(keys))))

    def _count_steps(self, name: str, target: CollectionSettings) -> Operation[Call, int]:
        reply = yield Call(
            "execute_command", ("FT.SEARCH", self._index(name), "*", "NOCONTENT", "LIMIT", "0", "0", "DIALECT", "2")
        )
        return int(reply[0])

    def _load_steps(self, keys: Sequence[Any]) -> Operation[Call, list[KnowledgeDocument]]:
        if not keys:
            return []
        replies = yield Call("eval", (_READ, len(keys), *keys, *_RETURN))
        return [
            self._document({name.encode(): value for name, value in zip(_RETURN, reply, strict=True)})
            for reply in replies
            if reply[0] is not None
        ]

    def _attributes(self, name: str) -> Operation[Call, set[str]]:
        return {member.decode() for member in (yield Call("smembers", (self._fields_key(name),)))}

    def _translate_error(self, error: Exception) -> Exception | None:
        if isinstance(error, (self._errors.ConnectionError, self._errors.TimeoutError)):
            return BackendUnavailableError(
                f"cannot reach Redis at {self.config.host}:{self.config.port}: {type(error).__name__}"
            )
        if isinstance(error, self._errors.ResponseError):
            text = str(error).lower()
            if "unknown command" in text and "ft." in text:
                return StoreError("this Redis has no search module (RediSearch); use Redis Stack or Redis 8")
        return None

    # -- helpers ---------------------------------------------------------------

    def _index(self, name: str) -> str:
        return f"{self._prefix}:idx:{name}"

    def _document_prefix(self, name: str) -> str:
        return f"{self._prefix}:c:{name}:d:"

    def _key(self, name: str, document_id: str) -> str:
        return self._document_prefix(name) + document_id

    def _zeros_key(self, name: str) -> str:
        return f"{self._prefix}:c:{name}:zeros"

    def _fields_key(self, name: str) -> str:
        return f"{self._prefix}:c:{name}:fields"

    def _hash(self, document: KnowledgeDocument) -> dict[str, Any]:
        assert document.embedding is not None
        mapping: dict[str, Any] = {
            "id": document.id,
            "iddigest": string_digest(document.id),
            "content": document.content,
            "metadata": dump_json(document.metadata, what="metadata"),
            "created_at": repr(document.created_at),
            "vec": struct.pack(self._format.format(len(document.embedding)), *document.embedding),
        }
        if document.content_hash is not None:
            mapping["content_hash"] = document.content_hash
        mapping.update(
            flat_index(document.metadata, chunk_limit=_CHUNKS, number=_number_text, flag=_flag_text, chunk=str)
        )
        return mapping

    def _document(self, fields: dict[Any, Any]) -> KnowledgeDocument:
        def text(name: str) -> str | None:
            value = fields.get(name.encode(), fields.get(name))
            return None if value is None else bytes(value).decode("utf-8", "surrogatepass")

        blob = bytes(fields.get(b"vec", fields.get("vec")) or b"")
        width = 4 if self._format == "<{}f" else 8
        embedding = list(struct.unpack(self._format.format(len(blob) // width), blob))
        return KnowledgeDocument(
            id=text("id") or "",
            content=text("content") or "",
            embedding=[float(x) for x in embedding],
            metadata=load_json(text("metadata") or "null"),
            content_hash=text("content_hash"),
            created_at=float(text("created_at") or 0.0),
        )

    def _condition(self, collection: str, node: FilterNode | None, params: _Params) -> Operation[Call, Any]:
        if node is None:
            return None
        attributes = yield from self._attributes(collection)

        def known(atom: nodes.Atom) -> bool | None:
            # An attribute the index lacks cannot be queried (it is an error): no document has it.
            return None if _attribute(atom) in attributes else isinstance(atom, nodes.Ne)

        return render(node, lambda lowered: _render(lowered, params), chunk_limit=_CHUNKS, known=known)


def _attribute(atom: nodes.Atom) -> str:
    key = field_key(atom.field)
    if isinstance(atom, (nodes.Eq, nodes.Ne)):
        return {"string": f"s_{key}", "number": f"n_{key}", "bool": f"b_{key}", "null": f"t_{key}"}[atom.kind]
    if isinstance(atom, nodes.IsKind):
        return f"t_{key}"
    if isinstance(atom, nodes.Range):
        return f"n_{key}"
    if isinstance(atom, nodes.Chunk):
        return f"c_{key}_{atom.index}"
    raise AssertionError(f"unexpected filter atom {atom!r}")


def _render(node: nodes.Lowered, params: _Params) -> str:
    if isinstance(node, (nodes.All, nodes.Any)):
        joiner = " " if isinstance(node, nodes.All) else " | "
        return "(" + joiner.join(_render(part, params) for part in node.parts) + ")"
    attribute = _attribute(node)
    if isinstance(node, (nodes.Eq, nodes.Ne)):
        if node.kind == "number":
            assert isinstance(node.value, (int, float))
            bound = params.add(_number_text(node.value))
            matched = f"@{attribute}:[{bound} {bound}]"
        else:
            token = {"null": "null", "bool": "1" if node.value else "0"}.get(node.kind)
            if token is None:
                assert isinstance(node.value, str)
                token = string_digest(node.value)
            matched = f"@{attribute}:{{{params.add(token)}}}"
        return matched if isinstance(node, nodes.Eq) else f"(-{matched})"
    if isinstance(node, nodes.IsKind):
        return f"@{attribute}:{{{params.add(node.kind)}}}"
    if isinstance(node, (nodes.Range, nodes.Chunk)):
        bound = params.add(_number_text(node.value))
        low, high = {
            "gt": (f"({bound}", "+inf"),
            "gte": (bound, "+inf"),
            "lt": ("-inf", f"({bound}"),
            "lte": ("-inf", bound),
            "eq": (bound, bound),
        }[node.op]
        return f"@{attribute}:[{low} {high}]"
    assert not isinstance(node, nodes.StrRange), "lowered with chunks"
    raise AssertionError(f"unexpected filter node {node!r}")


def _documents(reply: list[Any]) -> list[dict[bytes, Any]]:
    # RESP2 FT.SEARCH: [total, key, [field, value, ...], key, [...], ...]
    documents = []
    for index in range(2, len(reply), 2):
        flat = reply[index]
        documents.append({flat[i]: flat[i + 1] for i in range(0, len(flat), 2)})
    return documents
