"""openai: an OpenAI-compatible embeddings API over HTTP.

Engine: ``POST {base_url}/embeddings`` with ``model`` and ``input``, through httpx
(``pip install "praisonai-persistence[openai]"``). Works with OpenAI and with the
servers that copy its API (vLLM, Ollama, LiteLLM, Azure-style gateways...).
Options: ``model``, ``api_key`` (default ``$OPENAI_API_KEY``), ``base_url``
(default ``$OPENAI_BASE_URL``, else OpenAI's), ``dimension``, ``batch_size``,
``timeout``, ``max_retries``, ``max_retry_wait``, ``organization``.
Test tier: fake (an HTTP stand-in of the embeddings endpoint on loopback,
tests/support/openai_standin.py, answering with OpenAI's bodies and errors;
OpenAI itself is not exercised).

Answers map onto the error tree: 400, 413 and 422 are
:class:`~praisonai.persistence.errors.InvalidInputError`, 404 (an unknown model)
:class:`~praisonai.persistence.errors.NotFoundError`, 401 and 403 an
:class:`~praisonai.persistence.errors.EngineError` that says to check the key;
429 (except an exhausted quota), 5xx and connection failures are retried
``max_retries`` times, waiting as ``Retry-After`` asks (at most
``max_retry_wait``), then raise
:class:`~praisonai.persistence.errors.BackendUnavailableError`.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import BackendUnavailableError, EngineError, InvalidInputError, NotFoundError, StoreError
from ..url import mask_secrets_in_text
from ._checked import CheckedEmbedder, batches, check_vectors
from .base import Vector
from .config import OpenAIEmbedderConfig

__all__ = ["OpenAIEmbedder"]

_RETRIED = frozenset({408, 409, 429, 500, 502, 503, 504})
_MAX_MESSAGE = 300


class OpenAIEmbedder(CheckedEmbedder):
    """Embeds through ``POST /embeddings``, ``batch_size`` texts per request, with retries."""

    backend = "openai"

    def __init__(self, config: OpenAIEmbedderConfig | None = None) -> None:
        self.config = config = config or OpenAIEmbedderConfig.from_options()
        self._httpx = self._import_driver("httpx")
        headers = {"Accept": "application/json"}
        if config.api_key is not None:
            headers["Authorization"] = f"Bearer {config.api_key.get_secret_value()}"
        if config.organization is not None:
            headers["OpenAI-Organization"] = config.organization
        self._client: Any = self._httpx.Client(base_url=config.base_url, headers=headers, timeout=config.timeout)

    @property
    def dimension(self) -> int:
        return self.config.dimension

    def _embed(self, texts: list[str]) -> list[Vector]:
        vectors: list[Vector] = []
        for batch in batches(texts, self.config.batch_size):
            vectors.extend(self._embed_batch(list(batch)))
        return vectors

    def _embed_batch(self, texts: list[str]) -> list[Vector]:
        body: dict[str, Any] = {"model": self.config.model, "input": texts, "encoding_format": "float"}
        if self.config.shortens:
            body["dimensions"] = self.config.dimension
        response = self._post(body)
        try:
            items = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = [item["embedding"] for item in items]
        except (ValueError, KeyError, TypeError) as error:
            raise EngineError(f"the API answered 200 without embeddings ({type(error).__name__})") from error
        return check_vectors(vectors, len(texts), self.config.dimension, self.backend)

    def _post(self, body: dict[str, Any]) -> Any:
        httpx = self._httpx
        for attempt in range(self.config.max_retries + 1):
            last = attempt == self.config.max_retries
            try:
                response = self._client.post("/embeddings", json=body)
            except httpx.TransportError as error:
                if last:
                    raise BackendUnavailableError(
                        f"cannot reach {self.config.base_url} after {attempt + 1} attempts "
                        f"({type(error).__name__}: {self._clean(str(error))})"
                    ) from error
                time.sleep(self._backoff(attempt, None))
                continue
            if response.status_code == 200:
                return response
            if response.status_code in _RETRIED and not last and not self._quota_exhausted(response):
                time.sleep(self._backoff(attempt, response))
                continue
            raise self._status_error(response, attempt + 1)
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _backoff(self, attempt: int, response: Any) -> float:
        """Seconds to wait before retry ``attempt + 1``: the server's ``Retry-After``, else exponential."""
        wait = min(0.5 * 2.0**attempt, 8.0)
        if response is not None:
            headers = response.headers
            try:
                if "retry-after-ms" in headers:
                    wait = float(str(headers["retry-after-ms"])) / 1000
                elif "retry-after" in headers:
                    wait = float(str(headers["retry-after"]))
            except ValueError:
                pass  # an HTTP date: keep the exponential wait
        return max(0.0, min(wait, self.config.max_retry_wait))

    @staticmethod
    def _error_body(response: Any) -> dict[str, Any]:
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            return {}
        return error if isinstance(error, dict) else {"message": str(error)}

    def _quota_exhausted(self, response: Any) -> bool:
        # OpenAI answers 429 both to "slow down" and to "no credit left"; waiting helps only the first.
        error = self._error_body(response)
        return response.status_code == 429 and "insufficient_quota" in (error.get("type"), error.get("code"))

    def _status_error(self, response: Any, attempts: int) -> StoreError:
        status = response.status_code
        error = self._error_body(response)
        label = error.get("type") or error.get("code") or response.reason_phrase or "error"
        message = self._clean(str(error.get("message") or response.text or ""))
        detail = f"{status} {label}: {message}" if message else f"{status} {label}"
        if status in (400, 413, 422):
            return InvalidInputError(f"the embeddings API refused the request ({detail})")
        if status == 404:
            return NotFoundError(f"the embeddings API does not know model {self.config.model!r} ({detail})")
        if status in (401, 403):
            return EngineError(
                f"the embeddings API refused the credentials ({detail}); check api_key or $OPENAI_API_KEY"
            )
        if status in _RETRIED and not self._quota_exhausted(response):
            return BackendUnavailableError(f"the embeddings API is unavailable after {attempts} attempts ({detail})")
        return EngineError(f"the embeddings API failed ({detail})")

    def _clean(self, text: str) -> str:
        """``text`` without the API key (servers echo it) and cut to a readable length."""
        if self.config.api_key is not None:
            secret = self.config.api_key.get_secret_value()
            if secret:
                text = text.replace(secret, "***")
        text = mask_secrets_in_text(text)
        return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()

    def __repr__(self) -> str:
        return f"<OpenAIEmbedder model={self.config.model!r} base_url={self.config.base_url!r}>"
