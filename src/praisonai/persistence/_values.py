"""Value checks shared by every store: JSON encoding, ids, keys, TTLs, limits.

Kept free of drivers and pydantic so that every backend, sync or async, applies
exactly the same rules. They raise :class:`~.errors.StoreError` subclasses; a store
calls them under its call guard, which names the backend in the message, so
``backend`` is optional (given, it is stamped at once).
"""

from __future__ import annotations

import json
import json.encoder as _json_encoder
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from functools import cache
from typing import Any, cast

from typing_extensions import Self

from .errors import InvalidInputError, NotJSONSerializableError

__all__ = [
    "DictForm",
    "MAX_COUNT",
    "MAX_ID_LENGTH",
    "MAX_JSON_DEPTH",
    "MAX_KEY_LENGTH",
    "MAX_TTL",
    "check_key",
    "check_ttl",
    "check_id",
    "check_limit",
    "check_text",
    "dump_json",
    "dump_optional_json",
    "encode_plain_json",
    "load_json",
    "load_optional_json",
    "new_id",
    "plain_id",
    "plain_ids",
    "plain_json_dump",
    "plain_json_values",
    "plain_texts",
]

MAX_ID_LENGTH = 255
MAX_KEY_LENGTH = 1024
MAX_JSON_DEPTH = 200
MAX_TTL = 10**10  # seconds
MAX_COUNT = 2**62  # libSQL refuses 2**63 - 1 as a LIMIT ("datatype mismatch")

_JSON_SCALARS = (str, int, float, bool, type(None))
_encode: Callable[[object], str] = json.JSONEncoder(
    ensure_ascii=True, allow_nan=False, separators=(",", ":"), check_circular=False
).encode
_make_c_encoder = getattr(_json_encoder, "c_make_encoder", None)  # None without the _json accelerator
if _make_c_encoder is not None:
    # What JSONEncoder.encode runs, built once instead of per call (~1 µs of a small dict's 1.7 µs):
    # (markers, default, encode_str, indent, key_separator, item_separator, sort_keys, skipkeys, allow_nan).
    # No circularity check: every value is walked (depth-limited) by _plain_json or _check_json first.
    _c_encode = _make_c_encoder(
        None,
        _json_encoder.JSONEncoder().default,
        _json_encoder.encode_basestring_ascii,
        None,
        ":",
        ",",
        False,
        False,
        False,
    )

    def _encode(value: object) -> str:
        return "".join(_c_encode(value, 0))


_decode = json.JSONDecoder().decode


def _check_json(value: object, backend: str | None, path: str, depth: int) -> None:
    # json.dumps would silently turn int keys into strings and tuples into
    # lists; we refuse anything that would not come back exactly as it went in.
    if depth > MAX_JSON_DEPTH:
        # Plain JSON, only too deep for the engines (and for a recursive decoder): an oversized argument.
        shown = path if len(path) <= 80 else f"{path[:60]}...{path[-17:]}"
        raise InvalidInputError(f"value nested deeper than {MAX_JSON_DEPTH} levels at {shown}", backend=backend)
    if isinstance(value, _JSON_SCALARS):
        if isinstance(value, float) and not math.isfinite(value):
            raise NotJSONSerializableError(f"{value!r} at {path} is not a finite number", backend=backend)
        return
    if isinstance(value, (list, tuple)):  # tuples are stored as (and come back as) lists
        for index, item in enumerate(value):
            _check_json(item, backend, f"{path}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotJSONSerializableError(
                    f"dict key {key!r} at {path} is a {type(key).__name__}; JSON keys must be str",
                    backend=backend,
                )
            _check_json(item, backend, f"{path}.{key}", depth + 1)
        return
    raise NotJSONSerializableError(
        f"value of type {type(value).__name__} at {path} is not JSON (use dict, list, str, int, float, bool or None)",
        backend=backend,
    )


def _plain_json(value: object, depth: int) -> bool:
    """A quick yes for the usual values (built-in types only, no paths built); no means: ask ``_check_json``."""
    cls = type(value)
    if cls is str or cls is int or cls is bool or value is None:
        return True
    if cls is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    if depth >= MAX_JSON_DEPTH:
        return False  # its items would be too deep: _check_json says where
    # Scalar items are checked inline: most items are scalars, and a call per item costs more than the check.
    items: Iterable[object]
    if cls is dict:
        if not all(type(key) is str for key in value):  # type: ignore[attr-defined]
            return False
        items = value.values()  # type: ignore[attr-defined]
    elif cls is list or cls is tuple:
        items = value  # type: ignore[assignment]
    else:
        return False
    for item in items:
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if not (math.isfinite(item) if kind is float else _plain_json(item, depth + 1)):  # type: ignore[arg-type]
            return False
    return True


def dump_json(value: object, backend: str | None = None, what: str = "value") -> str:
    """Encode plain JSON, raising :class:`NotJSONSerializableError` (a TypeError) otherwise.

    JSON nested deeper than :data:`MAX_JSON_DEPTH` raises :class:`InvalidInputError` (a ValueError).
    """
    if not isinstance(value, _JSON_SCALARS):
        # _check_json names the offending path, building a path string per item: only run it
        # when the quick check cannot vouch for the value (an error, or a subclass of a JSON type).
        if not _plain_json(value, 0):
            _check_json(value, backend, what, 0)
    elif isinstance(value, float) and not math.isfinite(value):
        raise NotJSONSerializableError(f"{what} {value!r} is not a finite number", backend=backend)
    try:
        return _encode(value)
    except ValueError as error:  # an int of more digits than Python converts to text (sys.get_int_max_str_digits)
        raise InvalidInputError(f"{what} cannot be encoded as JSON: {error}", backend=backend) from None


def dump_optional_json(value: object, backend: str | None = None, what: str = "value") -> str | None:
    return None if value is None else dump_json(value, backend, what)


def load_json(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return _decode(text)


def load_optional_json(text: str | bytes | None) -> Any:
    return None if text is None else load_json(text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_unicode(value: str, backend: str | None, what: str) -> None:
    # A lone surrogate has no UTF-8 encoding: every engine (and file name) would refuse it, each with its
    # own error, some only after a round trip. JSON values are not checked: they travel as \u escapes.
    if not value.isascii():
        found = _SURROGATE.search(value)
        if found is not None:
            raise InvalidInputError(
                f"{what} is not valid Unicode: lone surrogate {found.group()!r} at position {found.start()}",
                backend=backend,
            )


def plain_ids(values: Sequence[object], longest: int = MAX_ID_LENGTH) -> bool:
    """A quick yes: every value is a ``str`` (exactly) that :func:`check_id` accepts (with ``longest``
    :data:`MAX_KEY_LENGTH`: that :func:`check_key` accepts).

    At C speed over the whole sequence (a batch's ids); no means "ask :func:`check_id`", which
    says what is wrong with which one.
    """
    if not values or set(map(type, values)) != _JUST_STR or min(map(len, values)) == 0:  # type: ignore[arg-type]
        return False
    if max(map(len, values)) > longest:  # type: ignore[arg-type]
        return False
    joined = "".join(values)  # type: ignore[arg-type]
    return "\x00" not in joined and (joined.isascii() or _SURROGATE.search(joined) is None)


def plain_texts(values: Sequence[object]) -> bool:
    """A quick yes: every value is a ``str`` (exactly) that :func:`check_text` accepts (see :func:`plain_ids`)."""
    if not values or set(map(type, values)) != _JUST_STR:
        return False
    joined = "".join(values)  # type: ignore[arg-type]
    return joined.isascii() or _SURROGATE.search(joined) is None


def plain_id(value: object) -> bool:
    """A quick yes: ``value`` is a ``str`` (exactly) that :func:`check_id` accepts."""
    return (
        type(value) is str
        and 0 < len(value) <= MAX_ID_LENGTH
        and "\x00" not in value
        and (value.isascii() or _SURROGATE.search(value) is None)
    )


def plain_json_dump(value: object) -> str | None:
    """``value`` as JSON text when :func:`dump_json` would give it without a doubt, else None (ask it)."""
    if not _plain_json(value, 0):
        return None
    try:
        return _encode(value)
    except ValueError:
        return None


def plain_json_values(values: Sequence[object]) -> bool:
    """A quick yes: every value is None or plain JSON that :func:`dump_json` takes (one pass over all)."""
    return _plain_json(values if type(values) is list else list(values), -1)


_JUST_STR = {str}

encode_plain_json: Callable[[object], str] = _encode
"""The encoder of :func:`dump_json`, for values a quick check above has vouched for (raises ValueError
for an int too long to write as text)."""


def _check_str(value: object, backend: str | None, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a str, not {type(value).__name__}", backend=backend)
    return value


def _check_no_nul(value: str, backend: str | None, what: str) -> str:
    """``value`` if it has no NUL character (ids and keys end up in C strings and file names) and is valid Unicode."""
    if "\x00" in value:
        raise InvalidInputError(f"{what} must not contain a NUL character", backend=backend)
    _check_unicode(value, backend, what)
    return value


def check_text(value: object, backend: str | None = None, what: str = "text") -> str:
    """Free text stored as text (message content, session names): a str that is valid Unicode."""
    text = _check_str(value, backend, what)
    _check_unicode(text, backend, what)
    return text


class DictForm:
    """``to_dict`` / ``from_dict`` of the record dataclasses (messages, sessions, documents)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(cast(Any, self))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The record from a dict; keys that are not fields (from a newer version, say) are ignored."""
        record: Any = cls  # a dataclass: its fields are its keyword arguments
        names = _field_names(record)
        return cast(Self, record(**{key: value for key, value in data.items() if key in names}))


@cache
def _field_names(cls: Any) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


def new_id() -> str:
    """A new random id (a UUID4 string): the default id of messages, sessions and documents."""
    return str(uuid.uuid4())


def check_id(value: object, backend: str | None = None, what: str = "session_id") -> str:
    """A non-empty str of at most 255 characters with no NUL byte, valid Unicode."""
    text = _check_str(value, backend, what)
    if not text:
        raise InvalidInputError(f"{what} must not be empty", backend=backend)
    if len(text) > MAX_ID_LENGTH:
        raise InvalidInputError(f"{what} is {len(text)} characters long; the limit is {MAX_ID_LENGTH}", backend=backend)
    return _check_no_nul(text, backend, what)


def check_key(value: object, backend: str | None = None, what: str = "key") -> str:
    """A state key or hash field: a non-empty str of at most 1024 characters with no NUL, valid Unicode."""
    text = _check_str(value, backend, what)
    if not text or len(text) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"{what} must be 1 to {MAX_KEY_LENGTH} characters long, got {len(text)}", backend=backend
        )
    return _check_no_nul(text, backend, what)


def check_ttl(value: object, backend: str | None = None) -> float:
    """A TTL in seconds: a positive, finite number up to :data:`MAX_TTL` (about 317 years)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InvalidInputError(f"ttl must be a positive number of seconds, got {value!r}", backend=backend)
    if value > MAX_TTL:
        # Engines hold an expiry differently (Redis: milliseconds in an int64, Firestore: up to year 9999);
        # one bound that every one of them can keep, rather than a different failure on each.
        raise InvalidInputError(f"ttl must be at most {MAX_TTL:.0e} seconds, got {value!r}", backend=backend)
    return float(value)


def check_limit(value: object, backend: str | None = None, what: str = "limit", *, allow_zero: bool = True) -> int:
    """A count (limit, offset, batch size): an int >= 0; above :data:`MAX_COUNT` it means as much as
    :data:`MAX_COUNT` (no store holds more), a number every engine takes as a LIMIT or OFFSET."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{what} must be an int, not {type(value).__name__}", backend=backend)
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidInputError(f"{what} must be {'>= 0' if allow_zero else '> 0'}, got {value}", backend=backend)
    return min(value, MAX_COUNT)


def check_ids(values: Sequence[str] | None, backend: str | None = None, what: str = "id") -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, Mapping, set, frozenset)):
        raise InvalidInputError(f"{what} must be a list of str, not {type(values).__name__}", backend=backend)
    return [check_id(value, backend, what) for value in values]
