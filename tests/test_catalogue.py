"""The catalogue feeds the registries, docs/backends.md and the pyproject extras; they must not drift."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import tomllib

from praisonai.persistence._catalogue import BUILTINS, KINDS
from praisonai.persistence._config import StoreConfig
from praisonai.persistence._generated import extras, names_path, render_docs, render_names, render_pyproject
from praisonai.persistence.registry import CONVERSATION_STORES, EMBEDDERS, KNOWLEDGE_STORES, STATE_STORES

ROOT = Path(__file__).parent.parent
REGISTRIES = {
    "conversation": CONVERSATION_STORES,
    "knowledge": KNOWLEDGE_STORES,
    "state": STATE_STORES,
    "embedder": EMBEDDERS,
}
FIX = "run: python -m praisonai.persistence._catalogue --write"


def test_docs_table_matches_catalogue() -> None:
    text = (ROOT / "docs" / "backends.md").read_text(encoding="utf-8")
    assert render_docs(text) == text, FIX


def test_pyproject_extras_match_catalogue() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert render_pyproject(text) == text, FIX
    declared = tomllib.loads(text)["project"]["optional-dependencies"]
    for name, requirements in extras().items():
        assert declared[name] == requirements
    assert "test" in declared


def test_typed_names_are_generated_from_the_catalogue() -> None:
    # registry.py's create() overloads use these Literal types; nobody keeps a list of names by hand.
    assert Path(names_path()).read_text(encoding="utf-8") == render_names(), FIX


def test_catalogue_is_sorted_and_unique() -> None:
    keys = [(KINDS.index(b.kind), b.name) for b in BUILTINS]
    assert keys == sorted(keys), "keep BUILTINS grouped by kind and sorted by name"
    for kind in KINDS:
        names = [name for b in BUILTINS if b.kind == kind for name in (b.name, *b.aliases)]
        assert len(names) == len(set(names)), f"a {kind} name or alias is used twice"


@pytest.mark.parametrize("backend", BUILTINS, ids=lambda b: f"{b.kind}:{b.name}")
def test_every_builtin_is_registered_with_a_matching_config(backend: object) -> None:
    from praisonai.persistence._catalogue import BuiltinBackend
    from praisonai.persistence._loading import load_object

    assert isinstance(backend, BuiltinBackend)
    registry = REGISTRIES[backend.kind]
    info = registry.describe(backend.name)
    assert (info.source, info.aliases, info.extra, info.tier) == (
        "builtin",
        backend.aliases,
        backend.extra,
        backend.tier,
    )
    for alias in backend.aliases:
        assert registry.describe(alias).name == backend.name
    config = load_object(backend.config)
    assert issubclass(config, StoreConfig)
    assert (config.backend, config.kind) == (backend.name, backend.kind)
    module_name = backend.adapter.partition(":")[0]
    assert importlib.util.find_spec(module_name) is not None
    assert backend.extra is None or backend.requirements, "an extra must install something"
    assert bool(backend.extra) == bool(backend.drivers), "a backend with drivers needs an extra, and vice versa"
