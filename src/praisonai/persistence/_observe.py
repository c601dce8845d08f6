"""Observability: the package's logger, slow-call warnings and OpenTelemetry spans.

Everything logs to the standard ``logging`` logger ``praisonai.persistence``
(:data:`logger`), with secrets masked: connections opened and lost, retries, slow
calls, plugin problems. Nothing is configured here; the application decides
what to show.

Store calls are observed through the call guard (:mod:`._guard`). While
nothing asks for observation, the guard does exactly what it did before: one
flag read per call. Observation is on while

- a slow-call threshold is set (:func:`set_slow_call_threshold`, or the
  environment variable ``PRAISONAI_PERSISTENCE_SLOW_CALL_SECONDS`` read at
  import): a call that takes longer is logged at WARNING; or
- OpenTelemetry's API is imported and a tracer provider is configured: every
  store call is a span named ``<operation> <collection>`` (or the operation
  alone) of kind CLIENT, with the database client semantic conventions
  (``db.system.name``, ``db.operation.name``, ``db.collection.name``,
  ``server.address``, ``server.port``), errors recorded with ``error.type``.

The operation is the public store method the guarded block runs in (the
nearest caller frame whose name has no leading underscore), so a backend's
private helpers never show up as operation names.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from .url import mask_secrets_in_text

__all__ = ["logger", "set_slow_call_threshold", "slow_call_threshold"]

logger = logging.getLogger("praisonai.persistence")

_TRACER_NAME = "praisonai.persistence"
_ENV_THRESHOLD = "PRAISONAI_PERSISTENCE_SLOW_CALL_SECONDS"
# OpenTelemetry's well-known db.system.name values, for the backends whose engine has one.
_DB_SYSTEMS = {
    "async_mysql": "mysql",
    "async_postgres": "postgresql",
    "async_sqlite": "sqlite",
    "cassandra": "cassandra",
    "clickhouse": "clickhouse",
    "cosmosdb": "azure.cosmosdb",
    "couchbase": "couchbase",
    "dynamodb": "aws.dynamodb",
    "firestore": "gcp.firestore",
    "mongodb": "mongodb",
    "async_mongodb": "mongodb",
    "mongodb_vector": "mongodb",
    "mysql": "mysql",
    "pgvector": "postgresql",
    "postgres": "postgresql",
    "redis": "redis",
    "singlestore": "mysql",
    "singlestore_vector": "mysql",
    "sqlite": "sqlite",
    "sync_sqlite": "sqlite",
    "turso": "sqlite",
    "valkey": "redis",
    "valkey_vector": "redis",
}


class _State:
    __slots__ = ("slow_call_seconds", "tracer")

    def __init__(self) -> None:
        self.slow_call_seconds: float | None = None
        self.tracer: Any = None  # set once a configured tracer provider is seen


state = _State()
active = False
"""Whether the guard observes calls: a threshold is set or a tracer is configured."""
_switches: list[Callable[[bool], None]] = []


def on_switch(callback: Callable[[bool], None]) -> None:
    """Call ``callback(active)`` now and whenever observation turns on or off."""
    _switches.append(callback)
    callback(active)


def _set_active(on: bool) -> None:
    global active
    if on != active:
        active = on
        for callback in _switches:
            callback(on)


def set_slow_call_threshold(seconds: float | None) -> None:
    """Log store calls slower than ``seconds`` at WARNING; ``None`` stops it."""
    if seconds is not None and not seconds >= 0:  # also refuses NaN
        raise ValueError(f"slow-call threshold must be a number of seconds >= 0 or None, not {seconds!r}")
    state.slow_call_seconds = None if seconds is None else float(seconds)
    tracing_newly_configured()
    _set_active(state.slow_call_seconds is not None or state.tracer is not None)


def slow_call_threshold() -> float | None:
    """The current slow-call threshold in seconds, or ``None``."""
    return state.slow_call_seconds


def tracing_newly_configured() -> bool:
    """Whether OpenTelemetry has a configured tracer provider; turns observation on when it has.

    Checked on each store's first call, and on every observed call until a tracer is found.
    """
    if state.tracer is not None:
        return True
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:  # not imported: nobody can have configured it
        return False
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider) or type(provider).__name__ == "NoOpTracerProvider":
        return False
    state.tracer = provider.get_tracer(_TRACER_NAME)
    _set_active(True)
    return True


def _threshold_from_environment() -> None:
    raw = os.environ.get(_ENV_THRESHOLD)
    if not raw:
        return
    try:
        set_slow_call_threshold(float(raw))
    except ValueError:
        logger.warning("ignoring %s=%r: not a number of seconds", _ENV_THRESHOLD, raw)


_threshold_from_environment()


def _operation_frame() -> Any:
    """The frame of the public store method the guard was entered from."""
    frame: FrameType | None = sys._getframe(3)  # _operation_frame <- CallObservation <- __enter__ <- the store's code
    for _ in range(6):
        if frame is None:
            break
        name = frame.f_code.co_name
        if not name.startswith(("_", "<")) and not (name in _DRIVERS and frame.f_globals.get("__name__") == _SANSIO):
            return frame  # (the sans-IO drivers are not store methods; the methods _sansio.runs makes are)
        frame = frame.f_back
    return None


_SANSIO = f"{__package__}._sansio"
_DRIVERS = frozenset({"drive", "drive_async"})


def _collection_of(frame: Any) -> Any:
    """The ``collection`` argument of the store method running in ``frame``: a local of its own,
    or, in a method made by ``_sansio.runs`` from a contract operation, the matching positional."""
    local = frame.f_locals
    if "collection" in local:
        return local["collection"]
    operation, args = local.get("operation"), local.get("args")
    code = getattr(operation, "__code__", None)
    if code is None or not isinstance(args, tuple):
        return None
    names = code.co_varnames[1 : code.co_argcount]  # after self
    if "collection" not in names:
        return None
    index = names.index("collection")
    return args[index] if index < len(args) else (local.get("kwargs") or {}).get("collection")


def _server(store: Any) -> tuple[str | None, int | None]:
    cached: tuple[str | None, int | None] | None = store.__dict__.get("_observed_server")
    if cached is not None:
        return cached
    config = getattr(store, "config", None) or getattr(store, "_config", None)
    host: str | None = None
    port: int | None = None
    url = getattr(config, "url", None)
    if isinstance(url, str) and "://" in url:
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            host, port = None, None
    if host is None:
        candidate = getattr(config, "host", None)
        host = candidate if isinstance(candidate, str) else None
        candidate_port = getattr(config, "port", None)
        port = candidate_port if isinstance(candidate_port, int) else None
    store.__dict__["_observed_server"] = result = (host, port)
    return result


class CallObservation:
    """What one observed store call records: its start, its span; ended by :meth:`end`."""

    __slots__ = ("backend", "operation", "span", "started")

    def __init__(self, store: Any) -> None:
        frame = _operation_frame()
        self.backend: str = getattr(store, "backend", type(store).__name__)
        self.operation: str = frame.f_code.co_name if frame is not None else "call"
        self.span: Any = None
        tracer = state.tracer
        if tracer is None and tracing_newly_configured():
            tracer = state.tracer
        if tracer is not None:
            collection = _collection_of(frame) if frame is not None else None
            attributes: dict[str, Any] = {
                "db.system.name": _DB_SYSTEMS.get(self.backend, self.backend),
                "db.operation.name": self.operation,
            }
            name = self.operation
            if isinstance(collection, str):
                attributes["db.collection.name"] = collection
                name = f"{self.operation} {collection}"
            host, port = _server(store)
            if host:
                attributes["server.address"] = host
                if port:
                    attributes["server.port"] = port
            from opentelemetry.trace import SpanKind

            self.span = tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        self.started = time.perf_counter()

    def end(self, error: BaseException | None) -> None:
        elapsed = time.perf_counter() - self.started
        span = self.span
        if span is not None:
            if error is not None:
                from opentelemetry.trace import Status, StatusCode

                span.set_attribute("error.type", type(error).__qualname__)
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, mask_secrets_in_text(str(error))[:400]))
            span.end()
        threshold = state.slow_call_seconds
        if threshold is not None and elapsed > threshold:
            logger.warning(
                "%s: slow call %s took %.3f s (threshold %.3f s)", self.backend, self.operation, elapsed, threshold
            )


def connection_lost(backend: str | None, error: BaseException) -> None:
    """Log a call that failed because the engine could not be reached (the message is masked already)."""
    logger.warning("%s: engine unreachable: %s", backend or "store", error)


def connection_opened(owner: str) -> None:
    logger.debug("%s: opened a connection", mask_secrets_in_text(owner))


def retrying(owner: str, reason: str) -> None:
    logger.warning("%s: retrying: %s", mask_secrets_in_text(owner), mask_secrets_in_text(reason))
