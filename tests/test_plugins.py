"""Entry-point plugins: lazy discovery, broken plugins, name conflicts, and a real pip install."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from praisonai.persistence.errors import PluginLoadError
from praisonai.persistence.registry import PluginWarning, StateStoreRegistry

PLUGIN_MODULE = textwrap.dedent(
    '''
    """A tiny third-party plugin, as the reference page describes."""
    from praisonai.persistence.registry import CONVERSATION_STORES

    LOADS = []


    def create_store(url=None, **kwargs):
        LOADS.append(url)
        return CONVERSATION_STORES.create("sqlite", path=kwargs.get("path", ":memory:"))


    def create_kstore(url=None, **kwargs):
        from praisonai.persistence.knowledge.base import KnowledgeStore

        class TinyKnowledge(KnowledgeStore):
            def create_collection(self, name, dimension, distance="cosine", metadata=None): ...
            def delete_collection(self, name): return False
            def collection_exists(self, name): return False
            def list_collections(self): return []
            def insert(self, collection, documents): return []
            def upsert(self, collection, documents): return []
            def search(self, collection, query_embedding, limit=5, filters=None, score_threshold=None): return []
            def get(self, collection, ids): return []
            def delete(self, collection, ids=None, filters=None): return 0
            def count(self, collection): return 0
            def close(self): ...

        return TinyKnowledge()


    def create_sstore(url=None, **kwargs):
        return __import__("praisonai.persistence.registry", fromlist=["x"]).STATE_STORES.create("memory")


    def not_a_store(url=None, **kwargs):
        return object()
    '''
)


def write_distribution(site: Path, name: str, entry_points: str, module: str | None = None) -> None:
    """Lay out an installed distribution (dist-info with entry_points.txt) without pip."""
    dist_info = site / f"{name}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    if module is not None:
        (site / f"{name}.py").write_text(module)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    site = tmp_path / "site"
    site.mkdir()
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))
    for module in [m for m in sys.modules if m.startswith(("good_plugin", "broken_plugin", "hijack_plugin"))]:
        del sys.modules[module]


def test_discovery_is_lazy_cached_and_refreshable(site: Path) -> None:
    write_distribution(
        site,
        "good_plugin",
        """
        [praisonai.state_stores]
        mystate = good_plugin:create_sstore
        """,
        PLUGIN_MODULE,
    )
    registry = StateStoreRegistry("state", "praisonai.state_stores")
    assert "good_plugin" not in sys.modules  # constructing a registry reads nothing
    store = registry.create("memory")  # a built-in name needs no discovery
    assert "good_plugin" not in sys.modules
    store.close()
    assert "mystate" in registry.list_registered()
    info = registry.describe("mystate")
    assert (info.source, info.distribution, info.target) == ("entry_point", "good_plugin", "good_plugin:create_sstore")
    plugin_store = registry.create("mystate")
    plugin_store.set("k", "v")
    assert plugin_store.get("k") == "v"

    write_distribution(
        site,
        "good_plugin_two",
        """
        [praisonai.state_stores]
        laterstate = good_plugin:create_sstore
        """,
    )
    assert "laterstate" not in registry.list_registered()  # cached until refresh
    registry.refresh()
    assert {"laterstate", "mystate"} <= set(registry.list_registered())


def test_broken_plugin_warns_at_discovery_and_errors_on_use(site: Path) -> None:
    write_distribution(
        site,
        "broken_plugin",
        """
        [praisonai.state_stores]
        broken = broken_plugin:create
        missingattr = good_plugin:no_such_factory
        notcallable = broken_plugin:VALUE
        """,
        "VALUE = 42\nraise RuntimeError('plugin exploded on import')\n",
    )
    write_distribution(
        site,
        "good_plugin",
        """
        [praisonai.state_stores]
        mystate = good_plugin:create_sstore
        """,
        PLUGIN_MODULE,
    )
    registry = StateStoreRegistry("state", "praisonai.state_stores")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = registry.list_registered()
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert any("'broken'" in m and "plugin exploded on import" in m for m in messages)
    assert any("'missingattr'" in m for m in messages)
    assert "broken" not in names and "mystate" in names and "memory" in names
    with pytest.raises(PluginLoadError) as error:
        registry.create("broken")
    assert isinstance(error.value, ImportError)
    assert "plugin exploded on import" in str(error.value) and error.value.distribution == "broken_plugin"
    assert isinstance(error.value.__cause__, RuntimeError)
    described = {info.name: info for info in registry.describe_all()}
    assert described["broken"].error is not None and "RuntimeError" in described["broken"].error
    assert described["memory"].error is None
    assert registry.create("mystate").get("nothing") is None  # the others keep working


def test_plugin_cannot_hijack_a_builtin_name_or_alias(site: Path) -> None:
    write_distribution(
        site,
        "hijack_plugin",
        """
        [praisonai.conversation_stores]
        sqlite = good_plugin:create_store
        aiosqlite = good_plugin:create_store
        """,
        None,
    )
    from praisonai.persistence.registry import ConversationStoreRegistry

    registry = ConversationStoreRegistry("conversation", "praisonai.conversation_stores")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registry.list_registered()
    texts = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert any("'sqlite'" in t and "already taken by a built-in" in t for t in texts)
    assert any("'aiosqlite'" in t and "alias" in t for t in texts)
    assert registry.describe("sqlite").source == "builtin"
    assert registry.describe("aiosqlite").name == "async_sqlite"


def test_off_contract_plugin_result_is_a_type_error(site: Path) -> None:
    write_distribution(
        site,
        "good_plugin",
        """
        [praisonai.state_stores]
        wrong = good_plugin:not_a_store
        """,
        PLUGIN_MODULE,
    )
    registry = StateStoreRegistry("state", "praisonai.state_stores")
    with pytest.raises(TypeError, match="missing"):
        registry.create("wrong")


@pytest.mark.plugin_install
@pytest.mark.slow
def test_pip_installed_plugin_is_found_in_a_fresh_environment(tmp_path: Path) -> None:
    project = tmp_path / "my-pkg"
    package = project / "my_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "factory.py").write_text(PLUGIN_MODULE)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "my-pkg"
            version = "1.0"

            [tool.setuptools]
            packages = ["my_pkg"]

            [project.entry-points."praisonai.conversation_stores"]
            mybackend = "my_pkg.factory:create_store"

            [project.entry-points."praisonai.knowledge_stores"]
            mybackend = "my_pkg.factory:create_kstore"

            [project.entry-points."praisonai.state_stores"]
            mybackend = "my_pkg.factory:create_sstore"
            """
        )
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The fresh environment sees this interpreter's packages (ours, pydantic, setuptools) through a .pth
    # file, so that only the plugin is installed into it.
    child_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parent_paths = [entry for entry in sys.path if entry and Path(entry).is_dir()]
    (Path(child_site) / "parent_environment.pth").write_text("\n".join(parent_paths) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", str(project)],
        check=True,
    )
    script = textwrap.dedent(
        """
        import json
        from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES
        from praisonai.persistence.conversation.base import ConversationSession
        conversation = CONVERSATION_STORES.create("mybackend", url="proto://host")
        conversation.create_session(ConversationSession(session_id="s"))
        state = STATE_STORES.create("mybackend")
        state.set("k", "123")
        knowledge = KNOWLEDGE_STORES.create("mybackend")
        print(json.dumps({
            "conversation": CONVERSATION_STORES.list_registered(),
            "knowledge": KNOWLEDGE_STORES.list_registered(),
            "state": STATE_STORES.list_registered(),
            "session": conversation.get_session("s").session_id,
            "value": state.get("k"),
            "knowledge_collections": knowledge.list_collections(),
            "distribution": STATE_STORES.describe("mybackend").distribution,
        }))
        """
    )
    result = subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path)
    found = json.loads(result.stdout)
    for kind in ("conversation", "knowledge", "state"):
        assert "mybackend" in found[kind]
    assert found["session"] == "s" and found["value"] == "123"
    assert found["knowledge_collections"] == []
    assert found["distribution"] == "my-pkg"
