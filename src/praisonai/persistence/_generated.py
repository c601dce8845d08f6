"""What the catalogue generates: the docs tables, the pyproject extras and ``_names.py``.

``python -m praisonai.persistence._catalogue --write`` rewrites them all, and the PraisonAI
keyword tables of ``docs/praisonai-keywords.md`` (from the config models);
``tests/test_catalogue.py`` fails when any of them differs from what it would write.
"""

from __future__ import annotations

from pathlib import Path

from ._catalogue import BUILTINS, BY_KIND_AND_NAME, KINDS, SPEED_EXTRAS, Kind, has_async_twin

__all__ = ["backends_table", "extras", "names_path", "render_docs", "render_names", "render_pyproject", "write"]


def extras() -> dict[str, list[str]]:
    """The pip extras the catalogue implies, plus ``all`` (``test`` is kept by hand)."""
    merged: dict[str, set[str]] = {}
    for backend in BUILTINS:
        if backend.extra:
            merged.setdefault(backend.extra, set()).update(backend.requirements)
    for name, requirements in SPEED_EXTRAS.items():
        merged.setdefault(name, set()).update(requirements)
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


# Name of each generated Literal, and which rows it lists (kind, is_async; None: both).
_NAMES: tuple[tuple[str, Kind, bool | None], ...] = (
    ("SyncConversationName", "conversation", False),
    ("AsyncConversationName", "conversation", True),
    ("SyncKnowledgeName", "knowledge", False),
    ("AsyncKnowledgeName", "knowledge", True),
    ("SyncStateName", "state", False),
    ("AsyncStateName", "state", True),
    ("SyncEmbedderName", "embedder", False),
)


def render_names() -> str:
    """The text of ``_names.py``: every built-in name and alias, as the Literal types of ``create()``."""
    lines = [
        '"""Built-in backend names and aliases, as the Literal types of the overloads of ``create()``.',
        "",
        "Generated from the catalogue by ``python -m praisonai.persistence._catalogue --write``; do not edit.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Literal, TypeAlias",
        "",
        "__all__ = [",
        *(f'    "{name}",' for name in sorted([*(alias for alias, _, _ in _NAMES), "ConversationTwinName"])),
        "]",
        "",
    ]
    for alias, kind, is_async in _NAMES:
        names = sorted(
            name
            for backend in BUILTINS
            if backend.kind == kind and is_async in (None, backend.is_async)
            for name in (backend.name, *backend.aliases)
        )
        lines += [f"{alias}: TypeAlias = Literal[", *(f'    "{name}",' for name in names), "]"]
    twins = sorted(name for kind, name in BY_KIND_AND_NAME if kind == "conversation" and has_async_twin(name))
    lines += [
        "",
        "# Conversation backends with an ``async_<name>`` twin: the names PraisonAI's ``mode=`` rewrites.",
        "ConversationTwinName: TypeAlias = Literal[",
        *(f'    "{name}",' for name in twins),
        "]",
    ]
    return "\n".join(lines) + "\n"


def names_path() -> str:
    """Where ``_names.py`` lives: next to this module."""
    return str(Path(__file__).with_name("_names.py"))


def write(root: str) -> None:
    """Rewrite the generated parts of ``root``'s docs and pyproject, and ``_names.py``."""
    for relative, render in (("docs/backends.md", render_docs), ("pyproject.toml", render_pyproject)):
        path = Path(root) / relative
        path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote {path}")
    from ._keywords import render_docs as render_keyword_docs  # loads the config models (pydantic)

    path = Path(root) / "docs/praisonai-keywords.md"
    path.write_text(render_keyword_docs(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {path}")
    Path(names_path()).write_text(render_names(), encoding="utf-8")
    print(f"wrote {names_path()}")
