"""Contract suite for embedders: the semantics of ``embedders/base.py``.

Subclass :class:`EmbedderContract` with an ``embedder`` fixture yielding a
ready :class:`~praisonai.persistence.embedders.base.Embedder`::

    class TestMyEmbedder(EmbedderContract):
        @pytest.fixture
        def embedder(self):
            embedder = MyEmbedder(...)
            yield embedder
            embedder.close()

Vectors are compared within ``tolerance`` (absolute and relative), as a model
may give slightly different floats for one text in batches of other sizes. A
model that embeds queries differently from documents sets
``query_is_document_vector = False``. The suite embeds at most a few hundred
short texts and needs nothing beyond pytest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from ..embedders.base import Embedder
from ..errors import InvalidInputError, StoreError
from ._support import run_in_threads

__all__ = ["EmbedderContract"]

TEXTS = (
    "The cat sat on the mat.",
    "Paris is the capital of France.",
    "Quantum computers use qubits.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "東京は日本の首都です。",
    "Emoji travel too: 🚀🌍",
    "a",
)


def _close(a: Sequence[float], b: Sequence[float], tolerance: float) -> bool:
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=tolerance, abs_tol=tolerance) for x, y in zip(a, b, strict=True)
    )


class EmbedderContract:
    """Every embedder keeps these; subclass with an ``embedder`` fixture."""

    tolerance: ClassVar[float] = 1e-4
    query_is_document_vector: ClassVar[bool] = True
    max_batch: ClassVar[int] = 300
    """The largest call the suite makes (the embedder splits it into its own batches)."""

    def _check_vectors(self, embedder: Embedder, vectors: Any, count: int) -> None:
        assert isinstance(vectors, list) and len(vectors) == count
        for vector in vectors:
            assert isinstance(vector, list) and len(vector) == embedder.dimension
            assert all(type(value) is float and math.isfinite(value) for value in vector)

    def test_is_an_embedder_with_a_positive_int_dimension(self, embedder: Embedder) -> None:
        assert isinstance(embedder, Embedder)
        assert type(embedder.dimension) is int and embedder.dimension >= 1
        assert embedder.dimension == embedder.dimension

    def test_one_vector_per_text_in_order(self, embedder: Embedder) -> None:
        vectors = embedder.embed(list(TEXTS))
        self._check_vectors(embedder, vectors, len(TEXTS))
        singles = [embedder.embed([text])[0] for text in TEXTS]
        for text, vector, single in zip(TEXTS, vectors, singles, strict=True):
            assert _close(vector, single, self.tolerance), f"{text!r} embeds differently alone and in a batch"

    def test_accepts_any_sequence_of_str(self, embedder: Embedder) -> None:
        as_list = embedder.embed(list(TEXTS[:3]))
        as_tuple = embedder.embed(TEXTS[:3])
        assert all(_close(a, b, self.tolerance) for a, b in zip(as_list, as_tuple, strict=True))

    def test_empty_input_gives_no_vectors(self, embedder: Embedder) -> None:
        assert embedder.embed([]) == []

    def test_same_text_same_vector_and_different_texts_differ(self, embedder: Embedder) -> None:
        first, second, other = embedder.embed([TEXTS[1], TEXTS[1], TEXTS[2]])
        assert _close(first, second, self.tolerance)
        assert not _close(first, other, self.tolerance)
        again = embedder.embed([TEXTS[1]])[0]
        assert _close(first, again, self.tolerance)

    def test_embed_query(self, embedder: Embedder) -> None:
        query: object = embedder.embed_query(TEXTS[0])
        assert isinstance(query, list) and len(query) == embedder.dimension
        assert all(type(value) is float and math.isfinite(value) for value in query)
        if self.query_is_document_vector:
            assert _close(query, embedder.embed([TEXTS[0]])[0], self.tolerance)

    def test_a_large_call_is_batched_transparently(self, embedder: Embedder) -> None:
        texts = [f"document number {index}: {TEXTS[index % len(TEXTS)]}" for index in range(self.max_batch)]
        vectors = embedder.embed(texts)
        self._check_vectors(embedder, vectors, len(texts))
        assert _close(vectors[-1], embedder.embed([texts[-1]])[0], self.tolerance)

    @pytest.mark.parametrize("bad", ["a lone string", b"bytes", None, 42])
    def test_refuses_what_is_not_a_sequence_of_texts(self, embedder: Embedder, bad: Any) -> None:
        with pytest.raises(InvalidInputError):
            embedder.embed(bad)

    @pytest.mark.parametrize("bad", [None, 3, b"bytes", ["nested"]])
    def test_refuses_items_that_are_not_str(self, embedder: Embedder, bad: Any) -> None:
        with pytest.raises(InvalidInputError):
            embedder.embed(["fine", bad])

    def test_threads_get_the_same_vectors(self, embedder: Embedder) -> None:
        expected = embedder.embed(list(TEXTS))
        results: dict[int, list[list[float]]] = {}

        def work(number: int) -> None:
            results[number] = embedder.embed(list(TEXTS))

        assert run_in_threads(work, 4) == []
        for vectors in results.values():
            assert all(_close(a, b, self.tolerance) for a, b in zip(vectors, expected, strict=True))

    def test_close_is_idempotent_and_final(self, embedder: Embedder) -> None:
        embedder.close()
        embedder.close()
        with pytest.raises(StoreError):
            embedder.embed(["after close"])
