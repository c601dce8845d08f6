"""What observability costs a store call while nobody observes: the memory state store's ``get``
(the cheapest call we have, so the worst case) against the same store whose guard skips the
observation check entirely (the code as it was before observability existed).

Rows: OpenTelemetry not imported; OpenTelemetry imported with no tracer provider configured (the
check then also asks OpenTelemetry for its provider). Both must stay within 3 % of the baseline.
An info row gives the per-call cost once a tracer provider (the SDK, no exporter) is configured.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import time
from typing import Any

from praisonai.persistence._guard import CallGuard
from praisonai.persistence.registry import STATE_STORES
from praisonai.persistence.state.memory import MemoryStateStore

from ._harness import Options, Row, interleaved, rate_row

MIN_RATIO = 0.97
CALLS = 20_000


class _Unobserved(MemoryStateStore):
    """The memory store with the guard as it was: the cached guard, no observation check."""

    @property
    def _guard(self) -> CallGuard:
        guard: CallGuard | None = self.__dict__.get("_call_guard")
        if guard is None:
            guard = self.__dict__["_call_guard"] = CallGuard(self)
        return guard


def _round(store: Any) -> float:
    get = store.get
    start = time.perf_counter()
    for _ in range(CALLS):
        get("key")
    return time.perf_counter() - start


def _pair(options: Options, operation: str) -> Row:
    ours = STATE_STORES.create("memory")
    baseline = _Unobserved(ours.config)  # type: ignore[attr-defined]
    for store in (ours, baseline):
        store.set("key", {"n": 1, "text": "value"})
    samples = interleaved({"ours": lambda: _round(ours), "raw": lambda: _round(baseline)}, options.rounds)
    return rate_row("observe", operation, samples, CALLS, "calls/s", MIN_RATIO)


_TRACED = """
import time
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from praisonai.persistence.registry import STATE_STORES
store = STATE_STORES.create("memory")
store.set("key", 1)
def run():
    start = time.perf_counter()
    for _ in range(20000):
        store.get("key")
    return (time.perf_counter() - start) / 20000
plain = min(run() for _ in range(5))
trace.set_tracer_provider(TracerProvider())
traced = min(run() for _ in range(5))
print(plain * 1e6, traced * 1e6)
"""


def run(options: Options) -> list[Row]:
    rows = []
    if "opentelemetry.trace" not in sys.modules:
        rows.append(_pair(options, "memory get, OpenTelemetry not imported (vs no check)"))
    try:
        importlib.import_module("opentelemetry.trace")  # imported, no provider configured
    except ImportError:
        return rows
    rows.append(_pair(options, "memory get, OpenTelemetry imported, no provider (vs no check)"))
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        return rows
    completed = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", _TRACED], capture_output=True, text=True, check=False
    )
    if completed.returncode == 0:
        plain, traced = (float(x) for x in completed.stdout.split())
        rows.append(
            Row(
                "observe",
                "memory get, tracer provider configured (span per call)",
                f"{traced:.2f} µs/call",
                f"{plain:.2f} µs/call untraced",
                values={"traced_us": traced, "plain_us": plain},
            )
        )
    return rows
