"""openai: the embedder contract against an HTTP stand-in of OpenAI's embeddings endpoint on loopback,
plus batching, retries and the mapping of its error answers onto the error tree."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from praisonai.persistence.embedders.base import Embedder
from praisonai.persistence.embedders.config import OpenAIEmbedderConfig
from praisonai.persistence.errors import (
    BackendUnavailableError,
    ConfigError,
    EngineError,
    InvalidInputError,
    MissingDriverError,
    NotFoundError,
)
from praisonai.persistence.registry import EMBEDDERS
from praisonai.persistence.testing import EmbedderContract
from tests.support.openai_standin import OpenAIStandIn, standin_vector

pytest.importorskip("httpx", reason="the openai extra is not installed")

KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(api_key=KEY) as standin:
        yield standin


def _open(server: OpenAIStandIn, **options: Any) -> Embedder:
    settings: dict[str, Any] = {"model": "tiny", "dimension": 8, "api_key": KEY, "base_url": server.base_url, **options}
    return EMBEDDERS.create("openai", **settings)


class TestOpenAIContract(EmbedderContract):
    @pytest.fixture
    def embedder(self, server: OpenAIStandIn) -> Iterator[Embedder]:
        embedder = _open(server, batch_size=64)
        yield embedder
        embedder.close()


def test_vectors_come_back_in_input_order_in_batches(server: OpenAIStandIn) -> None:
    texts = [f"text {n}" for n in range(7)]
    with _open(server, batch_size=3) as embedder:
        assert embedder.embed(texts) == [standin_vector(text, 8) for text in texts]
    assert [len(request["input"]) for request in server.requests] == [3, 3, 1]
    first = server.requests[0]
    assert first["model"] == "tiny" and first["encoding_format"] == "float" and "dimensions" not in first
    assert first["_headers"]["authorization"] == f"Bearer {KEY}"


def test_key_and_base_url_come_from_the_environment(server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/")
    config = OpenAIEmbedderConfig(model="tiny", dimension=8)
    assert config.base_url == server.base_url and config.api_key is not None
    assert KEY not in repr(config) and KEY not in str(config)
    with EMBEDDERS.create(config) as embedder:
        assert embedder.embed_query("hello") == standin_vector("hello", 8)


def test_no_key_sends_no_authorization(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with OpenAIStandIn(api_key=None) as open_server, _open(open_server, api_key=None) as embedder:
        assert embedder.embed(["x"]) == [standin_vector("x", 8)]
        assert "authorization" not in open_server.requests[0]["_headers"]


def test_openai_models_know_their_dimension_and_can_be_shortened(server: OpenAIStandIn) -> None:
    with _open(server, model="text-embedding-3-small", dimension=None) as native:
        assert native.dimension == 1536 and len(native.embed(["x"])[0]) == 1536
    with _open(server, model="text-embedding-3-small", dimension=256) as short:
        assert short.embed(["x"]) == [standin_vector("x", 256)]
    assert "dimensions" not in server.requests[0] and server.requests[1]["dimensions"] == 256


@pytest.mark.parametrize(
    ("options", "fields"),
    [
        ({"model": "my-local-model"}, {"dimension"}),
        ({"model": "text-embedding-ada-002", "dimension": 512}, {"config"}),
        ({"model": "text-embedding-3-small", "dimension": 4096}, {"config"}),
        ({"base_url": "ftp://example"}, {"base_url"}),
        ({"base_url": "https://user:hunter2@example/v1"}, {"config"}),
        ({"timeout": 0, "max_retries": -1, "batch_size": 4096}, {"timeout", "max_retries", "batch_size"}),
    ],
)
def test_bad_configs_report_every_field_and_no_secret(options: dict[str, Any], fields: set[str]) -> None:
    with pytest.raises(ConfigError) as error:
        EMBEDDERS.create("openai", api_key="sk-secret-value", **options)
    assert {problem.field for problem in error.value.errors} == fields
    assert "sk-secret-value" not in str(error.value) and "hunter2" not in str(error.value)


def test_wrong_key_is_an_engine_error_without_the_key(server: OpenAIStandIn) -> None:
    with _open(server, api_key="sk-wrong-0123456789") as embedder, pytest.raises(EngineError) as error:
        embedder.embed(["x"])
    message = str(error.value)
    assert "401" in message and "invalid_request_error" in message and "OPENAI_API_KEY" in message
    assert "sk-wrong-0123456789" not in message and error.value.backend == "openai"
    assert len(server.requests) == 1  # never retried


def test_rate_limit_is_retried_as_retry_after_says(server: OpenAIStandIn) -> None:
    server.fail_next(429, headers={"retry-after": "0"})
    server.fail_next(429, headers={"retry-after-ms": "10"})
    server.fail_next(503, headers={"retry-after": "0"})
    with _open(server, max_retries=3) as embedder:
        assert embedder.embed(["x"]) == [standin_vector("x", 8)]
    assert len(server.requests) == 4


def test_rate_limit_after_the_last_retry_is_unavailable(server: OpenAIStandIn) -> None:
    for _ in range(3):
        server.fail_next(429, headers={"retry-after": "0"})
    with _open(server, max_retries=2) as embedder, pytest.raises(BackendUnavailableError, match="after 3 attempts"):
        embedder.embed(["x"])
    assert len(server.requests) == 3


def test_an_exhausted_quota_is_not_retried(server: OpenAIStandIn) -> None:
    body = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": None}}
    server.fail_next(429, body=body, headers={"retry-after": "0"})
    with _open(server, max_retries=3) as embedder, pytest.raises(EngineError, match="exceeded your current quota"):
        embedder.embed(["x"])
    assert len(server.requests) == 1


def test_bad_input_and_unknown_model(server: OpenAIStandIn) -> None:
    with _open(server) as embedder, pytest.raises(InvalidInputError, match=r"400 invalid_request_error.*input"):
        embedder.embed(["fine", ""])
    with _open(server, model="no-such-model", dimension=8) as embedder, pytest.raises(NotFoundError) as error:
        embedder.embed(["x"])
    assert "no-such-model" in str(error.value) and isinstance(error.value, KeyError)


def test_a_malformed_success_is_an_engine_error(server: OpenAIStandIn) -> None:
    server.fail_next(200, body={"object": "list", "data": [{"index": 0}]})
    with _open(server) as embedder, pytest.raises(EngineError, match="without embeddings"):
        embedder.embed(["x"])


def test_a_server_that_is_not_there_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    embedder = EMBEDDERS.create(
        "openai", model="tiny", dimension=8, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0
    )
    with embedder, pytest.raises(BackendUnavailableError, match="cannot reach") as error:
        embedder.embed(["x"])
    assert isinstance(error.value, ConnectionError)


def test_missing_httpx_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(MissingDriverError) as error:
        EMBEDDERS.create("openai", model="tiny", dimension=8)
    assert 'pip install "praisonai-persistence[openai]"' in str(error.value)
