"""The one table of built-in backends, read from ``catalogue.json``.

The rows are data: ``catalogue.json`` (next to this module, shipped in the wheel)
holds one row per backend, grouped by kind; this module reads it on first use of
:data:`BUILTINS` or :data:`BY_KIND_AND_NAME`, checks every row strictly and turns
it into a typed :class:`BuiltinBackend`. A row's keys are the fields of
:class:`BuiltinBackend` (``kind`` is the group it sits in; ``aliases``,
``extra``, ``requirements``, ``drivers``, ``is_async`` and ``praisonai_positional``
may be left out), plus
``comment`` (free text, ignored) and, on a knowledge row, ``native_async``
(``{"adapter": ..., "summary": ...}``: see :func:`_async_knowledge`). Every
knowledge backend gets an asyncio form ``async_<name>``, derived here.

The table feeds the registries, ``docs/backends.md``, the command-line listing,
the ``[project.optional-dependencies]`` of ``pyproject.toml`` and the typed
backend names of ``_names.py``; ``tests/test_catalogue.py`` fails when any of them
drifts. Importing this module reads nothing: the file is read (and ``json``
imported) when the table is first asked for. Regenerate the docs table, the
pyproject extras and the names after editing (``_generated.py`` renders them)::

    python -m praisonai.persistence._catalogue --write
"""

from __future__ import annotations

import sys

from .errors import RegistrationError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _typing_lite.py)
if TYPE_CHECKING:
    from typing import Literal, NamedTuple, TypeAlias

    Kind: TypeAlias = Literal["conversation", "knowledge", "state", "embedder"]
    Tier: TypeAlias = Literal["server", "embedded", "vendor-emulator", "emulator", "wire", "fake"]
else:
    from ._typing_lite import NamedTuple

__all__ = [
    "BUILTINS",
    "BY_KIND_AND_NAME",
    "KINDS",
    "SPEED_EXTRAS",
    "TIER_MEANINGS",
    "BuiltinBackend",
    "Kind",
    "Tier",
    "has_async_twin",
    "parse_catalogue",
]

P = "praisonai.persistence"  # the package that config and adapter paths start with


class BuiltinBackend(NamedTuple):
    """One built-in backend: where its config and adapter live and what it needs."""

    name: str
    kind: Kind
    config: str  # "module:Class" of its pydantic config model
    adapter: str  # "module:Class" of its store
    summary: str
    tier: Tier
    tested_with: str  # what the test suite runs it against
    aliases: tuple[str, ...] = ()
    extra: str | None = None  # pip extra; None when the standard library suffices
    requirements: tuple[str, ...] = ()  # what the extra installs
    drivers: tuple[str, ...] = ()  # modules the adapter imports
    is_async: bool = False
    # PraisonAI 4.7.19's positional parameters of the backend's store class, in order, so that
    # ``SQLiteConversationStore("chat.db")`` means what it meant there (``_compat.store_config``);
    # from the "__init__ signatures" of tests/fixtures/praisonai_4_7_19/INVENTORY.md.
    praisonai_positional: tuple[str, ...] = ()


KINDS: tuple[Kind, ...] = ("conversation", "knowledge", "state", "embedder")

TIER_MEANINGS: dict[Tier, str] = {
    "server": "a real server of the engine on loopback",
    "embedded": "the vendor's own in-process engine",
    "vendor-emulator": "the vendor's own local engine or emulator of the service, on loopback",
    "emulator": "a third-party emulator or reimplementation of the service, on loopback",
    "wire": "a stand-in of the service's wire API (HTTP, gRPC), written from its reference, driven by the vendor's SDK",
    "fake": "a client-level fake of the vendor's SDK objects; the SDK's requests are not exercised",
}

# Extras that no backend needs but some use when installed: name -> what it installs.
# numpy: exact knowledge search by matrix product in the memory store (knowledge/_layers/matrix.py).
SPEED_EXTRAS: dict[str, tuple[str, ...]] = {"numpy": ("numpy>=1.26",)}

# Read on first use (module __getattr__ below); declared here for type checkers.
BUILTINS: tuple[BuiltinBackend, ...]
BY_KIND_AND_NAME: dict[tuple[Kind, str], BuiltinBackend]

_FILE = "catalogue.json"
_TEXT_KEYS = ("name", "config", "adapter", "summary", "tier", "tested_with")  # required
_LIST_KEYS = ("aliases", "requirements", "drivers", "praisonai_positional")
_OPTIONAL_KEYS = frozenset({*_LIST_KEYS, "extra", "is_async", "comment"})
_NATIVE_ASYNC = "native_async"  # knowledge rows only: {"adapter": ..., "summary": ...}


def __getattr__(name: str) -> object:
    if name in ("BUILTINS", "BY_KIND_AND_NAME"):
        _load()
        return globals()[name]
    # Kind and Tier are built with typing on first use (the config models import them), not at import.
    if name in ("Kind", "Tier"):
        from typing import Literal

        value = (
            Literal["conversation", "knowledge", "state", "embedder"]
            if name == "Kind"
            else Literal["server", "embedded", "vendor-emulator", "emulator", "wire", "fake"]
        )
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _load() -> dict[tuple[Kind, str], BuiltinBackend]:
    # Idempotent: two threads racing here both read the same file and bind equal tables.
    if "BUILTINS" not in globals():
        builtins = _read()
        globals().update(BUILTINS=builtins, BY_KIND_AND_NAME={(b.kind, b.name): b for b in builtins})
    table: dict[tuple[Kind, str], BuiltinBackend] = globals()["BY_KIND_AND_NAME"]
    return table


def _read() -> tuple[BuiltinBackend, ...]:
    import json
    import os

    path = os.path.join(os.path.dirname(__file__), _FILE)
    with open(path, encoding="utf-8") as file:
        try:
            data = json.load(file)
        except ValueError as error:
            raise RegistrationError(f"{path} is not valid JSON: {error}") from None
    return parse_catalogue(data, source=path)


def parse_catalogue(data: object, source: str = _FILE) -> tuple[BuiltinBackend, ...]:
    """The typed, sorted table of the parsed ``catalogue.json``, asyncio forms included.

    Raises :class:`~.errors.RegistrationError` naming the row at the first key that
    is unknown, missing or of the wrong type, an unknown tier or kind, or a name
    (or alias) used twice within a kind.
    """
    if not isinstance(data, dict):
        raise RegistrationError(f"{source}: expected an object of rows by kind, got {type(data).__name__}")
    unknown = sorted(set(data) - {"about", *KINDS})
    if unknown:
        raise RegistrationError(f"{source}: unknown kind {unknown[0]!r} (the kinds: {', '.join(KINDS)})")
    if not isinstance(data.get("about", ""), str):
        raise RegistrationError(f"{source}: 'about' must be a string")
    table: list[BuiltinBackend] = []
    for kind in KINDS:
        rows = data.get(kind, [])
        if not isinstance(rows, list):
            raise RegistrationError(f"{source}: {kind!r} must be a list of rows")
        for index, raw in enumerate(rows):
            row, native = _row(kind, raw, f"{source}: {kind} row {index}")
            table.append(row)
            if kind == "knowledge":
                table.append(_async_knowledge(row, native))
    seen: dict[tuple[Kind, str], str] = {}
    for row in table:
        for name in (row.name, *row.aliases):
            if (row.kind, name) in seen:
                raise RegistrationError(
                    f"{source}: the {row.kind} name {name!r} is used twice ({seen[row.kind, name]!r}, {row.name!r})"
                )
            seen[row.kind, name] = row.name
    return tuple(sorted(table, key=lambda b: (KINDS.index(b.kind), b.name)))


def _row(kind: Kind, raw: object, where: str) -> tuple[BuiltinBackend, tuple[str, str] | None]:
    # Each problem names the row (by index, and by name once known) and the key.
    if not isinstance(raw, dict):
        raise RegistrationError(f"{where}: expected an object, got {type(raw).__name__}")
    if isinstance(raw.get("name"), str):
        where = f"{where} ({raw['name']!r})"
    allowed = {*_TEXT_KEYS, *_OPTIONAL_KEYS, *((_NATIVE_ASYNC,) if kind == "knowledge" else ())}
    if kind == "knowledge":
        allowed.discard("is_async")  # a knowledge row is sync; its asyncio form is derived
    for key in raw:
        if key not in allowed:
            raise RegistrationError(f"{where}: unknown key {key!r}")
    text = {key: _text(raw, key, where) for key in _TEXT_KEYS}
    for key in ("config", "adapter"):
        module, _, attribute = text[key].partition(":")
        if not module or not attribute:
            raise RegistrationError(f"{where}: {key} must be 'module:Class', got {text[key]!r}")
    if text["tier"] not in TIER_MEANINGS:
        raise RegistrationError(f"{where}: unknown tier {text['tier']!r} (the tiers: {', '.join(TIER_MEANINGS)})")
    lists = {key: _texts(raw, key, where) for key in _LIST_KEYS}
    extra = raw.get("extra")
    if extra is not None and not (isinstance(extra, str) and extra):
        raise RegistrationError(f"{where}: 'extra' must be a non-empty string or null")
    is_async = raw.get("is_async", False)
    if not isinstance(is_async, bool):
        raise RegistrationError(f"{where}: 'is_async' must be true or false")
    if not isinstance(raw.get("comment", ""), str):
        raise RegistrationError(f"{where}: 'comment' must be a string")
    native = None
    if _NATIVE_ASYNC in raw:
        spec = raw[_NATIVE_ASYNC]
        if not isinstance(spec, dict) or set(spec) != {"adapter", "summary"}:
            raise RegistrationError(f"{where}: {_NATIVE_ASYNC!r} must be an object of 'adapter' and 'summary'")
        native = (_text(spec, "adapter", where), _text(spec, "summary", where))
    row = BuiltinBackend(
        name=text["name"],
        kind=kind,
        config=text["config"],
        adapter=text["adapter"],
        summary=text["summary"],
        tier=text["tier"],  # narrowed to Tier by the TIER_MEANINGS check above
        tested_with=text["tested_with"],
        aliases=lists["aliases"],
        extra=extra,
        requirements=lists["requirements"],
        drivers=lists["drivers"],
        is_async=is_async,
        praisonai_positional=lists["praisonai_positional"],
    )
    return row, native


def _text(raw: dict[str, object], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        problem = "is missing" if key not in raw else "must be a non-empty string"
        raise RegistrationError(f"{where}: {key!r} {problem}")
    return value


def _texts(raw: dict[str, object], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise RegistrationError(f"{where}: {key!r} must be a list of non-empty strings")
    return tuple(value)


def _async_knowledge(sync: BuiltinBackend, native: tuple[str, str] | None) -> BuiltinBackend:
    """The asyncio form of a knowledge backend: ``async_<name>`` (alias ``<name>_async``).

    Its config is the sync one's under that name. Native where the row names an
    async store (``native_async``: the driver has an async client and the store is
    written for it); else the sync store run in worker threads.
    """
    config_class = sync.config.rpartition(":")[2]
    if native is None:
        adapter = f"{P}.knowledge.offload:OffloadedBuiltinStore"
        summary = f"{sync.name} for asyncio: its sync store run in worker threads (knowledge/offload.py)"
        tested_with = (
            f"as {sync.name} (its sync store); the async contract suite runs the thread offload "
            "over memory (and a JSON file)"
        )
    else:
        adapter, summary = native
        tested_with = f"{sync.tested_with}; the async contract suite too"
    return sync._replace(
        name=f"async_{sync.name}",
        config=f"{P}.knowledge.configs.asynchronous:Async{config_class}",
        adapter=adapter,
        summary=summary,
        tested_with=tested_with,
        aliases=(f"{sync.name}_async",),
        is_async=True,
        praisonai_positional=(),  # PraisonAI had no asyncio knowledge classes
    )


def has_async_twin(name: str) -> bool:
    """Whether conversation backend ``name`` has an asyncio twin, ``async_<name>`` (PraisonAI's ``mode=``)."""
    table = _load()
    return ("conversation", name) in table and ("conversation", f"async_{name}") in table


if __name__ == "__main__":
    from ._generated import write

    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m praisonai.persistence._catalogue --write  (run from the repository root)")
    write(".")
