"""Logs and traces of the stores: the logger, and the slow-call threshold (see docs/observability.md).

- :data:`logger`: the standard ``logging`` logger ``praisonai.persistence``.
- :func:`set_slow_call_threshold`: log store calls slower than that many seconds at WARNING.
- OpenTelemetry spans need nothing here: configure a tracer provider and every store call is a span.
"""

from __future__ import annotations

from ._observe import logger, set_slow_call_threshold, slow_call_threshold

__all__ = ["logger", "set_slow_call_threshold", "slow_call_threshold"]
