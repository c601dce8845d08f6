"""Redis glob patterns, matched as Redis matches them and in time linear in the key's length.

``keys(pattern)`` promises Redis semantics on every state backend; the backends that
match keys themselves (memory, the document stores) use :func:`compile_glob`. Redis
(``stringmatchlen`` in its ``util.c``) matches *bytes*: the key's and the pattern's UTF-8
bytes, so ``?`` is one byte, and a bracket holds bytes. The rules, including its quirks:

- ``*`` any run of bytes; ``?`` one byte; ``\\x`` the byte ``x`` (a trailing ``\\`` is itself);
- ``[...]`` one byte of the set, ``[^...]`` one byte outside it; inside, ``\\x`` is ``x``,
  ``a-z`` a range whose ends may come in either order, compared as C ``char`` (signed, so
  bytes 0x80-0xFF sort below 0x00); ``]`` right after ``[`` closes an empty set; an
  unclosed bracket ends with the pattern;
- a pattern needing more than 1000 ``*`` groups before its end matches nothing.

:func:`compile_glob` turns the pattern into its star-free segments, each a fixed-length
regex of byte classes. Fixed-length segments are placed leftmost-first one after the
other (the first at the start, the last at the end), which is exact for globs and costs
O(len(key) * len(pattern)): no backtracking, so ``*:*:*:*:*:nomatch`` is as fast as ``*``.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["GlobMatcher", "compile_glob", "glob_escape", "glob_literal_prefix"]

_ALL = frozenset(range(256))
_MAX_STARS = 1000  # Redis's recursion limit on '*' groups (util.c: nesting > 1000)


def _signed(byte: int) -> int:
    return byte - 256 if byte > 127 else byte


def _bracket(pattern: bytes, index: int) -> tuple[frozenset[int], int]:
    """The bytes ``[`` at ``pattern[index - 1]`` accepts, and the index past it, as Redis reads it."""
    length = len(pattern)
    negate = index < length and pattern[index] == ord("^")
    if negate:
        index += 1
    accepted: set[int] = set()
    while True:
        if index < length - 1 and pattern[index] == ord("\\"):
            index += 1
            accepted.add(pattern[index])
        elif (index < length and pattern[index] == ord("]")) or index >= length:
            break
        elif index + 2 < length and pattern[index + 1] == ord("-"):
            low, high = sorted((_signed(pattern[index]), _signed(pattern[index + 2])))
            accepted.update(byte for byte in range(256) if low <= _signed(byte) <= high)
            index += 2
        else:
            accepted.add(pattern[index])
        index += 1
    return (_ALL - accepted if negate else frozenset(accepted)), index + 1


def _tokens(pattern: bytes) -> list[frozenset[int] | None]:
    """The pattern as byte sets (one byte each) and ``None`` for a ``*`` group."""
    tokens: list[frozenset[int] | None] = []
    index, length = 0, len(pattern)
    while index < length:
        byte = pattern[index]
        if byte == ord("*"):
            if not tokens or tokens[-1] is not None:
                tokens.append(None)
            index += 1
        elif byte == ord("?"):
            tokens.append(_ALL)
            index += 1
        elif byte == ord("["):
            accepted, index = _bracket(pattern, index + 1)
            tokens.append(accepted)
        else:
            if byte == ord("\\") and index + 1 < length:
                index += 1
            tokens.append(frozenset((pattern[index],)))
            index += 1
    return tokens


def _byte_class(accepted: frozenset[int]) -> bytes:
    if accepted == _ALL:
        return b"."
    if not accepted:
        return b"(?!)"
    if len(accepted) == 1:
        return re.escape(bytes(accepted))
    runs: list[bytes] = []
    ordered = sorted(accepted)
    start = previous = ordered[0]
    for byte in [*ordered[1:], -1]:
        if byte == previous + 1:
            previous = byte
            continue
        runs.append(b"\\x%02x" % start if start == previous else b"\\x%02x-\\x%02x" % (start, previous))
        start = previous = byte
    return b"[" + b"".join(runs) + b"]"


class GlobMatcher:
    """A compiled Redis glob: ``fullmatch(key)`` is true when Redis's ``KEYS pattern`` would list ``key``."""

    __slots__ = ("_first", "_last", "_lengths", "_middle", "_never", "_whole")

    def __init__(self, pattern: str) -> None:
        tokens = _tokens(pattern.encode("utf-8", "surrogatepass"))
        segments: list[list[frozenset[int]]] = [[]]
        for token in tokens:
            if token is None:
                segments.append([])
            else:
                segments[-1].append(token)
        compiled = [re.compile(b"".join(_byte_class(t) for t in segment), re.DOTALL) for segment in segments]
        self._lengths = [len(segment) for segment in segments]
        stars = len(segments) - 1 - (1 if tokens and tokens[-1] is None else 0)
        self._never = stars > _MAX_STARS
        self._whole = compiled[0] if len(segments) == 1 else None
        self._first, self._middle, self._last = compiled[0], compiled[1:-1], compiled[-1]

    def fullmatch(self, key: str) -> bool:
        if self._never:
            return False
        data = key.encode("utf-8", "surrogatepass")
        if self._whole is not None:
            return self._whole.fullmatch(data) is not None
        lengths = self._lengths
        if len(data) < sum(lengths) or self._first.match(data) is None:
            return False
        position = lengths[0]
        for segment in self._middle:
            found = segment.search(data, position)
            if found is None:
                return False
            position = found.end()
        tail = len(data) - lengths[-1]
        return tail >= position and self._last.match(data, tail) is not None


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> GlobMatcher:
    """The matcher of ``pattern`` (cached: stores match many keys against one pattern)."""
    return GlobMatcher(pattern)


def glob_literal_prefix(pattern: str) -> str:
    """The literal text every key matching ``pattern`` starts with (``\\`` escapes resolved)."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char in "*?[":
            break
        if char == "\\" and index + 1 < len(pattern):
            index += 1
            char = pattern[index]
        out.append(char)
        index += 1
    return "".join(out)


_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


def glob_escape(text: str) -> str:
    """Escape glob metacharacters so that ``text`` matches only itself."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)
