"""What every built-in embedder does around its model: check the texts going in and the vectors coming out."""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

from .._guard import GuardedStore
from ..errors import EngineError, InvalidInputError
from .base import Embedder, Vector

__all__ = ["CheckedEmbedder", "batches", "check_texts", "check_vectors"]


class CheckedEmbedder(GuardedStore, Embedder):
    """A built-in embedder: ``embed`` checks the texts under the call guard, then asks ``_embed``."""

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        with self._guard:
            return self._embed(check_texts(texts, self.backend))

    @abstractmethod
    def _embed(self, texts: list[str]) -> list[Vector]:
        """The vectors of the checked ``texts``, in order (called under the guard)."""


def check_texts(texts: object, backend: str) -> list[str]:
    """``texts`` as a new list of str; a lone str (a common slip for ``[text]``) and non-str items are refused."""
    if isinstance(texts, (str, bytes, bytearray)) or not isinstance(texts, Sequence):
        raise InvalidInputError(
            f"texts must be a sequence of str (wrap one text in a list), not {type(texts).__name__}", backend=backend
        )
    checked = list(texts)
    for index, text in enumerate(checked):
        if not isinstance(text, str):
            raise InvalidInputError(f"texts[{index}] must be a str, not {type(text).__name__}", backend=backend)
    return checked


def check_vectors(vectors: Any, count: int, dimension: int, backend: str) -> list[Vector]:
    """What a model returned, as ``count`` lists of ``dimension`` finite floats, or an :class:`EngineError`."""
    if hasattr(vectors, "tolist"):  # numpy and torch arrays
        vectors = vectors.tolist()
    if isinstance(vectors, (str, bytes)) or not isinstance(vectors, Sequence):
        raise EngineError(f"the model returned a {type(vectors).__name__}, not a list of vectors", backend=backend)
    if len(vectors) != count:
        raise EngineError(f"the model returned {len(vectors)} vectors for {count} texts", backend=backend)
    checked: list[Vector] = []
    for index, vector in enumerate(vectors):
        if hasattr(vector, "tolist"):
            vector = vector.tolist()
        if isinstance(vector, (str, bytes)) or not isinstance(vector, Sequence):
            raise EngineError(f"vector {index} is a {type(vector).__name__}, not a list of floats", backend=backend)
        if len(vector) != dimension:
            raise EngineError(
                f"vector {index} has dimension {len(vector)}; the embedder's dimension is {dimension}",
                backend=backend,
            )
        try:
            floats = [float(value) for value in vector if not isinstance(value, bool)]
        except (TypeError, ValueError):
            floats = []
        if len(floats) != dimension or not all(map(math.isfinite, floats)):
            raise EngineError(f"vector {index} is not {dimension} finite numbers", backend=backend)
        checked.append(floats)
    return checked


def batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
