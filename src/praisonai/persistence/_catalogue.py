"""The one table of built-in backends.

It feeds the registries, ``docs/backends.md``, the command-line listing and the
``[project.optional-dependencies]`` of ``pyproject.toml``; ``tests/test_catalogue.py``
fails when any of them drifts. Importing this module imports nothing else.

Regenerate the docs table and the pyproject extras after editing::

    python -m praisonai.persistence._catalogue --write
"""

from __future__ import annotations

import sys
from typing import Literal, NamedTuple, TypeAlias

Kind: TypeAlias = Literal["conversation", "knowledge", "state"]
Tier: TypeAlias = Literal["server", "embedded", "emulator", "fake"]

KINDS: tuple[Kind, ...] = ("conversation", "knowledge", "state")

TIER_MEANINGS: dict[Tier, str] = {
    "server": "a real server of the engine on loopback",
    "embedded": "the vendor's own in-process engine",
    "emulator": "a widely used emulator of the service",
    "fake": "a client-level or HTTP fake; the real service is not exercised",
}


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


_P = "praisonai.persistence"

BUILTINS: tuple[BuiltinBackend, ...] = (
    # conversation -----------------------------------------------------------
    BuiltinBackend(
        name="async_sqlite",
        kind="conversation",
        config=f"{_P}.conversation.config:AsyncSqliteConversationConfig",
        adapter=f"{_P}.conversation.async_sqlite:AsyncSqliteConversationStore",
        summary="SQLite through aiosqlite; same schema and statements as sqlite",
        tier="embedded",
        tested_with="SQLite files in a temporary directory",
        aliases=("aiosqlite", "sqlite_async"),
        extra="sqlite",
        requirements=("aiosqlite>=0.20",),
        drivers=("aiosqlite",),
        is_async=True,
    ),
    BuiltinBackend(
        name="sqlite",
        kind="conversation",
        config=f"{_P}.conversation.config:SqliteConversationConfig",
        adapter=f"{_P}.conversation.sqlite:SqliteConversationStore",
        summary="SQLite from the standard library (the embedded default)",
        tier="embedded",
        tested_with="SQLite files in a temporary directory",
    ),
    # knowledge --------------------------------------------------------------
    BuiltinBackend(
        name="memory",
        kind="knowledge",
        config=f"{_P}.knowledge.config:MemoryKnowledgeConfig",
        adapter=f"{_P}.knowledge.memory:MemoryKnowledgeStore",
        summary="Exact brute-force search in pure Python, optionally kept in a JSON file (the reference backend)",
        tier="embedded",
        tested_with="the store itself, with and without a JSON file",
    ),
    # state ------------------------------------------------------------------
    BuiltinBackend(
        name="memory",
        kind="state",
        config=f"{_P}.state.config:MemoryStateConfig",
        adapter=f"{_P}.state.memory:MemoryStateStore",
        summary="In-process dict with an optional journal + snapshot file (the embedded default)",
        tier="embedded",
        tested_with="the store itself, with and without a snapshot file",
    ),
)

BY_KIND_AND_NAME: dict[tuple[Kind, str], BuiltinBackend] = {(b.kind, b.name): b for b in BUILTINS}


def extras() -> dict[str, list[str]]:
    """The pip extras the catalogue implies, plus ``all`` (``test`` is kept by hand)."""
    merged: dict[str, set[str]] = {}
    for backend in BUILTINS:
        if backend.extra:
            merged.setdefault(backend.extra, set()).update(backend.requirements)
    result = {name: sorted(reqs) for name, reqs in sorted(merged.items())}
    result["all"] = sorted({req for reqs in merged.values() for req in reqs})
    return result


def backends_table(kind: Kind) -> str:
    """The markdown table of one kind's built-in backends, for docs/backends.md."""
    rows = [
        "| backend | aliases | install | test tier | tested with | what it is |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for backend in sorted((b for b in BUILTINS if b.kind == kind), key=lambda b: b.name):
        aliases = ", ".join(f"`{alias}`" for alias in backend.aliases) or "-"
        install = f'`pip install "praisonai-persistence[{backend.extra}]"`' if backend.extra else "core"
        flavour = " (async)" if backend.is_async else ""
        rows.append(
            f"| `{backend.name}`{flavour} | {aliases} | {install} | {backend.tier} "
            f"| {backend.tested_with} | {backend.summary} |"
        )
    return "\n".join(rows)


_DOCS_BEGIN = "<!-- BEGIN generated: {kind} -->"
_DOCS_END = "<!-- END generated: {kind} -->"
_EXTRAS_BEGIN = "# BEGIN generated extras (python -m praisonai.persistence._catalogue --write)"
_EXTRAS_END = "# END generated extras"


def render_docs(text: str) -> str:
    """``text`` (docs/backends.md) with every generated table replaced by the catalogue's."""
    for kind in KINDS:
        begin, end = _DOCS_BEGIN.format(kind=kind), _DOCS_END.format(kind=kind)
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = f"{head}{begin}\n{backends_table(kind)}\n{end}{tail}"
    return text


def render_pyproject(text: str) -> str:
    """``text`` (pyproject.toml) with the generated extras block replaced by the catalogue's."""
    lines = [_EXTRAS_BEGIN]
    for name, requirements in extras().items():
        quoted = ", ".join(f'"{req}"' for req in requirements)
        lines.append(f"{name} = [{quoted}]")
    lines.append(_EXTRAS_END)
    head, _, rest = text.partition(_EXTRAS_BEGIN)
    _, _, tail = rest.partition(_EXTRAS_END)
    return head + "\n".join(lines) + tail


def _write(root: str) -> None:
    from pathlib import Path

    for relative, render in (("docs/backends.md", render_docs), ("pyproject.toml", render_pyproject)):
        path = Path(root) / relative
        path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m praisonai.persistence._catalogue --write  (run from the repository root)")
    _write(".")
