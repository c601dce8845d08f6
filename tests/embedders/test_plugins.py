"""An embedder plugin found through the ``praisonai.embedders`` entry-point group, used by name as a
knowledge store's embedder, and held to the embedder contract like the built-ins."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from praisonai.persistence.embedders.base import Embedder
from praisonai.persistence.errors import ContractError
from praisonai.persistence.knowledge.base import KnowledgeDocument
from praisonai.persistence.registry import EMBEDDERS, KNOWLEDGE_STORES, EmbedderRegistry
from praisonai.persistence.testing import EmbedderContract
from tests.test_plugins import site, write_distribution  # noqa: F401  # site: the fixture

PLUGIN = textwrap.dedent(
    '''
    """A third-party embedder: letter counts, written against the public protocol only."""
    from praisonai.persistence.embedders.base import Embedder
    from praisonai.persistence.errors import InvalidInputError, StoreClosedError


    class LetterCounts(Embedder):
        def __init__(self, letters="etaoinshrdlu"):
            self.letters = letters
            self.closed = False

        @property
        def dimension(self):
            return len(self.letters)

        def embed(self, texts):
            if self.closed:
                raise StoreClosedError("closed", backend="letters")
            if isinstance(texts, (str, bytes)) or not isinstance(texts, (list, tuple)):
                raise InvalidInputError("texts must be a list of str", backend="letters")
            if not all(isinstance(text, str) for text in texts):
                raise InvalidInputError("texts must be a list of str", backend="letters")
            return [[float(text.lower().count(letter)) + 0.5 for letter in self.letters] for text in texts]

        def close(self):
            self.closed = True


    def create(letters="etaoinshrdlu"):
        return LetterCounts(letters)


    def broken(**options):
        return object()
    '''
)


@pytest.fixture
def plugin(site: Path) -> Iterator[None]:  # noqa: F811
    write_distribution(
        site,
        "good_plugin_embedder",
        """
        [praisonai.embedders]
        letters = good_plugin_embedder:create
        offcontract = good_plugin_embedder:broken
        """,
        PLUGIN,
    )
    EMBEDDERS.refresh()
    yield
    EMBEDDERS.refresh()


class TestPluginEmbedderContract(EmbedderContract):
    @pytest.fixture
    def embedder(self, plugin: None) -> Iterator[Embedder]:
        embedder = EMBEDDERS.create("letters")
        yield embedder
        embedder.close()


def test_the_plugin_is_discovered_lazily_and_described(site: Path) -> None:  # noqa: F811
    write_distribution(
        site, "good_plugin_embedder", "[praisonai.embedders]\nletters = good_plugin_embedder:create\n", PLUGIN
    )
    registry = EmbedderRegistry("embedder", "praisonai.embedders")
    assert not registry._discovered
    registry.create("callable", function=lambda texts: [[1.0] for _ in texts], dimension=1)
    assert not registry._discovered  # a built-in name reads no entry point
    info = registry.describe("letters")
    assert (info.kind, info.source, info.distribution) == ("embedder", "entry_point", "good_plugin_embedder")
    assert registry.create("letters", letters="ab").dimension == 2


def test_a_knowledge_store_takes_the_plugin_by_name(plugin: None) -> None:
    with KNOWLEDGE_STORES.create("memory", embedder="letters") as store:
        store.create_collection("docs")
        store.insert("docs", [KnowledgeDocument(id="e", content="eeee eee"), KnowledgeDocument(id="t", content="ttt")])
        assert store.search_text("docs", "tt", limit=1)[0].id == "t"


def test_an_off_contract_plugin_is_a_contract_error(plugin: None) -> None:
    with pytest.raises(ContractError) as error:
        EMBEDDERS.create("offcontract")
    assert "dimension" in error.value.missing and "embed" in error.value.missing
