"""Plugins: one that raises on import, returns the wrong thing or takes long to import breaks nothing else.

Each test lays out installed distributions (dist-info with entry points) in a temporary
directory on ``sys.path`` and uses fresh registries, so nothing leaks into other tests.
Broken plugins: modules that raise (an exception, an ImportError of a missing dependency,
``sys.exit()``), an entry point that is not callable, factories that raise, return None,
return an object off the contract, a store of the wrong kind, or an async store in part.
In every case the listing comes back with every built-in and every good plugin, the
broken plugin is reported on its own, and the other backends keep working.
"""

from __future__ import annotations

import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from praisonai.persistence._catalogue import BUILTINS
from praisonai.persistence.conversation.base import ConversationSession
from praisonai.persistence.errors import ContractError, PluginLoadError
from praisonai.persistence.registry import ConversationStoreRegistry, PluginWarning, StateStoreRegistry
from tests.test_plugins import write_distribution

from .conftest import Figures

pytestmark = [pytest.mark.reliability]

SLOW_IMPORT_SECONDS = 2.0
MODULES = ("rel_good", "rel_raises", "rel_missing_dep", "rel_exits", "rel_factories", "rel_slow", "rel_importing")

GOOD = textwrap.dedent(
    """
    from praisonai.persistence.registry import STATE_STORES, CONVERSATION_STORES

    def state(url=None, **kwargs):
        return STATE_STORES.create("memory")

    def conversation(url=None, **kwargs):
        return CONVERSATION_STORES.create("sqlite", path=":memory:")
    """
)
FACTORIES = textwrap.dedent(
    """
    from praisonai.persistence.registry import STATE_STORES

    VALUE = 42

    def explodes(url=None, **kwargs):
        raise RuntimeError("factory exploded")

    def returns_none(url=None, **kwargs):
        return None

    def returns_object(url=None, **kwargs):
        return object()

    def returns_state_store(url=None, **kwargs):
        return STATE_STORES.create("memory")  # registered as a conversation store: the wrong kind

    class HalfAsync:
        def __getattr__(self, name):
            raise AttributeError(name)

    def returns_half_async(url=None, **kwargs):
        store = STATE_STORES.create("memory")

        class Mixed(type(store)):
            async def get(self, key):
                return None

        return Mixed()
    """
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    site = tmp_path / "site"
    site.mkdir()
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))
    for module in [name for name in sys.modules if name.startswith(MODULES)]:
        del sys.modules[module]


def _broken_site(site: Path) -> None:
    write_distribution(site, "rel_good", "[praisonai.state_stores]\nrel_good = rel_good:state\n", GOOD)
    write_distribution(
        site,
        "rel_raises",
        "[praisonai.state_stores]\nrel_raises = rel_raises:create\n",
        "raise RuntimeError('plugin exploded on import')\n",
    )
    write_distribution(
        site,
        "rel_missing_dep",
        "[praisonai.state_stores]\nrel_missing_dep = rel_missing_dep:create\n",
        "import a_dependency_that_is_not_installed_xyz\n",
    )
    write_distribution(
        site,
        "rel_exits",
        "[praisonai.state_stores]\nrel_exits = rel_exits:create\n",
        "import sys\nsys.exit('plugin called sys.exit on import')\n",
    )
    write_distribution(
        site,
        "rel_factories",
        textwrap.dedent(
            """
            [praisonai.state_stores]
            rel_not_callable = rel_factories:VALUE
            rel_explodes = rel_factories:explodes
            rel_returns_none = rel_factories:returns_none
            rel_returns_object = rel_factories:returns_object
            rel_half_async = rel_factories:returns_half_async
            rel_missing_attr = rel_factories:no_such_factory
            """
        ),
        FACTORIES,
    )


BUILTIN_STATE = sorted(backend.name for backend in BUILTINS if backend.kind == "state")


def test_broken_plugins_break_neither_listing_nor_other_backends(site: Path, figures: Figures) -> None:
    _broken_site(site)
    registry = StateStoreRegistry("state", "praisonai.state_stores")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = registry.list_registered()
    warned = " ".join(str(warning.message) for warning in caught if issubclass(warning.category, PluginWarning))
    for broken in ("rel_raises", "rel_missing_dep", "rel_exits", "rel_not_callable", "rel_missing_attr"):
        assert f"'{broken}'" in warned, broken
        assert broken not in names
    assert set(BUILTIN_STATE) <= set(names)
    assert {"rel_good", "rel_explodes", "rel_returns_none", "rel_returns_object", "rel_half_async"} <= set(names)
    assert registry.list_registered() == names  # cached: the broken modules are not imported again

    for broken, cause in (("rel_raises", RuntimeError), ("rel_missing_dep", ImportError), ("rel_exits", SystemExit)):
        with pytest.raises(PluginLoadError) as error:
            registry.create(broken)
        assert error.value.backend == broken and isinstance(error.value.__cause__, cause)
    with pytest.raises(RuntimeError, match="factory exploded"):
        registry.create("rel_explodes")
    for off_contract in ("rel_returns_none", "rel_returns_object", "rel_half_async"):
        with pytest.raises(ContractError) as contract:
            registry.create(off_contract)
        assert contract.value.backend == off_contract
    described = {info.name: info for info in registry.describe_all()}
    assert described["rel_exits"].error is not None and "SystemExit" in described["rel_exits"].error

    # Everything else works: the good plugin and every built-in this machine can open without a server.
    good = registry.create("rel_good")
    good.set("k", "v")
    assert good.get("k") == "v"
    memory = registry.create("memory")
    memory.set("k", 1)
    assert memory.get("k") == 1
    figures.record("plugins", "broken plugins at discovery", broken=9, listing="complete", other_backends="working")


def test_a_plugin_of_the_wrong_kind_is_a_contract_error(site: Path) -> None:
    write_distribution(
        site,
        "rel_factories",
        "[praisonai.conversation_stores]\nrel_state_as_conversation = rel_factories:returns_state_store\n",
        FACTORIES,
    )
    registry = ConversationStoreRegistry("conversation", "praisonai.conversation_stores")
    with pytest.raises(ContractError, match="missing"):
        registry.create("rel_state_as_conversation")
    store = registry.create("sqlite", path=":memory:")
    store.create_session(ConversationSession(session_id="s"))
    assert store.get_session("s") is not None


def test_a_slow_plugin_import_blocks_no_other_backend(site: Path, figures: Figures) -> None:
    write_distribution(
        site,
        "rel_slow",
        "[praisonai.conversation_stores]\nrel_slow = rel_slow:conversation\n",
        f"import time\ntime.sleep({SLOW_IMPORT_SECONDS})\n" + GOOD,
    )
    write_distribution(site, "rel_good", "[praisonai.conversation_stores]\nrel_good = rel_good:conversation\n", GOOD)
    registry = ConversationStoreRegistry("conversation", "praisonai.conversation_stores")
    states = StateStoreRegistry("state", "praisonai.state_stores")
    listings: list[list[str]] = []
    started = time.monotonic()

    def list_names() -> None:
        listings.append(registry.list_registered())

    first = threading.Thread(target=list_names)
    first.start()
    time.sleep(0.2)  # the first listing is now importing the slow plugin
    second = threading.Thread(target=list_names)
    second.start()
    # Meanwhile: a built-in store of the same registry, and another registry, work at once.
    blocked_for = time.monotonic()
    store = registry.create("sqlite", path=":memory:")
    store.create_session(ConversationSession(session_id="s"))
    assert store.get_session("s") is not None
    state_names = states.list_registered()
    blocked_for = time.monotonic() - blocked_for
    assert blocked_for < SLOW_IMPORT_SECONDS / 2, f"other backends waited {blocked_for:.2f} s for the slow plugin"
    assert set(BUILTIN_STATE) <= set(state_names)
    first.join(timeout=30)
    second.join(timeout=30)
    elapsed = time.monotonic() - started
    # Both listings are complete: the second waited for the first rather than returning half a list.
    assert len(listings) == 2 and listings[0] == listings[1]
    assert {"rel_slow", "rel_good", "sqlite", "postgres"} <= set(listings[0])
    assert registry.create("rel_slow").get_session("x") is None
    figures.record(
        "plugins", "slow import", import_seconds=SLOW_IMPORT_SECONDS, others_waited=round(blocked_for, 3),
        listing_seconds=round(elapsed, 2),
    )  # fmt: skip
