"""The shared glob matcher (``_glob.py``) against a real Redis server as the oracle.

Redis applies the very same matcher (``stringmatchlen``) to ``SSCAN ... MATCH`` as to
``KEYS``, so the keys are put in one set under a fresh name: nothing else in the
server is touched. Every state backend runs the contract's ``GLOB_CASES``; here those
expectations are checked against Redis itself, and random patterns against ours.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from praisonai.persistence._glob import compile_glob, glob_escape, glob_literal_prefix
from praisonai.persistence.registry import STATE_STORES
from praisonai.persistence.testing.state import GLOB_CASES, GLOB_KEYS

Oracle = Callable[[str, list[str]], list[str]]


@pytest.fixture(scope="module")
def redis_match(redis_url: str) -> Iterator[Oracle]:
    """``redis_match(pattern, keys)``: the keys Redis's matcher accepts, sorted."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(redis_url)
    name = f"praisonai-test-glob:{uuid.uuid4().hex}"

    def match(pattern: str, keys: list[str]) -> list[str]:
        client.delete(name)
        client.sadd(name, *keys)
        found = {member.decode("utf-8") for member in client.sscan_iter(name, match=pattern, count=10_000)}
        return sorted(found)

    yield match
    client.delete(name)
    client.close()


@pytest.mark.parametrize(("pattern", "expected"), GLOB_CASES)
def test_the_contract_cases_are_what_redis_answers(redis_match: Oracle, pattern: str, expected: list[str]) -> None:
    assert redis_match(pattern, GLOB_KEYS) == expected


_PATTERN_ALPHABET = st.sampled_from(["a", "b", "Z", "z", ":", "-", "^", "!", "*", "?", "[", "]", "\\", "\u00e9"])
_KEY_ALPHABET = st.sampled_from(["a", "b", "Z", "z", ":", "-", "^", "*", "?", "[", "]", "\\", "\u00e9", "\U0001f600"])


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pattern=st.lists(_PATTERN_ALPHABET, max_size=8).map("".join),
    keys=st.lists(st.lists(_KEY_ALPHABET, min_size=1, max_size=6).map("".join), min_size=1, max_size=12),
)
def test_random_patterns_match_as_redis_does(redis_match: Oracle, pattern: str, keys: list[str]) -> None:
    matcher = compile_glob(pattern)
    assert sorted({key for key in keys if matcher.fullmatch(key)}) == redis_match(pattern, keys)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(text=st.text(alphabet=_KEY_ALPHABET, min_size=1, max_size=8))
def test_an_escaped_text_matches_only_itself_and_its_prefix_is_literal(text: str) -> None:
    assert compile_glob(glob_escape(text)).fullmatch(text)
    assert glob_literal_prefix(glob_escape(text) + "*") == text
    assert not compile_glob(glob_escape(text)).fullmatch(text + "a")


def test_many_stars_do_not_backtrack_on_a_store() -> None:
    # Before the shared matcher this took 24 s on memory, holding the store's lock: the regex
    # backtracked through every way of placing eight stars. Each segment is now placed once.
    store = STATE_STORES.create("memory")
    for index in range(200):
        store.set(":".join(["k"] * 12) + f":{index}", index)
    assert store.keys("*:*:*:*:*:*:*:*:nomatch") == []
    assert len(store.keys("*:*:*:*:*:*:*:*:1*")) == 111  # 1, 10-19, 100-199
    long_key = ":" * 20_000 + "x"
    store.set("long", 1)
    assert compile_glob("*:*:*:*:*:*:*:*:*:*:y").fullmatch(long_key) is False
    assert compile_glob("*:*:*:*:*:*:*:*:*:*:x").fullmatch(long_key) is True


def test_more_than_a_thousand_star_groups_match_nothing_as_in_redis(redis_match: Oracle) -> None:
    pattern = "a*" * 1001 + "b"
    keys = ["a" * 1001 + "b", "ab"]
    assert redis_match(pattern, keys) == []
    assert not any(compile_glob(pattern).fullmatch(key) for key in keys)
    assert compile_glob("a*" * 999 + "b").fullmatch("a" * 999 + "b")
