"""What the framework adapters share: telling async stores apart, naming a store in messages."""

from __future__ import annotations

import inspect

__all__ = ["backend_of", "is_async"]


def is_async(method: object) -> bool:
    return inspect.iscoroutinefunction(method)


def backend_of(store: object) -> str:
    return str(getattr(store, "backend", type(store).__name__))
