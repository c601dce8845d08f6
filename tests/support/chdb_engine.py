"""The one chDB data directory of this test process.

chDB runs one embedded ClickHouse engine per process, bound to the first path
it opens; every test that uses chDB shares this directory and keeps apart by
using its own database. A client held open for the whole run keeps the engine
up between tests (it shuts down, and restarts slowly, when its last client closes).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from typing import Any


@functools.lru_cache(maxsize=1)
def chdb_client() -> Any:
    """A clickhouse-connect client on the shared chDB directory, open until the process exits."""
    import clickhouse_connect

    path = tempfile.mkdtemp(prefix="praisonai-chdb-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    client = clickhouse_connect.get_client(interface="chdb", path=path)
    atexit.register(client.close)
    return client


def chdb_path() -> str:
    path: str = chdb_client().path
    return path
