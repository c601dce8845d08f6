"""How two copies of a record are compared when a copy is verified or resumed: JSON values by their canonical text."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical", "differing"]


def canonical(value: Any) -> str:
    """A JSON value as text that compares equal exactly when the values do."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def differing(a: Any, b: Any, exact: tuple[str, ...], json_valued: tuple[str, ...]) -> list[str]:
    """The names of the fields where two records differ: ``exact`` compared as they are, ``json_valued`` as JSON."""
    names = [name for name in exact if getattr(a, name) != getattr(b, name)]
    return names + [name for name in json_valued if canonical(getattr(a, name)) != canonical(getattr(b, name))]
