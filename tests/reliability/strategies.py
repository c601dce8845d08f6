"""Hypothesis strategies of hostile input, shared by the reliability suite.

Text is built from fragments that mean something to a file system, to SQL, to query
languages (MongoDB/PostgREST operators, RediSearch, globs), to encoders (NUL, lone
surrogates, line separators) and to parsers (quotes, escapes, percent-encoding), mixed
with random text; plus strings of one mebibyte and JSON nested past every limit.
"""

from __future__ import annotations

import sys
from typing import Any

from hypothesis import strategies as st

SECRET = "Sup3rS3cretHunter2XyQ9w8"  # also valid base64 (Cosmos DB account keys are)
"""Put wherever a secret goes; it must never show up in a repr, a message or a log record."""

FRAGMENTS = (
    "../",
    "..\\",
    "/etc/passwd",
    "%2e%2e%2f",
    "%00",
    "'; DROP TABLE canary; --",
    '"; DROP TABLE canary; --',
    "`; DROP TABLE canary; #",
    "' OR '1'='1",
    "\\",
    "$where",
    "$gt",
    "$ne",
    "{$ne: 1}",
    "%s",
    "%(x)s",
    "?",
    ":1",
    "$1",
    "*",
    "[a-z]",
    "]",
    "{}",
    "@field:{x}",
    "|",
    "\x00",
    "\ud800",
    "\udfff",
    "\n",
    "\r\n",
    "\t",
    "\u2028",
    "\u200b",
    "😀",
    "é",
    "NULL",
    "__proto__",
    "_id",
    "CON",
    ".",
    "..",
    "~",
    " ",
    "%",
    "-",
    "/",
    ";",
    "--",
    "/*",
    "#",
    'in.(a,"b,c")',
    "eq.x",
)

MEBIBYTE = 1 << 20
BIG_STRINGS = ("x" * MEBIBYTE, "é" * MEBIBYTE, "'; DROP TABLE canary; --" * (MEBIBYTE // 24))


UNSTORABLE = frozenset({"\x00", "\ud800", "\udfff"})
"""Fragments that some engines cannot hold at all: picked less often, so that most examples get stored."""
_STORABLE = tuple(fragment for fragment in FRAGMENTS if fragment not in UNSTORABLE)


def hostile_text(max_fragments: int = 8) -> st.SearchStrategy[str]:
    """Non-empty text most engines can hold, made of hostile fragments; :func:`poisoned` adds the rest."""
    fragment = st.one_of(st.sampled_from(_STORABLE), st.text(min_size=1, max_size=6))
    return st.lists(fragment, min_size=1, max_size=max_fragments).map("".join)


POISONS = (*sorted(UNSTORABLE), "<empty>", "<too long>", "<wide>")


def poisoned(fields: tuple[str, ...]) -> st.SearchStrategy[tuple[str, str] | None]:
    """Half the time None, else (one of ``fields``, a poison for it).

    The poisons: a NUL, a lone surrogate, empty, too long (1,100 more characters), too wide (600
    more four-byte characters: within the 1,024-character key limit, past the engines' byte limits).
    """
    return st.one_of(st.none(), st.tuples(st.sampled_from(fields), st.sampled_from(POISONS)))


def poison(value: str, field: str, plan: tuple[str, str] | None) -> str:
    """``value`` spoiled as ``plan`` says, if ``plan`` names ``field``."""
    if plan is None or plan[0] != field:
        return value
    if plan[1] == "<empty>":
        return ""
    if plan[1] == "<too long>":
        return value + "x" * 1100
    if plan[1] == "<wide>":
        return value + "😀" * 600
    middle = len(value) // 2
    return value[:middle] + plan[1] + value[middle:]


def hostile_or_big_text() -> st.SearchStrategy[str]:
    return st.one_of(hostile_text(), hostile_text(), hostile_text(), st.sampled_from(BIG_STRINGS))


def nested(depth: int, leaf: Any = "leaf") -> Any:
    value: Any = leaf
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


def json_values() -> st.SearchStrategy[Any]:
    """Plain JSON: hostile keys and strings, big strings, and nesting up to 300 levels (the limit is 200)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**53), max_value=2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        hostile_text(),
        st.sampled_from(FRAGMENTS),  # NUL and lone surrogates included: JSON text escapes them
    )
    keys = st.one_of(hostile_text(4), st.sampled_from(FRAGMENTS))
    trees = st.recursive(
        scalars,
        lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
        max_leaves=12,
    )
    return st.one_of(
        trees,
        trees,
        trees,
        st.sampled_from(BIG_STRINGS),
        st.integers(min_value=150, max_value=300).map(nested),
    )


def filter_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-5, max_value=25), st.floats(-5, 25), hostile_text(4)
    )


def knowledge_filters(fields: list[str]) -> st.SearchStrategy[Any]:
    """Portable filters over ``fields`` and hostile names, with malformed ones mixed in."""
    names = st.one_of(st.sampled_from(fields), hostile_text(3))
    comparisons = st.one_of(
        st.builds(lambda name, value: {name: value}, names, filter_scalars()),
        st.builds(
            lambda name, op, value: {name: {op: value}},
            names,
            st.sampled_from(("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")),
            filter_scalars(),
        ),
        st.builds(
            lambda name, op, values: {name: {op: values}},
            names,
            st.sampled_from(("$in", "$nin")),
            st.lists(filter_scalars(), max_size=4),
        ),
    )
    malformed = st.one_of(
        st.builds(lambda name, op: {name: {op: 1}}, names, st.sampled_from(("$where", "$regex", "$exists", "$expr"))),
        st.builds(lambda name: {name: {"$in": "not a list"}}, names),
        st.builds(lambda name: {name: {"nested": {"$gt": 1}}}, names),
        st.just({"$where": "sleep(1000)"}),
        st.just({"$or": []}),
        st.just({}),
        st.integers(min_value=33, max_value=60).map(lambda depth: _deep_filter(depth)),
    )
    trees = st.recursive(
        comparisons,
        lambda children: st.builds(
            lambda op, parts: {op: parts}, st.sampled_from(("$and", "$or")), st.lists(children, min_size=1, max_size=3)
        ),
        max_leaves=6,
    )
    return st.one_of(trees, trees, trees, malformed)


def _deep_filter(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"k": 1}
    for _ in range(depth):
        node = {"$and": [node]}
    return node


# -- extremes: numbers, counts, TTLs, quoted ids (test_extremes.py) ----------------------------------------------

EXTREME_INTEGERS = (2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 2**64 + 1, 10**300, 10**4000, 10**5000)
EXTREME_FLOATS = (1.7976931348623157e308, -1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, -0.0, 1e-300)
EXTREME_COUNTS = (1, 2**31, sys.maxsize, 2**63, 2**64, 10**30)
EXTREME_TTLS = (60.0, 9.9e9, 1e10, 1e10 + 1, 1e12, 1e15, 1e18, float(2**63), 1e300)


def extreme_numbers() -> st.SearchStrategy[Any]:
    """Numbers beyond int64 / float64 precision and range, and at their edges."""
    return st.one_of(st.sampled_from(EXTREME_INTEGERS), st.sampled_from(EXTREME_FLOATS))


def extreme_counts() -> st.SearchStrategy[int]:
    """Limits and offsets far beyond any store: each means "all" (limit) or "past the end" (offset)."""
    return st.sampled_from(EXTREME_COUNTS)


def extreme_ttls() -> st.SearchStrategy[float]:
    return st.sampled_from(EXTREME_TTLS)


def quoted_ids() -> st.SearchStrategy[str]:
    """Ids made of backslashes, quotes and the characters SQL LIKE, JSON and shells treat specially."""
    pieces = st.sampled_from(["\\", "\\\\", "'", '"', "''", '\\"', "%", "_", "`", "a", "é", "\\u0000", "\\n", " "])
    return st.lists(pieces, min_size=1, max_size=6).map("".join)
