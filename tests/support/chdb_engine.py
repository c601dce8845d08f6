"""The one chDB data directory of this test process.

chDB runs one embedded ClickHouse engine per process, bound to the first path
it opens; every test that uses chDB shares this directory and keeps apart by
using its own database. A client held open for the whole run keeps the engine
up between tests (it shuts down, and restarts slowly, when its last client closes).

The directory is on a tmpfs (``/dev/shm``) where there is one: chDB fsyncs a
table's metadata when it creates one (about 25 ms a table on disk, 1.5 ms on
tmpfs), each test creates and drops a few, and no test here is about surviving
a power cut.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from typing import Any


@functools.lru_cache(maxsize=1)
def chdb_client() -> Any:
    """A clickhouse-connect client on the shared chDB directory, open until the process exits."""
    import clickhouse_connect

    memory = "/dev/shm"
    path = tempfile.mkdtemp(prefix="praisonai-chdb-", dir=memory if os.access(memory, os.W_OK) else None)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    client = clickhouse_connect.get_client(interface="chdb", path=path)
    atexit.register(client.close)
    return client


def chdb_path() -> str:
    path: str = chdb_client().path
    return path
