"""The catalogue feeds the registries, docs/backends.md and the pyproject extras; they must not drift."""

from __future__ import annotations

import copy
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from praisonai.persistence._catalogue import BUILTINS, KINDS, parse_catalogue
from praisonai.persistence._config import StoreConfig
from praisonai.persistence._generated import extras, names_path, render_docs, render_names, render_pyproject
from praisonai.persistence.errors import RegistrationError
from praisonai.persistence.registry import CONVERSATION_STORES, EMBEDDERS, KNOWLEDGE_STORES, STATE_STORES

ROOT = Path(__file__).parent.parent
REGISTRIES = {
    "conversation": CONVERSATION_STORES,
    "knowledge": KNOWLEDGE_STORES,
    "state": STATE_STORES,
    "embedder": EMBEDDERS,
}
FIX = "run: python -m praisonai.persistence._catalogue --write"
CATALOGUE = ROOT / "src" / "praisonai" / "persistence" / "catalogue.json"


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
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    for kind in KINDS:
        names = [row["name"] for row in data[kind]]
        assert names == sorted(names), f"keep the {kind} rows of catalogue.json sorted by name"
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


def _catalogue_data() -> dict[str, object]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_table_is_the_file_read() -> None:
    assert parse_catalogue(_catalogue_data()) == BUILTINS
    rows = _catalogue_data()["knowledge"]
    assert isinstance(rows, list)
    native = {row["name"] for row in rows if "native_async" in row}
    offloaded = {b.name for b in BUILTINS if b.adapter.endswith("offload:OffloadedBuiltinStore")}
    assert native and offloaded
    assert {f"async_{name}" for name in native}.isdisjoint(offloaded)
    assert {f"async_{row['name']}" for row in rows} == {
        b.name for b in BUILTINS if b.kind == "knowledge" and b.is_async
    }


def test_importing_the_catalogue_reads_nothing() -> None:
    # The file is read (and json imported) on first use of the table, not at import.
    code = (
        "import sys; import praisonai.persistence._catalogue as c; "
        "assert 'json' not in sys.modules and 'BUILTINS' not in vars(c), sorted(sys.modules); "
        "c.BUILTINS; assert 'BUILTINS' in vars(c) and 'json' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _first(data: dict[str, object], kind: str) -> dict[str, object]:
    rows = data[kind]
    assert isinstance(rows, list)
    return rows[0]  # type: ignore[no-any-return]


def _unknown_key(data: dict[str, object]) -> str:
    _first(data, "conversation")["colour"] = "red"
    return "conversation row 0 ('async_mysql'): unknown key 'colour'"


def _aliases_not_a_list(data: dict[str, object]) -> str:
    _first(data, "state")["aliases"] = "one"
    return f"state row 0 ({_first(data, 'state')['name']!r}): 'aliases' must be a list of non-empty strings"


def _unknown_tier(data: dict[str, object]) -> str:
    _first(data, "embedder")["tier"] = "cloud"
    return f"embedder row 0 ({_first(data, 'embedder')['name']!r}): unknown tier 'cloud'"


def _unknown_kind(data: dict[str, object]) -> str:
    data["vectors"] = []
    return "unknown kind 'vectors'"


def _about_not_text(data: dict[str, object]) -> str:
    data["about"] = ["notes"]
    return "'about' must be a string"


def _missing_adapter(data: dict[str, object]) -> str:
    del _first(data, "knowledge")["adapter"]
    return f"knowledge row 0 ({_first(data, 'knowledge')['name']!r}): 'adapter' is missing"


def _wrong_is_async(data: dict[str, object]) -> str:
    _first(data, "conversation")["is_async"] = "yes"
    return "conversation row 0 ('async_mysql'): 'is_async' must be true or false"


def _async_knowledge_row(data: dict[str, object]) -> str:
    _first(data, "knowledge")["is_async"] = True  # knowledge asyncio forms are derived, never written
    return "unknown key 'is_async'"


def _native_async_elsewhere(data: dict[str, object]) -> str:
    _first(data, "state")["native_async"] = {"adapter": "m:C", "summary": "s"}
    return "unknown key 'native_async'"


def _config_without_class(data: dict[str, object]) -> str:
    _first(data, "conversation")["config"] = "praisonai.persistence.conversation.configs.servers"
    return "conversation row 0 ('async_mysql'): config must be 'module:Class'"


def _extra_not_text(data: dict[str, object]) -> str:
    _first(data, "conversation")["extra"] = 3
    return "'extra' must be a non-empty string or null"


def _row_not_an_object(data: dict[str, object]) -> str:
    rows = data["state"]
    assert isinstance(rows, list)
    rows.append(["memory"])
    return f"state row {len(rows) - 1}: expected an object, got list"


def _alias_taken(data: dict[str, object]) -> str:
    _first(data, "conversation")["aliases"] = ["postgres"]
    return "the conversation name 'postgres' is used twice"


def _derived_name_taken(data: dict[str, object]) -> str:
    row = _first(data, "knowledge")
    row["aliases"] = [f"async_{row['name']}"]  # the name its derived asyncio form takes
    return f"the knowledge name 'async_{row['name']}' is used twice"


@pytest.mark.parametrize(
    "spoil",
    [
        _unknown_key,
        _aliases_not_a_list,
        _unknown_tier,
        _unknown_kind,
        _about_not_text,
        _missing_adapter,
        _wrong_is_async,
        _async_knowledge_row,
        _native_async_elsewhere,
        _config_without_class,
        _extra_not_text,
        _row_not_an_object,
        _alias_taken,
        _derived_name_taken,
    ],
)
def test_a_malformed_row_is_refused_by_name(spoil: object) -> None:
    data = copy.deepcopy(_catalogue_data())
    assert callable(spoil)
    expected = spoil(data)
    with pytest.raises(RegistrationError) as raised:
        parse_catalogue(data, source="catalogue.json")
    assert str(raised.value).startswith("catalogue.json: ")
    assert expected in str(raised.value)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from praisonai.persistence import _catalogue

    broken = tmp_path / "catalogue.json"
    broken.write_text('{"conversation": [', encoding="utf-8")
    monkeypatch.setattr(_catalogue, "_FILE", str(broken))  # an absolute path: os.path.join keeps it
    with pytest.raises(RegistrationError, match="is not valid JSON"):
        _catalogue._read()
