"""Other keyword names a config accepts, and the environment variables that give its defaults.

A config declares both; :meth:`StoreConfig.from_options` applies them. Most
entries exist so that code written for PraisonAI 4.7.19 keeps working: its
keyword names (``prefix=``, ``schema=``, ``host=`` + ``port=`` where we take a
URL) and the environment variables it reads (``SUPABASE_KEY``, ...).

``keyword_aliases`` maps a keyword to a field name, or to one of:

- :class:`Rename`: the field it fills, with a conversion of the value
  (``prefix="praison:vec:"`` -> ``key_prefix="praison:vec"``);
- :class:`Derive`: a function of the value and the other options giving fields
  (``local_path=`` is turso's ``replica_path`` when a ``url`` is given, else its ``path``);
- :class:`ServerPart`: a part of a server URL kept whole in one field
  (``host=`` and ``port=`` -> ``url="http://host:port"``, PraisonAI's defaults filling
  the missing part);
- :class:`AsUrl`: the value is read as the ``url`` argument (``connection_string=``);
- :class:`Ignored`: accepted and documented, because it means nothing here; a
  ``refuse`` test names values we cannot honour (``auto_create_tables=False`` where
  the store must create its tables), which are a :class:`~.errors.ConfigError`.

``env_defaults`` maps a field (or ``url``, read as the URL argument) to
environment variables tried in turn when neither the URL nor the keywords set
it. Explicit arguments always win; a value from the environment that fails
validation is reported with the variable's name, secrets masked as ever.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from .url import URL

__all__ = [
    "AsUrl",
    "Derive",
    "Ignored",
    "Keyword",
    "Rename",
    "ServerPart",
    "CREATES_TABLES",
    "EMBEDDING_DIM",
    "describe",
    "env_value",
    "fixed_name",
    "refuse_false",
    "refuse_true",
    "refuse_unless",
]


@dataclass(frozen=True, slots=True)
class Rename:
    """Fills ``field`` with ``convert(value)``."""

    field: str
    convert: Callable[[Any], Any]
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Derive:
    """Fills the fields ``derive(value, options)`` returns (``options``: every keyword given)."""

    derive: Callable[[Any, Mapping[str, Any]], Mapping[str, Any]]
    doc: str
    fields: tuple[str, ...] = ()
    """The fields it may fill (for the docs and the "give only one" check)."""


@dataclass(frozen=True, slots=True)
class ServerPart:
    """``host`` or ``port`` of a server whose URL one field keeps: ``scheme://host:port``."""

    field: str
    part: str  # "host" or "port"
    scheme: str
    default_host: str
    default_port: int


@dataclass(frozen=True, slots=True)
class AsUrl:
    """The value is the URL argument under another name (``connection_string=``)."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """Accepted without effect, for ``why``; ``refuse(value)`` gives the reason a value cannot be honoured."""

    why: str
    refuse: Callable[[Any], str | None] | None = None


Keyword: TypeAlias = "str | Rename | Derive | ServerPart | AsUrl | Ignored"


def refuse_unless(expected: Any, reason: str) -> Callable[[Any], str | None]:
    """Refuses every value but ``expected`` (compared with ``==``)."""
    return lambda value: None if value == expected else reason


def refuse_false(reason: str) -> Callable[[Any], str | None]:
    """Refuses a false value (``auto_create_tables=False`` where we must create the tables)."""
    return lambda value: None if value else reason


def refuse_true(reason: str) -> Callable[[Any], str | None]:
    """Refuses a true value (``auto_create_tables=True`` where we cannot create them)."""
    return lambda value: reason if value else None


def compose_servers(parts: Mapping[str, tuple[ServerPart, Any]]) -> dict[str, str]:
    """The URL fields the ``ServerPart`` keywords given build: keyword -> (spec, value)."""
    by_field: dict[str, dict[str, Any]] = {}
    specs: dict[str, ServerPart] = {}
    for spec, value in parts.values():
        by_field.setdefault(spec.field, {})[spec.part] = value
        specs[spec.field] = spec
    out = {}
    for field, given in by_field.items():
        spec = specs[field]
        host = given.get("host", spec.default_host)
        port = given.get("port", spec.default_port)
        if not isinstance(host, str) or not host or "/" in host or "@" in host:
            raise ValueError("host must be a host name or address")
        if isinstance(port, bool) or not isinstance(port, int | str) or not str(port).isdigit():
            raise ValueError("port must be a whole number")
        out[field] = URL(scheme=spec.scheme, host=host, port=int(port)).render()
    return out


def env_value(names: tuple[str, ...]) -> tuple[str, str] | None:
    """The first of ``names`` set (not empty) in the environment, and its value."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return name, value
    return None


def describe(keyword: Keyword) -> str:
    """What a declared keyword does, for the docs tables."""
    if isinstance(keyword, str):
        return f"`{keyword}`"
    if isinstance(keyword, Rename):
        return f"`{keyword.field}`" + (f" ({keyword.doc})" if keyword.doc else "")
    if isinstance(keyword, Derive):
        return keyword.doc
    if isinstance(keyword, ServerPart):
        return (
            f"`{keyword.field}` = `{keyword.scheme}://host:port` (host default `{keyword.default_host}`, "
            f"port default `{keyword.default_port}`)"
        )
    if isinstance(keyword, AsUrl):
        return "read as the URL (`url`)"
    return f"accepted, no effect: {keyword.why}"


# Keywords several backends share, written once.
CREATES_TABLES = Ignored(
    "the store creates its tables when missing (existing tables and their rows are kept)",
    refuse_false("the store always creates its tables when they are missing; drop auto_create_tables=False"),
)
EMBEDDING_DIM = Ignored("each collection's dimension is given to create_collection")


def fixed_name(keyword: str, ours: str) -> Ignored:
    """A document field name we cannot change: ``ours`` is accepted, any other value refused."""
    return Ignored(
        f"documents keep it in the field `{ours}`",
        refuse_unless(ours, f"this store keeps it in the field {ours!r}; {keyword} cannot name another"),
    )
