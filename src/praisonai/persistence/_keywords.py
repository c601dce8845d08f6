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
- :class:`Ignored`: accepted and documented, because it means nothing here; its
  :class:`Refuse` names values we cannot honour (``auto_create_tables=False`` where
  the store must create its tables), which are a :class:`~.errors.ConfigError`.

A config's ``praisonai_keywords`` lists PraisonAI's keywords for the backend (the docs
table of ``docs/praisonai-keywords.md`` is rendered from them by :func:`render_docs`);
``None`` given for one of them means "not given", as PraisonAI's defaults say.

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
    "Refuse",
    "Rename",
    "ServerPart",
    "CREATES_TABLES",
    "MONGO_VECTOR_KEYWORDS",
    "SERVER_KEYWORDS",
    "SURREAL_KEYWORDS",
    "EMBEDDING_DIM",
    "describe",
    "env_value",
    "fixed_name",
    "refuse_false",
    "refuse_given",
    "refuse_true",
    "refuse_unless",
    "render_docs",
    "keyword_table",
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
class Refuse:
    """The values of an accepted keyword that the store cannot honour: ``refused(value)`` is true for them."""

    values: str  # which values, for the docs
    refused: Callable[[Any], bool]
    reason: str

    def __call__(self, value: Any) -> str | None:
        return self.reason if self.refused(value) else None


@dataclass(frozen=True, slots=True)
class Ignored:
    """Accepted without effect, for ``why``; ``refuse`` names the values that cannot be honoured."""

    why: str
    refuse: Refuse | None = None


Keyword: TypeAlias = "str | Rename | Derive | ServerPart | AsUrl | Ignored"


def refuse_unless(expected: Any, reason: str) -> Refuse:
    """Refuses every value but ``expected`` (compared with ``==``)."""
    return Refuse(f"any value but `{expected!r}`", lambda value: value != expected, reason)


def refuse_false(reason: str) -> Refuse:
    """Refuses a false value (``auto_create_tables=False`` where we must create the tables)."""
    return Refuse("`False`", lambda value: not value, reason)


def refuse_true(reason: str) -> Refuse:
    """Refuses a true value (``auto_create_tables=True`` where we cannot create them)."""
    return Refuse("`True`", bool, reason)


def refuse_given(reason: str) -> Refuse:
    """Refuses any value but an empty one (None, ``{}``)."""
    return Refuse("any non-empty value", bool, reason)


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
    refused = f"; {keyword.refuse.values} is a `ConfigError`" if keyword.refuse is not None else ""
    return f"accepted, no effect: {keyword.why}{refused}"


# Keywords several backends share, written once.
SERVER_KEYWORDS = ("url", "host", "port", "database", "user", "password")
"""PraisonAI's keywords of a SQL server: a URL, or its parts."""
SURREAL_KEYWORDS = ("url", "namespace", "database", "username", "password")
MONGO_VECTOR_KEYWORDS = ("database", "collection", "index_name", "embedding_field", "text_field", "embedding_dim")
"""PraisonAI's keywords of its MongoDB-API vector stores (mongodb_vector, cosmosdb), after the connection."""
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


_DOCS_BEGIN = "<!-- BEGIN generated: praisonai keywords -->"
_DOCS_END = "<!-- END generated: praisonai keywords -->"


def keyword_table(config: Any) -> str:
    """The markdown table of one config class: each PraisonAI keyword and what it fills here."""
    rows = ["| PraisonAI keyword | here |", "| --- | --- |"]
    aliases: Mapping[str, Keyword] = config.keyword_aliases
    for keyword in config.praisonai_keywords:
        if keyword in aliases:
            meaning = describe(aliases[keyword])
        elif keyword in config.model_fields:
            meaning = f"`{keyword}` (the same field)"
        else:
            meaning = "the URL argument (the backend's URL forms)"
        rows.append(f"| `{keyword}` | {meaning} |")
    if config.other_keywords is not None:
        rows.append(f"| any other keyword | into `{config.other_keywords}` |")
    return "\n".join(rows)


def render_docs(text: str) -> str:
    """``text`` (docs/praisonai-keywords.md) with the generated tables replaced by the configs'."""
    from ._catalogue import BUILTINS
    from ._loading import load_object

    sections = []
    for backend in sorted(BUILTINS, key=lambda b: (b.kind, b.name)):
        config = load_object(backend.config)
        if not config.praisonai_keywords:
            continue
        lines = [f"### `{backend.name}` ({backend.kind})", "", keyword_table(config)]
        if config.env_defaults:
            read = "; ".join(
                f"`{field}` from " + " or ".join(f"`{name}`" for name in names)
                for field, names in config.env_defaults.items()
            )
            lines += ["", f"Environment, when no argument sets it: {read}."]
        sections.append("\n".join(lines))
    head, _, rest = text.partition(_DOCS_BEGIN)
    _, _, tail = rest.partition(_DOCS_END)
    return f"{head}{_DOCS_BEGIN}\n" + "\n\n".join(sections) + f"\n{_DOCS_END}{tail}"
