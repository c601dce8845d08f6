"""Every public name of PraisonAI 4.7.19's ``praisonai.persistence`` exists here, in the same module.

The names are read from the generated part of tests/fixtures/praisonai_4_7_19/INVENTORY.md
("Public names per module", written by ``inventory.py`` from PraisonAI installed from PyPI),
so the list is the inventory's, not one kept by hand. ``NOT_PROVIDED`` lists what is left out, each with why
(docs/migrating-from-praisonai.md says the same).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

INVENTORY = Path(__file__).parents[1] / "fixtures" / "praisonai_4_7_19" / "INVENTORY.md"

# PraisonAI's private modules (a leading underscore): internals, not API.
PRIVATE_MODULES = {
    "praisonai.persistence._valkey_client",
    "praisonai.persistence.conversation._ops",
    "praisonai.persistence.conversation._sql_base",
    "praisonai.persistence.conversation._sqlite_base",
}
_GLIDE = {
    "Batch",
    "DataType",
    "DistanceMetricType",
    "ExpirySet",
    "ExpiryType",
    "FtCreateOptions",
    "FtSearchOptions",
    "NumericField",
    "ReturnField",
    "TextField",
    "VectorAlgorithm",
    "VectorField",
    "VectorFieldAttributesHnsw",
    "VectorType",
    "create_valkey_client",
    "ft",
}
NOT_PROVIDED: dict[str, set[str]] = {
    # valkey-glide's names (None without it) and PraisonAI's glide client factory: our valkey backends use redis-py.
    "praisonai.persistence.knowledge.valkey_vector": _GLIDE,
    "praisonai.persistence.state.valkey": _GLIDE & {"ExpirySet", "ExpiryType", "create_valkey_client"},
    # the libsql driver module (None without it): ours is imported when a store opens.
    "praisonai.persistence.conversation.turso": {"libsql"},
    # a class of praisonai.storage, another part of PraisonAI, re-exported by its redis module.
    "praisonai.persistence.state.redis": {"RedisStorageAdapter"},
}


def _inventory() -> dict[str, list[tuple[str, str]]]:
    text = INVENTORY.read_text(encoding="utf-8")
    part = text.split("## Public names per module (generated)", 1)[1].split("### Modules that failed to import", 1)[0]
    modules: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in part.splitlines():
        if heading := re.fullmatch(r"### `([\w.]+)`", line):
            current = modules.setdefault(heading.group(1), [])
        elif (row := re.match(r"\| `(\w+)` \| ([^|]+?) \|", line)) and current is not None:
            current.append((row.group(1), row.group(2)))
    return modules


MODULES = _inventory()
CASES = [
    (module, name, kind)
    for module, names in MODULES.items()
    if module not in PRIVATE_MODULES
    for name, kind in names
    if name not in NOT_PROVIDED.get(module, set())
]


def test_the_inventory_was_read() -> None:
    assert len(MODULES) == 60 and len(CASES) > 250
    assert ("praisonai.persistence.conversation.sqlite", "SQLiteConversationStore", "class") in CASES


@pytest.mark.parametrize(("module", "name", "kind"), CASES, ids=[f"{m}:{n}" for m, n, _ in CASES])
def test_name_exists_in_the_same_module(module: str, name: str, kind: str) -> None:
    value = getattr(importlib.import_module(module), name)
    if kind == "class":
        assert isinstance(value, type)
    elif kind == "function":
        assert callable(value)


STORE_CLASSES = [
    (module, name)
    for module, names in MODULES.items()
    for name, kind in names
    if kind == "class"
    and name.endswith("Store")
    and module.rsplit(".", 1)[-1] != "base"
    and module.count(".") == 3
    and not module.rsplit(".", 1)[-1].startswith("_")
]


@pytest.mark.parametrize(("module", "name"), STORE_CLASSES, ids=[f"{m}:{n}" for m, n in STORE_CLASSES])
def test_store_classes_are_the_backends_of_their_kind(module: str, name: str) -> None:
    from praisonai.persistence.registry import get_default_registry

    cls = getattr(importlib.import_module(module), name)
    if name in {"ConversationStore", "AsyncConversationStore", "KnowledgeStore", "StateStore", "AsyncStateStore"}:
        return  # a contract re-exported by a backend module (checked above)
    from praisonai.persistence._catalogue import BUILTINS
    from praisonai.persistence._loading import load_object

    kind = module.split(".")[2]
    names = [row.name for row in BUILTINS if row.kind == kind and issubclass(load_object(row.adapter), cls)]
    assert names, f"{name} is the store class of no {kind} backend"
    # the registry builds it: PraisonAI's name for the class is the backend's store class (or a subclass of it)
    assert all(issubclass(get_default_registry(kind).resolve(backend), cls) for backend in names)
