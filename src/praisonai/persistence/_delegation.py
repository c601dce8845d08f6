"""Methods a wrapper takes from the store it wraps (``self.store``), typed from the contract.

A wrapper (the thread offload of :mod:`.knowledge.offload`, the embedding
wrappers of :mod:`.knowledge.text`) answers most of its contract by handing
the call to its store. Written out, each such method restates its signature
for nothing. Here it is one line, and its parameters and result come from the
contract's own method, so the checkers see the same signature::

    class Offloaded(AsyncKnowledgeStore):
        search = in_worker_thread(KnowledgeStore.search)   # async, same parameters

- :func:`forwarded`: the store's sync method, called as it is;
- :func:`forwarded_async`: the store's async method, awaited;
- :func:`in_worker_thread`: the store's sync method run in a worker thread
  (``asyncio.to_thread``), as a coroutine method, so the event loop never blocks;
- :func:`waited`: the store's async method as a sync one, its coroutine run to
  completion by the wrapper's ``_wait(awaitable)`` (a blocking view of an async store).

Each is a plain function of the class (``help()`` shows the contract's
signature); the store's method is looked up at each call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

__all__ = ["forwarded", "forwarded_async", "in_worker_thread", "waited"]

P = ParamSpec("P")
R = TypeVar("R")


def _named_like(function: Callable[..., Any], method: Callable[..., Any]) -> None:
    function.__name__ = function.__qualname__ = method.__name__
    function.__doc__ = method.__doc__
    function.__wrapped__ = method  # type: ignore[attr-defined]  # inspect.signature shows the contract's


def forwarded(method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], R]:
    """``method`` of the wrapper: the same method of ``self.store``, called with the same arguments."""
    name = method.__name__

    def forward(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return getattr(self.store, name)(*args, **kwargs)  # type: ignore[no-any-return]

    _named_like(forward, method)
    return forward


def forwarded_async(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]:
    """``method`` (async) of the wrapper: the same method of ``self.store``, awaited."""
    name = method.__name__

    async def forward(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await getattr(self.store, name)(*args, **kwargs)  # type: ignore[no-any-return]

    _named_like(forward, method)
    return forward


def in_worker_thread(method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]:
    """The async form of the sync ``method``: ``self.store``'s method run in a worker thread."""
    name = method.__name__

    async def run(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(getattr(self.store, name), *args, **kwargs)

    _named_like(run, method)
    return run


def waited(method: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]) -> Callable[Concatenate[Any, P], R]:
    """The sync form of the async ``method``: ``self.store``'s coroutine, run to completion by ``self._wait``."""
    name = method.__name__

    def wait(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._wait(getattr(self.store, name)(*args, **kwargs))  # type: ignore[no-any-return]

    _named_like(wait, method)
    return wait
