"""An HTTP stand-in of the Upstash Redis REST API, executing every command on a real Redis.

It implements the protocol the upstash-redis client speaks (verified against
its source): ``POST /`` with a JSON command array, ``POST /pipeline`` and
``POST /multi-exec`` with an array of commands, ``Authorization: Bearer
<token>``, and ``Upstash-Encoding: base64`` (every string in a result is
base64 except the status reply ``OK``). Replies are ``{"result": ...}`` or
``{"error": "..."}``, RESP2-shaped (HGETALL is a flat list). Upstash's own
limits, quotas and replication are not imitated.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import redis

__all__ = ["UpstashStandIn"]


class UpstashStandIn:
    """Serve the REST protocol on ``127.0.0.1:<ephemeral port>``; ``url`` and ``token`` are for the client."""

    def __init__(self, redis_url: str, token: str = "stand-in-token") -> None:
        self.token = token
        self.requests: list[tuple[str, Any]] = []  # (path, body) of every authorised request
        # RESP2 raw replies, exactly what the REST API returns.
        self._redis = redis.Redis.from_url(redis_url, protocol=2)
        self._redis.response_callbacks.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="upstash-stand-in", daemon=True)

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> UpstashStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._redis.close()

    # -- protocol -------------------------------------------------------------

    def _run(self, command: list[Any], encode: bool) -> dict[str, Any]:
        try:
            return {"result": _encode(self._redis.execute_command(*command), encode)}  # type: ignore[no-untyped-call]
        except redis.ResponseError as error:
            return {"error": str(error)}

    def _transaction(self, commands: list[list[Any]], encode: bool) -> list[dict[str, Any]]:
        with self._redis.pipeline(transaction=True) as pipe:
            for command in commands:
                pipe.execute_command(*command)  # type: ignore[no-untyped-call]
            replies = pipe.execute(raise_on_error=False)
        return [
            {"error": str(reply)} if isinstance(reply, Exception) else {"result": _encode(reply, encode)}
            for reply in replies
        ]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                if self.headers.get("Authorization") != f"Bearer {stand_in.token}":
                    self._reply(401, {"error": "Unauthorized"})
                    return
                stand_in.requests.append((self.path, body))
                encode = self.headers.get("Upstash-Encoding") == "base64"
                if self.path == "/":
                    result: Any = stand_in._run(body, encode)
                    self._reply(400 if "error" in result else 200, result)
                elif self.path == "/pipeline":
                    self._reply(200, [stand_in._run(command, encode) for command in body])
                elif self.path == "/multi-exec":
                    self._reply(200, stand_in._transaction(body, encode))
                else:
                    self._reply(404, {"error": f"unknown path {self.path}"})

            def _reply(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Upstash-Sync-Token", "stand-in")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _encode(value: Any, base64_strings: bool) -> Any:
    if isinstance(value, bytes):
        if value == b"OK":  # the status reply is never encoded
            return "OK"
        return base64.b64encode(value).decode("ascii") if base64_strings else value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value if value == "OK" or not base64_strings else base64.b64encode(value.encode()).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [_encode(item, base64_strings) for item in value]
    if isinstance(value, float):
        return _encode(repr(value).encode(), base64_strings)
    return value  # int or None
