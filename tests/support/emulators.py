"""Local stand-ins for cloud services, started on 127.0.0.1 ephemeral ports by the tests themselves.

Each ``start_*`` returns a running service with ``stop()``; when what it needs
is missing, ``unavailable()`` skips the test with the reason, or fails it when
``CI`` is set (CI must never pass by skipping; ``.ci/setup-state.sh`` installs
what these need).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

__all__ = [
    "FIRESTORE_EMULATOR_JAR",
    "Service",
    "require_driver",
    "start_firestore_emulator",
    "start_gcs_emulator",
    "start_moto",
    "start_mongodb_standin",
    "unavailable",
]

FIRESTORE_EMULATOR_JAR = Path(
    os.environ.get(
        "PRAISONAI_TEST_FIRESTORE_EMULATOR_JAR",
        "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
    )
)


def unavailable(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run every emulator test (.ci/setup-state.sh installs them)")
    pytest.skip(message)


def require_driver(module: str, extra: str) -> Any:
    """Import a backend's driver; skip without it, but fail under CI (where ``.[all,test]`` is installed)."""
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(
        module, reason=f"{module} is not installed (pip install 'praisonai-persistence[{extra}]')"
    )


def _require_module(module: str, package: str) -> None:
    if importlib.util.find_spec(module) is None:
        unavailable(f"{package} is not installed (pip install {package})")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


@dataclass
class Service:
    """A running stand-in: ``endpoint`` is host:port (or a URL), ``stop()`` ends it."""

    name: str
    endpoint: str
    process: subprocess.Popen[bytes] | None = None
    handle: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # The process was started in its own session: end the whole group (a wrapper may fork a JVM).
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.handle is not None:
            self.handle.stop()


def _spawn(command: list[str], name: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_for_port(port, process, name)
    except BaseException:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        raise
    return process


def start_moto() -> Service:
    """moto's server mode (DynamoDB and every other AWS API moto emulates), in this process."""
    _require_module("moto.server", "moto[server]")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return Service("moto", f"http://{host}:{port}", handle=server)


def start_gcs_emulator() -> Service:
    """gcp-storage-emulator, in memory, in a subprocess."""
    _require_module("gcp_storage_emulator", "gcp-storage-emulator")
    executable = shutil.which("gcp-storage-emulator")
    if executable is None:
        unavailable("the gcp-storage-emulator command is not on PATH")
    port = free_port()
    command = [executable, "start", "--host=127.0.0.1", f"--port={port}", "--in-memory"]
    return Service("gcp-storage-emulator", f"http://127.0.0.1:{port}", process=_spawn(command, "gcs emulator", port))


def start_firestore_emulator() -> Service:
    """Google's Cloud Firestore emulator (Java), in a subprocess."""
    java = shutil.which("java")
    if java is None:
        unavailable("java is not installed; the Firestore emulator needs it (apt-get install openjdk-17-jre-headless)")
    if not FIRESTORE_EMULATOR_JAR.is_file():
        unavailable(
            f"the Cloud Firestore emulator is not at {FIRESTORE_EMULATOR_JAR} "
            "(Debian package google-cloud-cli-firestore-emulator; or set PRAISONAI_TEST_FIRESTORE_EMULATOR_JAR)"
        )
    port = free_port()
    command = [
        java,
        "-Duser.language=en",
        "-cp",
        str(FIRESTORE_EMULATOR_JAR),
        "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
        "--host=127.0.0.1",
        f"--port={port}",
    ]
    return Service("firestore-emulator", f"127.0.0.1:{port}", process=_spawn(command, "firestore emulator", port))


def start_mongodb_standin(ttl_sweep_seconds: float = 0.5) -> Service:
    """SecantusDB: a MongoDB wire-protocol server on WiredTiger, in memory, in this process.

    Its TTL monitor runs every ``ttl_sweep_seconds`` (mongod's runs every 60 s).
    """
    _require_module("secantus", "secantusdb")
    from secantus import SecantusDBServer  # type: ignore[import-untyped]

    server = SecantusDBServer(
        host="127.0.0.1", port=0, storage_path=":memory:", ttl_sweep_seconds=ttl_sweep_seconds, replica_set_name=None
    )
    server.start()
    return Service("secantusdb", server.uri, handle=server)
