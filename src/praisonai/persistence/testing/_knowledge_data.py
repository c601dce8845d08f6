"""The deterministic data of the knowledge contract suite: vectors, documents, the filter catalogue.

Every expected result is computed from it in pure Python by :mod:`.knowledge`.
"""

from __future__ import annotations

import math
import random
import struct
import uuid
from collections.abc import Sequence
from typing import Any

from ..knowledge.base import KnowledgeDocument

SCORE_TOLERANCE = 1e-4
"""Scores must match the reference within this, absolute and relative."""

# -- deterministic data ---------------------------------------------------------


def _float32(value: float) -> float:
    # Vectors exactly representable in float32 score the same on float32 and float64 engines.
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


def _vectors(seed: int, count: int, dimension: int, *, exact32: bool = True) -> list[list[float]]:
    generator = random.Random(seed)
    convert = _float32 if exact32 else float
    return [[convert(generator.uniform(-1.0, 1.0)) for _ in range(dimension)] for _ in range(count)]


def _unique(prefix: str = "kc") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def _close(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=SCORE_TOLERANCE, abs_tol=SCORE_TOLERANCE)


def _document(document_id: str, embedding: Sequence[float], content: str = "", **metadata: Any) -> KnowledgeDocument:
    return KnowledgeDocument(
        id=document_id,
        content=content or f"content of {document_id}",
        embedding=list(embedding),
        metadata=metadata or None,
    )


FILTER_DIMENSION = 8
FILTER_DOCUMENTS = 48


def _filter_metadata(index: int) -> dict[str, Any]:
    """Metadata with every JSON scalar type, mixed types in one field, and fields absent on some documents."""
    metadata: dict[str, Any] = {
        "i": index,
        "group": "abc"[index % 3],
        "ratio": index * 0.25,
        "lang": ("en", "de", "fr", "es")[index % 4],
        "flag": index % 2 == 0,
        "kind": (True, 1, "1", 1.5, False, 0)[index % 6],
        "tag": None if index % 7 == 0 else f"t{index % 4}",
    }
    if index % 11 == 0:
        del metadata["group"]
    if index % 5 == 0:
        metadata["opt"] = index
    return metadata


FILTER_DATA: list[tuple[str, list[float], dict[str, Any]]] = [
    (f"d{index:03d}", vector, _filter_metadata(index))
    for index, vector in enumerate(_vectors(7, FILTER_DOCUMENTS, FILTER_DIMENSION))
]

FILTERS: dict[str, dict[str, Any]] = {
    "eq-implicit": {"group": "a"},
    "eq-operator": {"group": {"$eq": "b"}},
    "eq-int": {"i": 7},
    "eq-float": {"ratio": 2.5},
    "eq-int-matches-float": {"ratio": 3},
    "eq-true": {"flag": True},
    "eq-false": {"flag": False},
    "true-is-not-1": {"kind": True},
    "1-is-not-true": {"kind": 1},
    "str-is-not-int": {"kind": "1"},
    "0-is-not-false": {"kind": {"$eq": 0}},
    "ne-str-missing-matches": {"group": {"$ne": "a"}},
    "ne-bool": {"flag": {"$ne": True}},
    "ne-1-keeps-true": {"kind": {"$ne": 1}},
    "gt": {"i": {"$gt": 40}},
    "gte": {"i": {"$gte": 40}},
    "lt": {"i": {"$lt": 5}},
    "lte": {"i": {"$lte": 5}},
    "range": {"i": {"$gte": 10, "$lt": 20}},
    "float-range": {"ratio": {"$gt": 1.25, "$lte": 4.75}},
    "gt-str": {"lang": {"$gt": "en"}},
    "lte-str": {"lang": {"$lte": "en"}},
    "gt-number-skips-bool-and-str": {"kind": {"$gt": 0}},
    "lt-str-skips-numbers": {"kind": {"$lt": "2"}},
    "gt-str-vs-number-field": {"i": {"$gt": "5"}},
    "in-str": {"lang": {"$in": ["en", "fr"]}},
    "in-int": {"i": {"$in": [1, 2, 3, 100]}},
    "in-mixed-types": {"kind": {"$in": [True, "1"]}},
    "in-0-is-not-false": {"kind": {"$in": [0]}},
    "nin-str": {"lang": {"$nin": ["en", "de"]}},
    "nin-missing-matches": {"group": {"$nin": ["a", "b"]}},
    "partial-field-eq": {"opt": 5},
    "partial-field-ne": {"opt": {"$ne": 5}},
    "partial-field-gt": {"opt": {"$gt": 0}},
    "absent-field-eq": {"nope": "x"},
    "absent-field-ne": {"nope": {"$ne": "x"}},
    "absent-field-in": {"nope": {"$in": ["x"]}},
    "absent-field-nin": {"nope": {"$nin": ["x"]}},
    "two-fields-are-and": {"group": "a", "flag": True},
    "and": {"$and": [{"i": {"$gte": 10}}, {"lang": "en"}]},
    "or": {"$or": [{"group": "a"}, {"i": {"$lt": 3}}]},
    "nested": {"$or": [{"$and": [{"group": "b"}, {"flag": True}]}, {"lang": {"$in": ["es"]}}]},
    "field-and-or": {"flag": False, "$or": [{"lang": "de"}, {"opt": {"$gte": 20}}]},
}

NULL_FILTERS: dict[str, dict[str, Any]] = {
    "eq-null": {"tag": None},
    "eq-operator-null": {"tag": {"$eq": None}},
    "ne-null": {"tag": {"$ne": None}},
    "in-with-null": {"tag": {"$in": [None, "t1"]}},
    "nin-null": {"tag": {"$nin": [None]}},
}

DELETE_FILTERS = (
    "eq-implicit",
    "true-is-not-1",
    "ne-str-missing-matches",
    "gt",
    "gte",
    "lt",
    "lte",
    "in-str",
    "nin-missing-matches",
    "absent-field-ne",
    "two-fields-are-and",
    "and",
    "or",
    "eq-null",
)

MALFORMED_FILTERS: dict[str, Any] = {
    "empty": {},
    "unknown-top-operator": {"$not": {"a": 1}},
    "unknown-field-operator": {"a": {"$regex": "x"}},
    "list-value": {"a": [1, 2]},
    "dict-in-eq": {"a": {"$eq": {"b": 1}}},
    "empty-and": {"$and": []},
    "or-not-a-list": {"$or": {"a": 1}},
    "in-not-a-list": {"a": {"$in": "abc"}},
    "gt-null": {"a": {"$gt": None}},
    "gt-bool": {"a": {"$gt": True}},
    "empty-operators": {"a": {}},
    "not-a-mapping": ["a", 1],
}

ROUND_TRIP_METADATA: dict[str, Any] = {
    "unicode": "héllo ✓ 日本語 \U0001f600",
    "true": True,
    "one": 1,
    "zero": 0,
    "false": False,
    "float": 0.1,
    "tiny": -3.25e-10,
    "big_int": 2**53,
    "none": None,
    "empty_str": "",
    "list": [True, 1, "1", 2.5, None, [], {}],
    "nested": {"a": {"b": [1, {"c": None, "d": "ü"}]}, "empty": {}},
    "with space": "x",
    "quote'\"": "'; DROP TABLE documents; --",
}


def _assert_same_json(actual: Any, expected: Any, path: str = "metadata") -> None:
    """Equal, and bool stays bool, int stays int, str stays str (``True == 1`` would hide a broken round trip)."""
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        assert type(actual) is type(expected) and actual == expected, f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, int):
        assert type(actual) is int and actual == expected, f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, float):
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), f"{path}: {actual!r} is not a number"
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{path}: {actual!r} != {expected!r}"
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            _assert_same_json(left, right, f"{path}[{index}]")
    else:
        assert isinstance(expected, dict)
        assert isinstance(actual, dict) and set(actual) == set(expected), f"{path}: {actual!r} != {expected!r}"
        for key, value in expected.items():
            _assert_same_json(actual[key], value, f"{path}.{key}")


def _ids(documents: Sequence[KnowledgeDocument]) -> list[str]:
    return [document.id for document in documents]
