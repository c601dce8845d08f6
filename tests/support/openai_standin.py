"""An HTTP stand-in of OpenAI's embeddings endpoint, on loopback, for the ``openai`` embedder.

``POST <prefix>/embeddings`` with ``model``, ``input`` (a str or a list of str),
optional ``dimensions`` and ``encoding_format``, as OpenAI's API documents it;
answers ``{"object": "list", "data": [{"object": "embedding", "index": i,
"embedding": [...]}], "model": ..., "usage": {...}}`` with a deterministic
vector per text (:func:`standin_vector`, unit length, from the text's SHA-256).
Errors come in OpenAI's body, ``{"error": {"message", "type", "param", "code"}}``:
401 for a missing or wrong key (the message echoes part of it, as OpenAI's does),
404 for an unknown model, 400 for an empty or oversized input. Tests script
other answers with :meth:`OpenAIStandIn.fail_next` (a 429 with ``retry-after``,
a 500...). Tokenizing, rate limits and real models are not imitated.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["MODELS", "OpenAIStandIn", "standin_vector"]

MODELS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536, "tiny": 8}
MAX_INPUTS = 2048


def standin_vector(text: str, dimension: int) -> list[float]:
    """The vector the stand-in gives ``text``: deterministic, unit length."""
    generator = random.Random(hashlib.sha256(text.encode("utf-8")).digest())
    values = [generator.gauss(0.0, 1.0) for _ in range(dimension)]
    norm = math.sqrt(math.fsum(value * value for value in values))
    return [value / norm for value in values]


def _error(message: str, kind: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class OpenAIStandIn:
    """``with OpenAIStandIn(api_key="sk-test") as server: server.base_url``"""

    def __init__(self, api_key: str | None = "sk-test-key", prefix: str = "/v1") -> None:
        self.api_key = api_key
        self.prefix = prefix
        self.requests: list[dict[str, Any]] = []  # every request body, with its headers under "_headers"
        self._scripted: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.prefix}"

    def fail_next(self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        """Answer the next request (after the queue before it) with ``status`` and ``body``."""
        default = _error(f"scripted {status}", "server_error" if status >= 500 else "requests", None)
        with self._lock:
            self._scripted.append((status, body if body is not None else default, headers or {}))

    def __enter__(self) -> OpenAIStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        with self._lock:
            self.requests.append({**(body if isinstance(body, dict) else {}), "_headers": headers})
            if self._scripted:
                return self._scripted.pop(0)
        if path != f"{self.prefix}/embeddings":
            return 404, _error(f"Invalid URL (POST {path})", "invalid_request_error", None), {}
        if self.api_key is not None:
            given = headers.get("authorization", "")
            if not given.startswith("Bearer "):
                message = "You didn't provide an API key. You need to provide your API key in an Authorization header."
                return 401, _error(message, "invalid_request_error", None), {}
            key = given.removeprefix("Bearer ")
            if key != self.api_key:
                shown = f"{key[:3]}*****{key[-4:]}" if len(key) > 8 else key
                message = f"Incorrect API key provided: {shown}. You can find your API key at the dashboard."
                return 401, _error(message, "invalid_request_error", "invalid_api_key"), {}
        if not isinstance(body, dict):
            return 400, _error("We could not parse the JSON body of your request.", "invalid_request_error", None), {}
        model = body.get("model")
        if model not in MODELS:
            message = f"The model `{model}` does not exist or you do not have access to it."
            return 404, _error(message, "invalid_request_error", "model_not_found"), {}
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        bad_input = (
            not isinstance(texts, list)
            or not texts
            or len(texts) > MAX_INPUTS
            or not all(isinstance(text, str) and text for text in texts)
        )
        if bad_input:
            message = (
                "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
            )
            return 400, _error(message, "invalid_request_error", None, "input"), {}
        dimension = MODELS[model]
        if "dimensions" in body:
            if model == "text-embedding-ada-002" or not isinstance(body["dimensions"], int):
                message = "This model does not support specifying dimensions."
                return 400, _error(message, "invalid_request_error", None, "dimensions"), {}
            dimension = body["dimensions"]
        data = [
            {"object": "embedding", "index": index, "embedding": standin_vector(text, dimension)}
            for index, text in enumerate(texts)
        ]
        data.reverse()  # the API promises ``index``, not order: clients must sort
        tokens = sum(len(text.split()) for text in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return 200, {"object": "list", "data": data, "model": model, "usage": usage}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                headers = {key.lower(): value for key, value in self.headers.items()}
                status, body, extra = standin.answer(self.path, headers, raw)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
