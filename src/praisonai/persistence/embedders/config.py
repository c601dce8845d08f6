"""Config models of the built-in embedders.

Validated before the adapter module or its driver is imported, like the stores'
configs (see ``_config.py``): every bad field at once, secrets masked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator

from .._catalogue import Kind
from .._config import KindConfig

if TYPE_CHECKING:
    from .base import Embedder  # noqa: F401  # named (quoted) in EmbedderConfig's base

__all__ = [
    "CallableEmbedderConfig",
    "EmbedderConfig",
    "OpenAIEmbedderConfig",
    "SentenceTransformersEmbedderConfig",
]

MAX_DIMENSION = 65_536


class EmbedderConfig(KindConfig["Embedder"]):
    """Config of an embedder; ``open()`` is an Embedder."""

    kind: ClassVar[Kind] = "embedder"


class CallableEmbedderConfig(EmbedderConfig):
    """A function of yours, ``texts -> vectors``, with the dimension it declares.

    Every vector the function returns is checked against ``dimension``.
    """

    backend: ClassVar[str] = "callable"

    function: Callable[[list[str]], Sequence[Sequence[float]]]
    """Called with a list of texts; returns one vector per text (lists, tuples or a numpy array)."""
    dimension: int = Field(ge=1, le=MAX_DIMENSION)
    batch_size: int | None = Field(default=None, ge=1, le=1_000_000)
    """Call ``function`` with at most this many texts at a time (None: all at once)."""


class SentenceTransformersEmbedderConfig(EmbedderConfig):
    """A sentence-transformers model, run in this process.

    ``model`` is a directory holding the model, or a model name on the
    Hugging Face Hub (downloaded into ``cache_folder`` on first use unless
    ``local_files_only``). ``dimension`` is read from the model; when given it
    must match.
    """

    backend: ClassVar[str] = "sentence_transformers"

    model: str = Field(default="sentence-transformers/all-MiniLM-L6-v2", min_length=1)
    device: str = Field(default="cpu", pattern=r"^(cpu|cuda(:\d+)?|mps|xpu(:\d+)?|npu(:\d+)?)$")
    normalize: bool = False
    """Scale every vector to length 1 (cosine and dot scores then agree)."""
    batch_size: int = Field(default=32, ge=1, le=4096)
    local_files_only: bool = False
    """Never reach the Hub: ``model`` must be a directory or already in the cache."""
    cache_folder: str | None = Field(default=None, min_length=1)
    dimension: int | None = Field(default=None, ge=1, le=MAX_DIMENSION)


# Native dimensions of OpenAI's embedding models; text-embedding-3-* can be asked for fewer.
OPENAI_DIMENSIONS: dict[str, int] = {
    "text-embedding-3-large": 3072,
    "text-embedding-3-small": 1536,
    "text-embedding-ada-002": 1536,
}


def _api_key_from_environment() -> SecretStr | None:
    value = os.environ.get("OPENAI_API_KEY")
    return SecretStr(value) if value else None


def _base_url_from_environment() -> str:
    return os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"


class OpenAIEmbedderConfig(EmbedderConfig):
    """An OpenAI-compatible embeddings API over HTTP: ``POST {base_url}/embeddings``.

    ``api_key`` defaults to ``$OPENAI_API_KEY`` (no ``Authorization`` header
    when neither is set, for local servers) and ``base_url`` to
    ``$OPENAI_BASE_URL``, else OpenAI's. ``dimension`` may be left out for
    OpenAI's own models; for a ``text-embedding-3-*`` model a smaller one is
    requested from the API (its ``dimensions`` parameter).
    """

    backend: ClassVar[str] = "openai"

    model: str = Field(default="text-embedding-3-small", min_length=1, max_length=200)
    api_key: SecretStr | None = Field(default_factory=_api_key_from_environment)
    base_url: str = Field(default_factory=_base_url_from_environment)
    dimension: int = Field(ge=1, le=MAX_DIMENSION)
    organization: str | None = Field(default=None, min_length=1, max_length=200)
    batch_size: int = Field(default=256, ge=1, le=2048)
    """Texts per request (OpenAI accepts up to 2048)."""
    timeout: float = Field(default=60.0, gt=0, le=3600)
    max_retries: int = Field(default=3, ge=0, le=20)
    """Retries of a request answered 429 or 5xx, or that could not connect, after waiting as the server asks."""
    max_retry_wait: float = Field(default=30.0, ge=0, le=3600)
    """The longest wait before one retry, in seconds, whatever ``Retry-After`` says."""

    @model_validator(mode="before")
    @classmethod
    def _known_dimension(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("dimension") is None:
            native = OPENAI_DIMENSIONS.get(str(data.get("model", "text-embedding-3-small")))
            if native is not None:
                data = {**data, "dimension": native}
        return data

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL, such as https://api.openai.com/v1")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _dimension_the_model_can_give(self) -> OpenAIEmbedderConfig:
        native = OPENAI_DIMENSIONS.get(self.model)
        if native is not None and self.dimension != native and not self.shortens:
            raise ValueError(f"{self.model} gives vectors of dimension {native}, not {self.dimension}")
        if native is not None and self.dimension > native:
            raise ValueError(f"{self.model} gives at most {native} dimensions, not {self.dimension}")
        return self

    @property
    def shortens(self) -> bool:
        """Whether the request asks for ``dimension`` (OpenAI's ``dimensions`` parameter)."""
        native = OPENAI_DIMENSIONS.get(self.model)
        return native is not None and self.model.startswith("text-embedding-3-") and self.dimension != native
