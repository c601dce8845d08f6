"""callable: the embedder contract on a deterministic function, plus its config and the registry's checks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from praisonai.persistence.embedders.base import Embedder
from praisonai.persistence.embedders.config import CallableEmbedderConfig
from praisonai.persistence.errors import BackendNotFoundError, ConfigError, ContractError, EngineError
from praisonai.persistence.registry import EMBEDDERS, EmbedderRegistry
from praisonai.persistence.testing import EmbedderContract

DIMENSION = 6


def hashed(texts: Sequence[str]) -> list[list[float]]:
    return [[byte / 255.0 - 0.5 for byte in hashlib.sha256(text.encode()).digest()[:DIMENSION]] for text in texts]


class TestCallableContract(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> Iterator[Embedder]:
        embedder = EMBEDDERS.create("callable", function=hashed, dimension=DIMENSION)
        yield embedder
        embedder.close()


class TestCallableBatchedNumpyContract(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> Iterator[Embedder]:
        embedder = EMBEDDERS.create(
            CallableEmbedderConfig(function=lambda texts: np.array(hashed(texts)), dimension=DIMENSION, batch_size=7)
        )
        yield embedder
        embedder.close()


def test_batches_calls_to_the_function() -> None:
    sizes: list[int] = []

    def function(texts: list[str]) -> list[list[float]]:
        sizes.append(len(texts))
        return hashed(texts)

    embedder = EMBEDDERS.create("function", function=function, dimension=DIMENSION, batch_size=4)
    assert embedder.embed([str(n) for n in range(10)]) == hashed([str(n) for n in range(10)])
    assert sizes == [4, 4, 2]


@pytest.mark.parametrize(
    ("returned", "needle"),
    [
        ([[0.0] * (DIMENSION - 1)], "dimension 5"),
        ([], "returned 0 vectors for 1 texts"),
        ([[float("nan")] * DIMENSION], "finite"),
        ([["x"] * DIMENSION], "finite numbers"),
        ("not vectors", "not a list of vectors"),
    ],
)
def test_what_the_function_returns_is_checked(returned: object, needle: str) -> None:
    embedder = EMBEDDERS.create("callable", function=lambda texts: returned, dimension=DIMENSION)
    with pytest.raises(EngineError, match=needle) as error:
        embedder.embed(["text"])
    assert error.value.backend == "callable"


def test_an_error_of_the_function_is_an_engine_error_with_its_cause() -> None:
    def broken(texts: list[str]) -> list[list[float]]:
        raise RuntimeError("model exploded")

    with pytest.raises(EngineError, match="model exploded") as error:
        EMBEDDERS.create("callable", function=broken, dimension=2).embed(["x"])
    assert isinstance(error.value.__cause__, RuntimeError)


def test_config_reports_every_bad_field() -> None:
    with pytest.raises(ConfigError) as error:
        EMBEDDERS.create("callable", function="not callable", dimension=0, batch_sise=3)
    fields = {problem.field for problem in error.value.errors}
    assert fields == {"function", "dimension", "batch_sise"}
    assert "batch_size" in str(error.value)  # the close match is suggested


def test_unknown_embedder_suggests_a_name() -> None:
    with pytest.raises(BackendNotFoundError) as error:
        EMBEDDERS.create("sentence_transformerz")
    assert error.value.suggestion == "sentence_transformers"
    assert isinstance(error.value, ValueError)


def test_validate_returns_the_config_without_importing_the_adapter() -> None:
    config = EMBEDDERS.validate("openai", model="tiny", dimension=8, base_url="http://127.0.0.1:9/v1")
    assert config is not None and (config.backend, config.kind, config.dimension) == ("openai", "embedder", 8)


class _NoDimension:
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return []

    def embed_query(self, text: str) -> list[float]:
        return []

    def close(self) -> None: ...

    def __enter__(self) -> _NoDimension:
        return self

    def __exit__(self, *exc: object) -> None: ...


def test_off_contract_factories_are_contract_errors() -> None:
    registry = EmbedderRegistry("embedder", "praisonai.embedders", include_builtins=False)
    registry.register("halfway", lambda **kwargs: _NoDimension())
    with pytest.raises(ContractError) as error:
        registry.create("halfway")
    assert error.value.missing == ("dimension",) and isinstance(error.value, TypeError)

    class OnlyEmbed:
        dimension = 0

        def embed(self, texts: Sequence[str]) -> list[list[float]]:
            return []

    registry.register("tiny", lambda **kwargs: OnlyEmbed())
    with pytest.raises(ContractError) as error:
        registry.create("tiny")
    assert set(error.value.missing) >= {"close", "embed_query", "dimension"}
    assert "embed" not in error.value.missing


def test_async_embedders_are_recognized() -> None:
    from praisonai.persistence.embedders.base import AsyncEmbedder

    class Remote(AsyncEmbedder):
        dimension = 3

        async def embed(self, texts: Sequence[str]) -> list[list[float]]:
            return [[1.0, 0.0, 0.0] for _ in texts]

        async def close(self) -> None: ...

    registry = EmbedderRegistry("embedder", "praisonai.embedders", include_builtins=False)
    registry.register("remote", lambda **kwargs: Remote())
    assert isinstance(registry.create("remote"), AsyncEmbedder)

    class Mixed(Remote):
        def close(self) -> None:  # type: ignore[override]
            ...

    registry.register("mixed", lambda **kwargs: Mixed())
    with pytest.raises(ContractError, match="not async: close"):
        registry.create("mixed")


def test_a_config_opens_its_embedder() -> None:
    with CallableEmbedderConfig(function=hashed, dimension=DIMENSION).open() as embedder:
        assert embedder.embed(["x"]) == hashed(["x"])
