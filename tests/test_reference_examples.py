"""Every Python example of the reference page runs unchanged against this package.

The page is vendored in docs/reference/ (a test keeps it equal to the shared
copy when that is present). Its one deliberate exception: the "Custom Database
Adapter" sketch, whose store lacks the contract's methods, gets the create-time
TypeError naming them.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.errors import ContractError
from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "docs" / "reference" / "persistence-backend-plugins.md"
SHARED_PAGE = ROOT.parent / "shared" / "reference" / "persistence-backend-plugins.md"


def python_blocks() -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```python[^\n]*\n(.*?)```", text, re.DOTALL)
    return [textwrap.dedent(block) for block in blocks]


BLOCKS = python_blocks()


@pytest.fixture
def clean_registries() -> Iterator[None]:
    before = {r.kind: set(r.list_registered()) for r in (CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES)}
    yield
    for registry in (CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES):
        for name in set(registry.list_registered()) - before[registry.kind]:
            registry.unregister(name)


@pytest.fixture
def my_pkg(tmp_path: Path) -> Iterator[None]:
    """The `my_pkg` the quick start imports: a package with a store that keeps the contract."""
    (tmp_path / "my_pkg.py").write_text(
        textwrap.dedent(
            """
            from praisonai.persistence.conversation.sqlite import SqliteConversationStore
            from praisonai.persistence.conversation.config import SqliteConversationConfig

            class MyConversationStore(SqliteConversationStore):
                def __init__(self, url=None, **kwargs):
                    self.url = url
                    super().__init__(SqliteConversationConfig(path=":memory:"))
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))
    sys.modules.pop("my_pkg", None)


def test_page_has_the_examples_we_run() -> None:
    assert len(BLOCKS) == 4


def test_vendored_page_is_the_shared_page() -> None:
    if not SHARED_PAGE.exists():
        pytest.skip(f"the shared reference page is not beside this checkout ({SHARED_PAGE})")
    assert PAGE.read_text(encoding="utf-8") == SHARED_PAGE.read_text(encoding="utf-8")


def test_quick_start(clean_registries: None, my_pkg: None) -> None:
    namespace: dict[str, Any] = {}
    exec(BLOCKS[0], namespace)
    store = namespace["store"]
    assert type(store).__name__ == "MyConversationStore" and store.url == "proto://host"
    assert CONVERSATION_STORES.list_aliases()["mb"] == "mybackend"
    store.close()


def test_custom_database_adapter_gets_the_create_time_type_error(clean_registries: None) -> None:
    with pytest.raises(TypeError) as caught:
        exec(BLOCKS[1], {})
    assert isinstance(caught.value, ContractError)
    assert "'customdb'" in str(caught.value)
    assert {"create_session", "get_session", "add_message", "get_messages", "close"} <= set(caught.value.missing)


def test_multi_backend_package(clean_registries: None, my_pkg: None) -> None:
    from praisonai.persistence.knowledge.config import KnowledgeConfig  # noqa: F401 - kind exists

    def create_conversation_store(url: str | None = None, **kwargs: Any) -> Any:
        return CONVERSATION_STORES.create("sqlite", path=":memory:")

    def create_knowledge_store(url: str | None = None, **kwargs: Any) -> Any:
        return KNOWLEDGE_STORES.create("memory")

    def create_state_store(url: str | None = None, **kwargs: Any) -> Any:
        return STATE_STORES.create("memory")

    namespace: dict[str, Any] = {
        "create_conversation_store": create_conversation_store,
        "create_knowledge_store": create_knowledge_store,
        "create_state_store": create_state_store,
    }
    exec(BLOCKS[2], namespace)
    assert "myconv" in CONVERSATION_STORES.list_registered()
    assert "myknow" in KNOWLEDGE_STORES.list_registered()
    assert "mystate" in STATE_STORES.list_registered()
    STATE_STORES.create("mystate").set("k", 1)
    CONVERSATION_STORES.create("myconv").close()


def test_listing_available_backends(capsys: pytest.CaptureFixture[str]) -> None:
    exec(BLOCKS[3], {})
    printed = capsys.readouterr().out
    assert "Conversation backends: [" in printed and "'sqlite'" in printed
    assert "State backends: [" in printed and "'memory'" in printed
    assert "Aliases: {" in printed and "'aiosqlite': 'async_sqlite'" in printed


def page_backends() -> dict[str, dict[str, set[str]]]:
    """Per kind: the primary backends the page names, and each one's aliases."""
    text = PAGE.read_text(encoding="utf-8")
    kinds: dict[str, dict[str, set[str]]] = {}
    for kind, section in re.findall(r"### (\w+) Stores\n(.*?)(?=\n### |\n\*\*\*)", text, re.DOTALL):
        primary = re.search(r"\*\*Primary backends:\*\* (.*)", section)
        assert primary is not None
        names = {name: set() for name in re.findall(r"`(\w+)`", primary.group(1))}
        for aliases, target in re.findall(r"^\* (.*?) → `(\w+)`", section, re.MULTILINE):
            names[target] |= set(re.findall(r"`(\w+)`", aliases))
        kinds[kind.lower()] = names
    return kinds


def test_every_backend_the_page_names_is_built_in_with_its_aliases() -> None:
    named = page_backends()
    assert set(named) == {"conversation", "knowledge", "state"}
    assert sum(len(names) for names in named.values()) == 38
    registries = {"conversation": CONVERSATION_STORES, "knowledge": KNOWLEDGE_STORES, "state": STATE_STORES}
    for kind, names in named.items():
        registry = registries[kind]
        for name, aliases in names.items():
            info = registry.describe(name)
            assert (info.name, info.source) == (name, "builtin"), (kind, name)
            assert aliases <= set(info.aliases), (kind, name, aliases - set(info.aliases))
