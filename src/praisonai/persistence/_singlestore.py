"""The connection both SingleStore stores open (``singlestore`` conversations, ``singlestore_vector`` knowledge).

Through singlestoredb: utf8mb4, autocommit, rows as tuples, the config's server,
credentials and connect timeout (whole seconds, at least one).
"""

from __future__ import annotations

from typing import Any

__all__ = ["connect"]


def connect(singlestoredb: Any, config: Any, **options: Any) -> Any:
    """A connection of the ``singlestoredb`` module to ``config``'s server; ``options`` are added (TLS...)."""
    return singlestoredb.connect(
        host=config.host,
        port=config.port,
        user=config.user,
        password=None if config.password is None else config.password.get_secret_value(),
        database=config.database,
        charset="utf8mb4",
        autocommit=True,
        connect_timeout=max(1, round(config.connect_timeout)),
        results_type="tuples",
        **options,
    )
