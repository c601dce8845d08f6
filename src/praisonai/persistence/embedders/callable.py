"""callable: an embedder around a function of yours, ``texts -> vectors``.

Engine: your function, called in this thread (no extra needed).
Options: ``function``, ``dimension`` (declared, and checked on every vector),
``batch_size`` (at most that many texts per call).
Test tier: embedded (deterministic functions in the tests).

>>> EMBEDDERS.create("callable", function=my_model.encode, dimension=384)
"""

from __future__ import annotations

from ._checked import CheckedEmbedder, batches, check_vectors
from .base import Vector
from .config import CallableEmbedderConfig

__all__ = ["CallableEmbedder"]


class CallableEmbedder(CheckedEmbedder):
    """Calls ``config.function`` on the texts, a batch at a time, and checks what it returns."""

    backend = "callable"

    def __init__(self, config: CallableEmbedderConfig) -> None:
        self.config = config
        self._dimension = config.dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    def _embed(self, texts: list[str]) -> list[Vector]:
        size = self.config.batch_size or max(len(texts), 1)
        vectors: list[Vector] = []
        for batch in batches(texts, size):
            returned = self.config.function(list(batch))
            vectors.extend(check_vectors(returned, len(batch), self._dimension, self.backend))
        return vectors

    def close(self) -> None:
        self._closed = True

    def __repr__(self) -> str:
        name = getattr(self.config.function, "__qualname__", type(self.config.function).__name__)
        return f"<CallableEmbedder {name} dimension={self._dimension}>"
