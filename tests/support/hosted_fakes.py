"""Client-level fakes of the hosted vector services' SDKs, for the ``_hosted`` knowledge backends.

Each fake implements only the SDK calls the adapter makes, with the documented
semantics of the service for those calls (errors the SDK raises, insert-if-absent,
filter operators), and ranks by exact brute force with the portable reference
:func:`praisonai.persistence.knowledge.base.similarity`. They check what they can of
the service's rules (names, metadata types, declared filter paths, parameters) and
fail loudly on anything they do not understand, so a statement the adapter starts
sending that the fake was not written for is an error, never silently ignored.

What they do NOT exercise: the services themselves (approximate search, their own
filter engines and query parsers, consistency, limits, authentication, wire formats).

- :class:`MongoSearchShim`: wraps a real pymongo database (on SecantusDB) and answers
  only ``create_search_index`` and the ``$vectorSearch`` stage, evaluating its filter
  with the server's own ``find``.
- :class:`FakeCassandraCluster`: cassandra-driver's ``Cluster`` / ``Session`` for the
  adapter's CQL statements.
- :class:`FakeCouchbaseCluster`: the couchbase SDK's ``Cluster`` / ``Bucket`` / ``Scope`` /
  ``Collection``, with SQL++ statements evaluated by :class:`SqlExpression`.
- :class:`FakeCosmosClient`: azure-cosmos' ``CosmosClient`` / ``DatabaseProxy`` /
  ``ContainerProxy``, with NoSQL queries evaluated by :class:`SqlExpression`; only the
  reliability suites use it (tests/support/knowledge_backends.py), the cosmosdb tests run
  on @vercel/cosmosdb-server (tests/support/cosmosdb_emulator.py).
"""

from __future__ import annotations

import copy
import math
import re
import struct
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from praisonai.persistence.knowledge.base import Distance, similarity

__all__ = [
    "FakeCassandraCluster",
    "FakeCosmosClient",
    "FakeCouchbaseCluster",
    "AsyncMongoSearchShim",
    "MongoSearchShim",
    "SqlExpression",
    "mql_matches",
]

_MISSING: Any = object()


def _f32(values: Sequence[float]) -> list[float]:
    return [struct.unpack("f", struct.pack("f", float(x)))[0] for x in values]


def _rank(distance: Distance, query: Sequence[float], items: list[tuple[Any, Sequence[float]]]) -> list[Any]:
    scored = [(similarity(distance, query, vector), index, item) for index, (item, vector) in enumerate(items)]
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    return [item for _, _, item in scored]


# -- MongoDB-style filters (Pinecone's documented subset) ---------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def mql_matches(query: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    """Pinecone's metadata filter semantics: ``$eq $ne $gt $gte $lt $lte $in $nin $and $or``.

    ``$in`` / ``$nin`` on a list field test whether any element is (not) in the values;
    ordering operators compare numbers only (Pinecone refuses other types).
    """
    for key, condition in query.items():
        if key == "$and":
            if not all(mql_matches(part, document) for part in condition):
                return False
            continue
        if key == "$or":
            if not any(mql_matches(part, document) for part in condition):
                return False
            continue
        if key.startswith("$"):
            raise ValueError(f"unsupported top-level operator {key!r}")
        actual = document.get(key, _MISSING)
        operators = condition if isinstance(condition, Mapping) else {"$eq": condition}
        for op, expected in operators.items():
            if not _mql_op(op, actual, expected):
                return False
    return True


def _mql_op(op: str, actual: Any, expected: Any) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    if op == "$eq":
        return actual is not _MISSING and any(_same(v, expected) for v in values)
    if op == "$ne":
        return not (actual is not _MISSING and any(_same(v, expected) for v in values))
    if op == "$in":
        assert isinstance(expected, list)
        return actual is not _MISSING and any(_same(v, e) for v in values for e in expected)
    if op == "$nin":
        assert isinstance(expected, list)
        return not (actual is not _MISSING and any(_same(v, e) for v in values for e in expected))
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if not _is_number(expected):
            raise ValueError(f"{op} takes a number")
        if not _is_number(actual):
            return False
        return {"$gt": actual > expected, "$gte": actual >= expected, "$lt": actual < expected}.get(
            op, actual <= expected
        )
    raise ValueError(f"unsupported operator {op!r}")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b) and (type(a) is type(b) or (_is_number(a) and _is_number(b)))


# -- Pinecone -----------------------------------------------------------------------------

_PINECONE_INDEX = re.compile(r"^[a-z0-9-]{1,45}$")
_PINECONE_METRIC: dict[str, Distance] = {"cosine": "cosine", "dotproduct": "dot", "euclidean": "euclidean"}


# -- MongoDB Atlas Vector Search shim -------------------------------------------------------

_ATLAS_SIMILARITY: dict[str, Distance] = {"cosine": "cosine", "dotProduct": "dot", "euclidean": "euclidean"}


def _filter_paths(query: Any) -> set[str]:
    paths: set[str] = set()
    if isinstance(query, Mapping):
        for key, value in query.items():
            if key in ("$and", "$or", "$nor"):
                for part in value:
                    paths |= _filter_paths(part)
            elif not key.startswith("$"):
                paths.add(key)
    return paths


class MongoSearchShim:
    """Wraps a pymongo ``Database``; its collections answer Atlas's search-index calls and ``$vectorSearch``."""

    def __init__(self, database: Any, indexes: dict[str, dict[str, Any]] | None = None) -> None:
        self._database = database
        # collection name -> {index name: definition}; share it between shims of one database
        self.indexes: dict[str, dict[str, Any]] = {} if indexes is None else indexes
        self.stages: list[dict[str, Any]] = []

    def __getitem__(self, name: str) -> _ShimCollection:
        return _ShimCollection(self, self._database[name], name)


class _Documents(list[dict[str, Any]]):
    """What ``aggregate`` returns: the documents, with a cursor's ``to_list``."""

    def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        return list(self)


class _ShimCollection:
    def __init__(self, shim: MongoSearchShim, collection: Any, name: str) -> None:
        self._shim = shim
        self._collection = collection
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._collection, attribute)

    def drop(self) -> None:
        self._shim.indexes.pop(self._name, None)
        self._collection.drop()

    def create_search_index(self, model: Any) -> str:
        document = model.document
        if document.get("type") != "vectorSearch":
            raise ValueError("only vectorSearch indexes are imitated")
        self._shim.indexes.setdefault(self._name, {})[document["name"]] = document["definition"]
        return str(document["name"])

    def aggregate(self, pipeline: list[dict[str, Any]]) -> _Documents:
        first = pipeline[0]
        if "$vectorSearch" not in first:
            return _Documents(self._collection.aggregate(pipeline))
        query = self._checked_filter(first["$vectorSearch"])
        return self._ranked(pipeline, list(self._collection.find(query)))

    def _checked_filter(self, stage: dict[str, Any]) -> dict[str, Any]:
        """The stage's filter, once the stage is checked against its index as Atlas would."""
        self._shim.stages.append(stage)
        definition = self._shim.indexes.get(self._name, {}).get(stage["index"])
        if definition is None:
            raise RuntimeError(f"no vector search index {stage['index']!r} on {self._name}")
        [vector_field] = [f for f in definition["fields"] if f["type"] == "vector"]
        if stage["path"] != vector_field["path"] or len(stage["queryVector"]) != vector_field["numDimensions"]:
            raise RuntimeError("$vectorSearch path or dimension does not match the index")
        declared = {f["path"] for f in definition["fields"] if f["type"] == "filter"}
        query: dict[str, Any] = stage.get("filter") or {}
        undeclared = _filter_paths(query) - declared
        if undeclared:
            raise RuntimeError(f"$vectorSearch filter on paths not indexed as filter: {sorted(undeclared)}")
        if not stage.get("exact") and not stage["limit"] <= stage["numCandidates"] <= 10000:
            raise RuntimeError("numCandidates must be between limit and 10000")
        return query

    def _ranked(self, pipeline: list[dict[str, Any]], found: list[dict[str, Any]]) -> _Documents:
        """The stage's answer from the documents its filter matched."""
        stage = pipeline[0]["$vectorSearch"]
        definition = self._shim.indexes[self._name][stage["index"]]
        [vector_field] = [f for f in definition["fields"] if f["type"] == "vector"]
        candidates = [(doc, doc[vector_field["path"]]) for doc in found]
        distance = _ATLAS_SIMILARITY[vector_field["similarity"]]
        ranked = _rank(distance, stage["queryVector"], candidates)[: stage["limit"]]
        for later in pipeline[1:]:
            if set(later) != {"$project"}:
                raise RuntimeError(f"stage {later} is not imitated")
            for key, value in later["$project"].items():
                for doc in ranked:
                    if value == 0:
                        doc.pop(key, None)
                    elif value == {"$meta": "vectorSearchScore"}:
                        raw = similarity(distance, stage["queryVector"], doc["embedding"])
                        doc[key] = raw if distance == "euclidean" else (1 + raw) / 2
        return _Documents(ranked)


class AsyncMongoSearchShim(MongoSearchShim):
    """:class:`MongoSearchShim` over pymongo's ``AsyncDatabase``: the same answers, awaited."""

    def __getitem__(self, name: str) -> _AsyncShimCollection:  # type: ignore[override]
        return _AsyncShimCollection(self, self._database[name], name)


class _AsyncShimCollection(_ShimCollection):
    async def drop(self) -> None:  # type: ignore[override]
        self._shim.indexes.pop(self._name, None)
        await self._collection.drop()

    async def create_search_index(self, model: Any) -> str:  # type: ignore[override]
        return super().create_search_index(model)

    async def aggregate(self, pipeline: list[dict[str, Any]]) -> Any:  # type: ignore[override]
        first = pipeline[0]
        if "$vectorSearch" not in first:
            return await self._collection.aggregate(pipeline)
        query = self._checked_filter(first["$vectorSearch"])
        return _AsyncDocuments(self._ranked(pipeline, await self._collection.find(query).to_list()))


class _AsyncDocuments(_Documents):
    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:  # type: ignore[override]
        return list(self)


# -- a small evaluator for the SQL-like expressions of Cosmos DB and SQL++ --------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<param>[@$][A-Za-z_][A-Za-z0-9_]*)|(?P<string>'[^']*'|\"[^\"]*\")"
    r"|(?P<op><=|>=|!=|=|<|>|\(|\)|\[|\]|\.|,)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    position, out = 0, []
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot tokenise {text[position : position + 30]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return out


class SqlExpression:
    """Parse and evaluate a boolean expression of the subset the adapters emit.

    Three-valued like both engines: a comparison involving a missing value or values
    of different types is *undefined* (``None``), ``NOT undefined`` stays undefined,
    and a WHERE clause keeps only ``True``. Paths start at ``alias``; ``a.b[expr]``
    (Cosmos) and ``a.b.[expr]`` (SQL++) read a field by a computed name.
    """

    def __init__(self, text: str, alias: str, functions: Mapping[str, Callable[..., Any]]) -> None:
        self._tokens = _tokens(text)
        self._position = 0
        self._alias = alias
        self._functions = functions
        self.tree = self._or()
        if self._position != len(self._tokens):
            raise ValueError(f"unparsed input after {self._tokens[self._position - 1]!r}")

    # parsing into closures (document, parameters) -> value
    def _peek(self) -> tuple[str, str] | None:
        return self._tokens[self._position] if self._position < len(self._tokens) else None

    def _word(self, *words: str) -> bool:
        token = self._peek()
        if token is not None and token[0] == "word" and token[1].upper() in words:
            self._position += 1
            return True
        return False

    def _expect(self, op: str) -> None:
        token = self._peek()
        if token != ("op", op):
            raise ValueError(f"expected {op!r}, got {token!r}")
        self._position += 1

    def _or(self) -> Callable[[Any, Mapping[str, Any]], Any]:
        parts = [self._and()]
        while self._word("OR"):
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]

        def either(doc: Any, params: Mapping[str, Any]) -> Any:
            values = [part(doc, params) for part in parts]
            return True if True in values else (None if None in values else False)

        return either

    def _and(self) -> Callable[[Any, Mapping[str, Any]], Any]:
        parts = [self._not()]
        while self._word("AND"):
            parts.append(self._not())
        if len(parts) == 1:
            return parts[0]

        def both(doc: Any, params: Mapping[str, Any]) -> Any:
            values = [part(doc, params) for part in parts]
            return False if False in values else (None if None in values else True)

        return both

    def _not(self) -> Callable[[Any, Mapping[str, Any]], Any]:
        if self._word("NOT"):
            inner = self._not()

            def negate(doc: Any, params: Mapping[str, Any]) -> Any:
                value = inner(doc, params)
                return None if not isinstance(value, bool) else not value

            return negate
        return self._comparison()

    def _comparison(self) -> Callable[[Any, Mapping[str, Any]], Any]:
        left = self._primary()
        if self._word("IS"):
            if not self._word("VALUED"):
                raise ValueError("only IS VALUED is imitated")
            return lambda doc, params: left(doc, params) not in (_MISSING, None)
        if self._word("IN"):
            right_in = self._primary()
            return lambda doc, params: _in(left(doc, params), right_in(doc, params))
        token = self._peek()
        if token is not None and token[0] == "op" and token[1] in ("=", "!=", "<", "<=", ">", ">="):
            self._position += 1
            right = self._primary()
            op = token[1]
            return lambda doc, params: _compare(op, left(doc, params), right(doc, params))
        return left

    def _primary(self) -> Callable[[Any, Mapping[str, Any]], Any]:
        token = self._peek()
        if token is None:
            raise ValueError("unexpected end of expression")
        kind, text = token
        self._position += 1
        if (kind, text) == ("op", "("):
            inner = self._or()
            self._expect(")")
            return inner
        if kind == "number":
            number = float(text) if "." in text else int(text)
            return lambda doc, params: number
        if kind == "string":
            literal = text[1:-1]
            return lambda doc, params: literal
        if kind == "param":
            name = text[1:]
            return lambda doc, params: params[name] if name in params else _raise(f"unbound parameter {text}")
        if kind == "word" and text.lower() in ("true", "false"):
            flag = text.lower() == "true"
            return lambda doc, params: flag
        if kind == "word" and self._peek() == ("op", "("):
            self._position += 1
            arguments = []
            if self._peek() != ("op", ")"):
                arguments.append(self._or())
                while self._peek() == ("op", ","):
                    self._position += 1
                    arguments.append(self._or())
            self._expect(")")
            function = self._functions.get(text.upper())
            if function is None:
                raise ValueError(f"function {text} is not imitated")
            base: Callable[[Any, Mapping[str, Any]], Any] = lambda doc, params: function(  # noqa: E731
                *(argument(doc, params) for argument in arguments), document=doc
            )
            return self._path(base)
        if kind == "word" and text == self._alias:
            return self._path(lambda doc, params: doc)
        raise ValueError(f"unexpected {text!r}")

    def _path(self, base: Callable[[Any, Mapping[str, Any]], Any]) -> Callable[[Any, Mapping[str, Any]], Any]:
        steps: list[Callable[[Any, Mapping[str, Any]], Any]] = []
        while True:
            token = self._peek()
            if token == ("op", "."):
                self._position += 1
                after = self._peek()
                if after == ("op", "["):
                    continue  # SQL++ a.[expr]
                assert after is not None and after[0] == "word", after
                self._position += 1
                name = after[1]
                steps.append(lambda doc, params, name=name: name)
            elif token == ("op", "["):
                self._position += 1
                key = self._or()
                self._expect("]")
                steps.append(key)
            else:
                break

        def read(doc: Any, params: Mapping[str, Any]) -> Any:
            value = base(doc, params)
            for step in steps:
                key = step(doc, params)
                if isinstance(value, dict) and isinstance(key, str):
                    value = value.get(key, _MISSING)
                elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
                    value = value[key]
                else:
                    value = _MISSING
            return value

        return read

    def evaluate(self, document: Any, parameters: Mapping[str, Any]) -> Any:
        return self.tree(document, parameters)


def _raise(message: str) -> Any:
    raise ValueError(message)


def _in(value: Any, values: Any) -> Any:
    if value is _MISSING or not isinstance(values, list):
        return None
    return any(_same(value, item) for item in values)


def _compare(op: str, left: Any, right: Any) -> Any:
    if left is _MISSING or right is _MISSING:
        return None
    if op in ("=", "!="):
        if isinstance(left, bool) != isinstance(right, bool):
            return None
        equal = _same(left, right)
        return equal if op == "=" else not equal
    comparable = (_is_number(left) and _is_number(right)) or (isinstance(left, str) and isinstance(right, str))
    if not comparable:
        return None
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _array_contains(array: Any, value: Any, document: Any = None) -> Any:
    if not isinstance(array, list):
        return None
    return any(_same(item, value) for item in array)


# -- Couchbase ------------------------------------------------------------------------------


class FakeCouchbaseCluster:
    """A factory of fake ``couchbase.cluster.Cluster`` objects sharing one in-memory cluster."""

    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}  # bucket -> scope -> collection -> docs
        self.indexed: set[tuple[str, str, str]] = set()
        self.statements: list[str] = []
        self.lock = threading.RLock()

    def __call__(self, connection_string: str, options: Any) -> _CouchbaseCluster:
        return _CouchbaseCluster(self)


class _CouchbaseCluster:
    def __init__(self, data: FakeCouchbaseCluster) -> None:
        self._data = data

    def wait_until_ready(self, timeout: Any) -> None:
        pass

    def bucket(self, name: str) -> _CouchbaseBucket:
        return _CouchbaseBucket(self._data, name)

    def close(self) -> None:
        pass


class _CouchbaseBucket:
    def __init__(self, data: FakeCouchbaseCluster, name: str) -> None:
        self._data = data
        self._name = name
        data.buckets.setdefault(name, {})

    def scope(self, name: str) -> _CouchbaseScope:
        return _CouchbaseScope(self._data, self._name, name)

    def collections(self) -> _CouchbaseManager:
        return _CouchbaseManager(self._data, self._name)


class _CouchbaseManager:
    def __init__(self, data: FakeCouchbaseCluster, bucket: str) -> None:
        self._data = data
        self._bucket = bucket

    def create_scope(self, scope: str) -> None:
        from couchbase.exceptions import ScopeAlreadyExistsException

        scopes = self._data.buckets[self._bucket]
        if scope in scopes:
            raise ScopeAlreadyExistsException()
        scopes[scope] = {}

    def create_collection(self, scope: str, collection: str) -> None:
        from couchbase.exceptions import CollectionAlreadyExistsException

        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_%-]{0,250}$", collection):
            raise ValueError(f"invalid collection name {collection!r}")
        collections = self._data.buckets[self._bucket][scope]
        if collection in collections:
            raise CollectionAlreadyExistsException()
        collections[collection] = {}

    def drop_collection(self, scope: str, collection: str) -> None:
        from couchbase.exceptions import CollectionNotFoundException

        if self._data.buckets[self._bucket][scope].pop(collection, None) is None:
            raise CollectionNotFoundException()
        self._data.indexed.discard((self._bucket, scope, collection))


def _couchbase_functions() -> dict[str, Callable[..., Any]]:
    return {
        "ARRAY_CONTAINS": _array_contains,
        "META": lambda value, document=None: {"id": document["__key"]},
    }


_SQLPP_SELECT = re.compile(
    r"^SELECT (?P<what>RAW META\(d\)\.id|RAW COUNT\(\*\)|d\.id, d\.content, d\.metadata, d\.content_hash, "
    r"d\.created_at, d\.embedding) FROM `(?P<collection>[^`]+)` AS d(?: WHERE (?P<where>.+?))?"
    r"(?: ORDER BY (?P<order>VECTOR_DISTANCE\(d\.embedding, \$q, \"(?P<metric>[A-Z0-9_]+)\"\)|META\(d\)\.id))?"
    r"(?: LIMIT \$k)?$"
)
_SQLPP_METRIC: dict[str, Distance] = {"COSINE": "cosine", "DOT": "dot", "L2": "euclidean"}


class _CouchbaseScope:
    def __init__(self, data: FakeCouchbaseCluster, bucket: str, scope: str) -> None:
        self._data = data
        self._bucket = bucket
        self._scope = scope

    def _docs(self, collection: str) -> dict[str, Any]:
        from couchbase.exceptions import CollectionNotFoundException

        try:
            return self._data.buckets[self._bucket][self._scope][collection]
        except KeyError:
            raise CollectionNotFoundException() from None

    def collection(self, name: str) -> _CouchbaseCollection:
        return _CouchbaseCollection(self, name)

    def query(self, statement: str, options: Any) -> Any:
        self._data.statements.append(statement)
        parameters = dict(options.get("named_parameters") or {})
        index = re.match(r"^CREATE PRIMARY INDEX IF NOT EXISTS ON `([^`]+)`$", statement)
        with self._data.lock:
            if index:
                self._docs(index.group(1))
                self._data.indexed.add((self._bucket, self._scope, index.group(1)))
                return SimpleNamespace(rows=lambda: iter([]))
            match = _SQLPP_SELECT.match(statement)
            if match is None:
                raise ValueError(f"SQL++ statement not imitated: {statement}")
            collection = match["collection"]
            if (self._bucket, self._scope, collection) not in self._data.indexed and not collection.endswith(
                "catalogue"
            ):
                raise RuntimeError(f"no index available on {collection} (create a primary index)")
            docs = [{**copy.deepcopy(doc), "__key": key} for key, doc in self._docs(collection).items()]
        if match["where"]:
            where = SqlExpression(match["where"], "d", _couchbase_functions())
            docs = [doc for doc in docs if where.evaluate(doc, parameters) is True]
        if match["metric"]:
            docs = _rank(_SQLPP_METRIC[match["metric"]], parameters["q"], [(doc, doc["embedding"]) for doc in docs])
        elif match["order"]:
            docs.sort(key=lambda doc: doc["__key"])
        if statement.endswith("LIMIT $k"):
            docs = docs[: parameters["k"]]
        what = match["what"]
        if what == "RAW COUNT(*)":
            rows: list[Any] = [len(docs)]
        elif what == "RAW META(d).id":
            rows = [doc["__key"] for doc in docs]
        else:
            fields = ("id", "content", "metadata", "content_hash", "created_at", "embedding")
            rows = [{key: doc[key] for key in fields} for doc in docs]
        return SimpleNamespace(rows=lambda: iter(rows))


class _CouchbaseCollection:
    def __init__(self, scope: _CouchbaseScope, name: str) -> None:
        self._scope = scope
        self._name = name

    def insert(self, key: str, value: Mapping[str, Any]) -> None:
        from couchbase.exceptions import DocumentExistsException

        with self._scope._data.lock:
            docs = self._scope._docs(self._name)
            if key in docs:
                raise DocumentExistsException()
            docs[key] = copy.deepcopy(dict(value))

    def upsert(self, key: str, value: Mapping[str, Any]) -> None:
        with self._scope._data.lock:
            self._scope._docs(self._name)[key] = copy.deepcopy(dict(value))

    def get(self, key: str) -> Any:
        from couchbase.exceptions import DocumentNotFoundException

        docs = self._scope._docs(self._name)
        if key not in docs:
            raise DocumentNotFoundException()
        content = copy.deepcopy(docs[key])
        return SimpleNamespace(content_as={dict: content})

    def exists(self, key: str) -> Any:
        return SimpleNamespace(exists=key in self._scope._docs(self._name))

    def remove(self, key: str) -> None:
        from couchbase.exceptions import DocumentNotFoundException

        with self._scope._data.lock:
            if self._scope._docs(self._name).pop(key, None) is None:
                raise DocumentNotFoundException()


# -- Azure Cosmos DB ------------------------------------------------------------------------

_COSMOS_FIELDS = "c.id, c.content, c.metadata, c.content_hash, c.created_at, c.embedding"
_COSMOS_QUERY = re.compile(
    r"^SELECT (?:TOP (?P<top>@k) )?(?P<what>VALUE c\.id|VALUE COUNT\(1\)|"
    + re.escape(_COSMOS_FIELDS)
    + r") FROM c(?: WHERE (?P<where>.+?))?(?: ORDER BY VectorDistance\(c\.embedding, @q\))?$"
)
_COSMOS_FUNCTION: dict[str, Distance] = {"cosine": "cosine", "dotproduct": "dot", "euclidean": "euclidean"}


class FakeCosmosClient:
    """A factory of fake ``azure.cosmos.CosmosClient`` objects sharing one in-memory account."""

    def __init__(self) -> None:
        self.databases: dict[str, dict[str, dict[str, Any]]] = {}
        self.queries: list[tuple[str, list[dict[str, Any]]]] = []
        self.lock = threading.RLock()

    def __call__(self, url: str, credential: str, **options: Any) -> _CosmosClient:
        if not credential:
            raise ValueError("a key is required")
        return _CosmosClient(self)


class _CosmosClient:
    def __init__(self, account: FakeCosmosClient) -> None:
        self._account = account

    def create_database_if_not_exists(self, id: str) -> _CosmosDatabase:
        self._account.databases.setdefault(id, {})
        return _CosmosDatabase(self._account, id)

    def get_database_client(self, database: str) -> _CosmosDatabase:
        return _CosmosDatabase(self._account, database)

    def close(self) -> None:
        pass


def _cosmos_error(kind: str) -> Exception:
    from azure.cosmos import exceptions

    if kind == "exists":
        return exceptions.CosmosResourceExistsError(status_code=409, message="Conflict")
    return exceptions.CosmosResourceNotFoundError(status_code=404, message="NotFound")


class _CosmosDatabase:
    def __init__(self, account: FakeCosmosClient, name: str) -> None:
        self._account = account
        self._name = name

    @property
    def _containers(self) -> dict[str, dict[str, Any]]:
        return self._account.databases[self._name]

    def create_container_if_not_exists(self, id: str, partition_key: Any) -> _CosmosContainer:
        self._containers.setdefault(id, {"items": {}, "policy": None, "partition": partition_key.path})
        return _CosmosContainer(self._account, self._name, id)

    def create_container(
        self,
        id: str,
        partition_key: Any,
        vector_embedding_policy: Mapping[str, Any],
        indexing_policy: Mapping[str, Any],
    ) -> _CosmosContainer:
        with self._account.lock:
            if id in self._containers:
                raise _cosmos_error("exists")
            [embedding] = vector_embedding_policy["vectorEmbeddings"]
            for index in indexing_policy.get("vectorIndexes", []):
                if index["path"] != embedding["path"]:
                    raise ValueError("a vector index must be on a path of the vector embedding policy")
            self._containers[id] = {"items": {}, "policy": embedding, "partition": partition_key.path}
        return _CosmosContainer(self._account, self._name, id)

    def get_container_client(self, id: str) -> _CosmosContainer:
        return _CosmosContainer(self._account, self._name, id)

    def delete_container(self, id: str) -> None:
        if self._containers.pop(id, None) is None:
            raise _cosmos_error("missing")


class _CosmosPaged:
    def __init__(self, items: list[Any], page_size: int | None) -> None:
        self._items = items
        self._page_size = page_size or 100

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def by_page(self) -> Iterator[list[Any]]:
        for start in range(0, len(self._items), self._page_size):
            yield self._items[start : start + self._page_size]


class _CosmosContainer:
    def __init__(self, account: FakeCosmosClient, database: str, name: str) -> None:
        self._account = account
        self._database = database
        self._name = name

    @property
    def _entry(self) -> dict[str, Any]:
        try:
            entry: dict[str, Any] = self._account.databases[self._database][self._name]
        except KeyError:
            raise _cosmos_error("missing") from None
        return entry

    def create_item(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._account.lock:
            items = self._entry["items"]
            if body["id"] in items:
                raise _cosmos_error("exists")
            items[body["id"]] = copy.deepcopy(dict(body))
        return dict(body)

    def upsert_item(self, body: Mapping[str, Any]) -> dict[str, Any]:
        policy = self._entry["policy"]
        if policy is not None and len(body[policy["path"].lstrip("/")]) != policy["dimensions"]:
            raise ValueError("vector dimension does not match the vector embedding policy")
        with self._account.lock:
            self._entry["items"][body["id"]] = copy.deepcopy(dict(body))
        return dict(body)

    def read_item(self, item: str, partition_key: str) -> dict[str, Any]:
        found = self._entry["items"].get(item)
        if found is None or partition_key != item:
            raise _cosmos_error("missing")
        return copy.deepcopy(found)  # type: ignore[no-any-return]

    def delete_item(self, item: str, partition_key: str) -> None:
        with self._account.lock:
            if partition_key != item or self._entry["items"].pop(item, None) is None:
                raise _cosmos_error("missing")

    def query_items(
        self,
        query: str,
        parameters: list[dict[str, Any]] | None = None,
        enable_cross_partition_query: bool = False,
        max_item_count: int | None = None,
    ) -> _CosmosPaged:
        parameters = parameters or []
        self._account.queries.append((query, parameters))
        if not enable_cross_partition_query:
            raise ValueError("cross-partition queries need enable_cross_partition_query=True")
        bound = {}
        for parameter in parameters:
            if not parameter["name"].startswith("@"):
                raise ValueError("parameter names start with @")
            bound[parameter["name"][1:]] = parameter["value"]
        match = _COSMOS_QUERY.match(query)
        if match is None:
            raise ValueError(f"query not imitated: {query}")
        with self._account.lock:
            items = [copy.deepcopy(item) for item in self._entry["items"].values()]
            policy = self._entry["policy"]
        if match["where"]:
            where = SqlExpression(
                match["where"],
                "c",
                {
                    "ARRAY_CONTAINS": _array_contains,
                    "IS_DEFINED": lambda value, document=None: value is not _MISSING,
                },
            )
            items = [item for item in items if where.evaluate(item, bound) is True]
        if query.endswith("ORDER BY VectorDistance(c.embedding, @q)"):
            if policy is None:
                raise ValueError("VectorDistance needs a vector embedding policy")
            distance = _COSMOS_FUNCTION[policy["distanceFunction"]]
            items = _rank(distance, bound["q"], [(item, _f32(item["embedding"])) for item in items])
        else:
            items.sort(key=lambda item: item["id"])
        if match["top"]:
            items = items[: bound["k"]]
        what = match["what"]
        if what == "VALUE COUNT(1)":
            return _CosmosPaged([len(items)], max_item_count)
        if what == "VALUE c.id":
            return _CosmosPaged([item["id"] for item in items], max_item_count)
        fields = ("id", "content", "metadata", "content_hash", "created_at", "embedding")
        return _CosmosPaged([{key: item[key] for key in fields if key in item} for item in items], max_item_count)


# -- Cassandra ------------------------------------------------------------------------------


@dataclass
class _CassandraTable:
    columns: list[str]
    dimension: int | None = None
    similarity: str | None = None
    sai: set[str] = field(default_factory=set)
    rows: dict[Any, dict[str, Any]] = field(default_factory=dict)


class _CassandraResult:
    def __init__(self, rows: list[tuple[Any, ...]], applied: bool = True, page_size: int | None = None) -> None:
        self._all = rows
        self.was_applied = applied
        self._page_size = page_size or max(1, len(rows))
        self._offset = 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._all)

    def one(self) -> tuple[Any, ...] | None:
        return self._all[0] if self._all else None

    @property
    def current_rows(self) -> list[tuple[Any, ...]]:
        return self._all[self._offset : self._offset + self._page_size]

    @property
    def has_more_pages(self) -> bool:
        return self._offset + self._page_size < len(self._all)

    def fetch_next_page(self) -> None:
        self._offset += self._page_size


_CQL_NAME = r'"?(?P<keyspace>[A-Za-z0-9_]+)"?\."?(?P<table>[A-Za-z0-9_]+)"?'
_CQL_SIMILARITY: dict[str, Distance] = {"COSINE": "cosine", "DOT_PRODUCT": "dot", "EUCLIDEAN": "euclidean"}


class FakeCassandraCluster:
    """A factory of fake ``cassandra.cluster.Cluster`` objects sharing one in-memory cluster."""

    def __init__(self) -> None:
        self.keyspaces: dict[str, dict[str, _CassandraTable]] = {}
        self.statements: list[str] = []
        self.lock = threading.RLock()

    def __call__(self, contact_points: list[str], port: int, auth_provider: Any, connect_timeout: float) -> Any:
        cluster = self

        class _Cluster:
            def connect(self) -> _CassandraSession:
                return _CassandraSession(cluster)

            def shutdown(self) -> None:
                pass

        return _Cluster()


class _CassandraSession:
    def __init__(self, cluster: FakeCassandraCluster) -> None:
        self._cluster = cluster

    def prepare(self, statement: str) -> Any:
        if statement.count("?") == 0 and "WHERE" in statement and "COUNT" not in statement:
            raise ValueError("prepared statement without bind markers")
        return SimpleNamespace(query_string=statement)

    def execute(self, statement: Any, parameters: Sequence[Any] = ()) -> _CassandraResult:
        text = statement if isinstance(statement, str) else statement.query_string
        fetch_size = getattr(statement, "fetch_size", None)
        self._cluster.statements.append(text)
        with self._cluster.lock:
            return self._run(text, list(parameters or ()), fetch_size)

    def _table(self, keyspace: str, table: str) -> _CassandraTable:
        try:
            return self._cluster.keyspaces[keyspace][table]
        except KeyError:
            raise RuntimeError(f"InvalidRequest: table {keyspace}.{table} does not exist") from None

    def _run(self, text: str, params: list[Any], fetch_size: int | None) -> _CassandraResult:
        if text.count("?") != len(params):
            raise ValueError(f"{text.count('?')} bind markers, {len(params)} values")
        if m := re.match(r'^CREATE KEYSPACE IF NOT EXISTS "?([A-Za-z0-9_]+)"? WITH replication = \{.*\}$', text):
            self._cluster.keyspaces.setdefault(m.group(1), {})
            return _CassandraResult([])
        if m := re.match(rf"^CREATE TABLE IF NOT EXISTS {_CQL_NAME} \((?P<columns>.+)\)$", text):
            tables = self._cluster.keyspaces[m["keyspace"]]
            if m["table"] not in tables:
                columns = [part.strip().split(" ")[0] for part in re.split(r",(?![^<]*>)", m["columns"])]
                dimension = re.search(r"vector<float, (\d+)>", m["columns"])
                tables[m["table"]] = _CassandraTable(columns, int(dimension.group(1)) if dimension else None)
            return _CassandraResult([])
        if m := re.match(
            rf'^CREATE CUSTOM INDEX IF NOT EXISTS "[A-Za-z0-9_]+" ON {_CQL_NAME} \((?P<column>[a-z_]+)\) '
            r"USING 'StorageAttachedIndex'(?: WITH OPTIONS = \{'similarity_function': '(?P<sim>[A-Z_]+)'\})?$",
            text,
        ):
            table = self._table(m["keyspace"], m["table"])
            table.sai.add(m["column"])
            if m["sim"]:
                table.similarity = m["sim"]
            return _CassandraResult([])
        if m := re.match(rf"^DROP TABLE IF EXISTS {_CQL_NAME}$", text):
            self._cluster.keyspaces.get(m["keyspace"], {}).pop(m["table"], None)
            return _CassandraResult([])
        if m := re.match(
            rf"^INSERT INTO {_CQL_NAME} \((?P<columns>[a-z_, ]+)\) VALUES \([?, ]+\)(?P<lwt> IF NOT EXISTS)?$", text
        ):
            table = self._table(m["keyspace"], m["table"])
            row = dict(zip([c.strip() for c in m["columns"].split(",")], params, strict=True))
            if "embedding" in row:
                if len(row["embedding"]) != table.dimension:
                    raise ValueError("vector dimension mismatch")
                row["embedding"] = _f32(row["embedding"])
            key = row[table.columns[0]]
            if m["lwt"] and key in table.rows:
                return _CassandraResult([(False,)], applied=False)
            table.rows[key] = copy.deepcopy(row)
            return _CassandraResult([(True,)] if m["lwt"] else [])
        if m := re.match(rf"^DELETE FROM {_CQL_NAME} WHERE (?P<key>[a-z_]+) (?P<op>=|IN) \?$", text):
            table = self._table(m["keyspace"], m["table"])
            keys = params[0] if m["op"] == "IN" else [params[0]]
            for key in keys:
                table.rows.pop(key, None)
            return _CassandraResult([])
        if m := re.match(
            rf"^SELECT (?P<what>[a-z_, ]+|COUNT\(\*\)) FROM {_CQL_NAME}(?: WHERE (?P<where>.+?))?"
            r"(?P<ann> ORDER BY embedding ANN OF \? LIMIT \?)?$",
            text,
        ):
            return self._select(m, params, fetch_size)
        raise ValueError(f"CQL statement not imitated: {text}")

    def _select(self, m: re.Match[str], params: list[Any], fetch_size: int | None) -> _CassandraResult:
        table = self._table(m["keyspace"], m["table"])
        rows = list(table.rows.values())
        if m["where"]:
            where = m["where"]
            if key := re.fullmatch(r"([a-z_]+) = \?", where):
                value = params.pop(0)
                rows = [row for row in rows if row.get(key.group(1)) == value]
            elif key := re.fullmatch(r"([a-z_]+) IN \?", where):
                wanted = params.pop(0)
                rows = [row for row in rows if row.get(key.group(1)) in wanted]
            else:
                clauses = where.split(" AND ")
                if any(clause != "ix CONTAINS ?" for clause in clauses):
                    raise ValueError(f"WHERE clause not imitated: {where}")
                if "ix" not in table.sai:
                    raise RuntimeError("InvalidRequest: CONTAINS needs an index (or ALLOW FILTERING)")
                tokens = [params.pop(0) for _ in clauses]
                rows = [row for row in rows if all(token in row["ix"] for token in tokens)]
        if m["ann"]:
            if table.similarity is None:
                raise RuntimeError("InvalidRequest: ANN ordering needs a SAI vector index")
            vector, limit = params
            rows = _rank(_CQL_SIMILARITY[table.similarity], vector, [(row, row["embedding"]) for row in rows])[:limit]
        else:
            rows.sort(key=lambda row: str(row[table.columns[0]]))
        if m["what"] == "COUNT(*)":
            return _CassandraResult([(len(rows),)])
        columns = [c.strip() for c in m["what"].split(",")]
        out = [tuple(copy.deepcopy(row.get(column)) for column in columns) for row in rows]
        return _CassandraResult(out, page_size=fetch_size)


def float_equal(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7)
