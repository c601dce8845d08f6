"""Reading the state file of PraisonAI 4.7's ``MemoryStateStore(path=...)`` as our snapshot.

PraisonAI's file is ``{"data": {key: value}, "ttls": {key: absolute expiry, epoch seconds}}``.
The memory store turns it into its own snapshot (``{"version": 1, "items": ...}``) when it
opens the file, then writes that back atomically (temporary file, fsync, rename), so the
file is PraisonAI's or ours, never half of each. Keys already expired are dropped, as
PraisonAI's own ``_load`` drops them. PraisonAI keeps a hash as a plain dict value, which
cannot be told apart from a dict stored with ``set``: both become plain values (``get``
returns the dict).
"""

from __future__ import annotations

import math
from typing import Any

from .._values import dump_json
from ..errors import StoreError

__all__ = ["snapshot_items_from_praisonai"]


def snapshot_items_from_praisonai(data: object, now: float, kind: str) -> dict[str, list[Any]] | None:
    """Our snapshot items (``[kind, JSON text, expires_at]`` by key), or None when ``data`` is not PraisonAI's."""
    if not isinstance(data, dict) or "items" in data or not isinstance(data.get("data"), dict):
        return None
    ttls = data.get("ttls") or {}
    if not isinstance(ttls, dict):
        raise StoreError("PraisonAI state file: 'ttls' is not an object")
    items: dict[str, list[Any]] = {}
    for key, value in data["data"].items():
        expires_at = ttls.get(key)
        if expires_at is not None:
            if isinstance(expires_at, bool) or not isinstance(expires_at, (int, float)) or math.isnan(expires_at):
                raise StoreError(f"PraisonAI state file: the expiry of {key!r} is not a number: {expires_at!r}")
            if expires_at <= now:
                continue
            expires_at = float(expires_at)
        items[str(key)] = [kind, dump_json(value, what=f"the value of {key!r}"), expires_at]
    return items
