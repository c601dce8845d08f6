"""Operations written once for sync and async stores: generators of requests, and their two runners.

An operation is a generator that yields requests (what to ask the engine: a SQL
:class:`~.conversation._sql_operations.Step`, a document-store primitive, a pool
action) and receives each answer back, so its control flow holds no I/O::

    def get_session(self, session_id: str) -> Operation[Step, Session | None]:
        row = yield Step("SELECT ...", (session_id,), "one")
        return None if row is None else decode(row)

:func:`drive` runs one with a synchronous ``execute(request)``, :func:`drive_async`
with an awaitable one; both send each answer back with the same
:class:`Stepper`, so a sync store and its async twin run the very same code.

A class whose sync and async forms run the same operations writes each public
method once, as an operation with the method's signature: :func:`runs` makes
it the sync form's method (``self._drive(operation)``), :func:`runs_async` the
async form's (``await self._drive(operation)``)::

    insert = runs(Steps._insert_call)          # in the sync class
    insert = runs_async(Steps._insert_call)    # in the async class: same parameters, awaited

(the method is named for its operation, ``_insert_call`` making ``insert``).

When ``execute`` raises, ``throw_in(error)`` decides: None lets the error out of
the runner as it is; an exception is thrown into the operation at its ``yield``
(the driver's error chained as its cause when it is another one), where the
operation may catch it (a unique violation becomes ``AlreadyExistsError``) or
clean up and let it go.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeAlias, TypeVar

__all__ = [
    "Call",
    "Operation",
    "Stepper",
    "ThrowIn",
    "call_on",
    "call_on_async",
    "drive",
    "drive_async",
    "nothing_thrown_in",
    "runs",
    "runs_async",
    "throw_in_everything",
]

P = ParamSpec("P")
Q = TypeVar("Q")
R = TypeVar("R")

Operation: TypeAlias = Generator[Q, Any, R]
"""A generator yielding requests of type ``Q`` and returning ``R``."""

ThrowIn: TypeAlias = Callable[[BaseException], "BaseException | None"]


@dataclass(frozen=True, slots=True)
class Call:
    """A request to call ``method`` of the runner's target with ``args`` (and ``kwargs``): the target is
    sync or async. ``on`` names another object to call instead, one an earlier call returned (a
    driver's collection or index handle)."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] | None = None
    on: object = None


def call_on(target: object) -> Callable[[Call], Any]:
    """``execute`` of :func:`drive` for :class:`Call` requests: calls them on ``target``."""

    def execute(call: Call) -> Any:
        return getattr(target if call.on is None else call.on, call.method)(*call.args, **(call.kwargs or {}))

    return execute


def call_on_async(target: object) -> Callable[[Call], Awaitable[Any]]:
    """``execute`` of :func:`drive_async` for :class:`Call` requests: awaits them on ``target``."""

    async def execute(call: Call) -> Any:
        return await getattr(target if call.on is None else call.on, call.method)(*call.args, **(call.kwargs or {}))

    return execute


def nothing_thrown_in(error: BaseException) -> BaseException | None:
    """Every error of ``execute`` leaves the runner as it is."""
    return None


def throw_in_everything(error: BaseException) -> BaseException | None:
    """Every error of ``execute``, cancellation included, goes back into the operation (which cleans up)."""
    return error


class Stepper(Generic[Q, R]):
    """Moves an operation on, one answer or error at a time: :attr:`request` is what it asks
    for while :attr:`pending`, :attr:`result` what it returned once done."""

    __slots__ = ("_operation", "_throw_in", "pending", "request", "result")

    def __init__(self, operation: Operation[Q, R], throw_in: ThrowIn) -> None:
        self._operation = operation
        self._throw_in = throw_in
        self.pending = True
        self.request: Q
        self.result: R
        try:
            self.request = next(operation)
        except StopIteration as stop:
            self._finish(stop)

    def send(self, answer: Any) -> None:
        """Give the operation the answer to its request."""
        try:
            self.request = self._operation.send(answer)
        except StopIteration as stop:
            self._finish(stop)

    def fail(self, error: BaseException) -> None:
        """Tell the operation that its request raised ``error`` (re-raised here unless it is thrown in)."""
        thrown = self._throw_in(error)
        if thrown is None:
            raise error
        if thrown is not error:
            thrown.__cause__ = error
        try:
            self.request = self._operation.throw(thrown)
        except StopIteration as stop:
            self._finish(stop)

    def _finish(self, stop: StopIteration) -> None:
        self.pending, self.result = False, stop.value


def drive(operation: Operation[Q, R], execute: Callable[[Q], Any], throw_in: ThrowIn = nothing_thrown_in) -> R:
    """Run ``operation`` with a synchronous ``execute``; its return value."""
    stepper = Stepper(operation, throw_in)
    while stepper.pending:
        try:
            answer = execute(stepper.request)
        except BaseException as error:
            stepper.fail(error)
        else:
            stepper.send(answer)
    return stepper.result


async def drive_async(
    operation: Operation[Q, R], execute: Callable[[Q], Awaitable[Any]], throw_in: ThrowIn = nothing_thrown_in
) -> R:
    """Run ``operation`` with an awaitable ``execute``: the same generators as :func:`drive`."""
    stepper = Stepper(operation, throw_in)
    while stepper.pending:
        try:
            answer = await execute(stepper.request)
        except BaseException as error:
            stepper.fail(error)
        else:
            stepper.send(answer)
    return stepper.result


def _named_like(method: Callable[..., Any], operation: Callable[..., Any]) -> None:
    name = operation.__name__.removeprefix("_").removesuffix("_call")
    method.__name__ = method.__qualname__ = name
    # The frame carries the public name too: observability names a span after the method it runs in.
    method.__code__ = method.__code__.replace(co_name=name)
    method.__doc__ = operation.__doc__
    method.__wrapped__ = operation  # type: ignore[attr-defined]  # inspect.signature shows the operation's


def runs(operation: Callable[Concatenate[Any, P], Operation[Any, R]]) -> Callable[Concatenate[Any, P], R]:
    """A sync method with ``operation``'s parameters: the operation, run by ``self._drive``."""

    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._drive(operation(self, *args, **kwargs))  # type: ignore[no-any-return]

    _named_like(method, operation)
    return method


def runs_async(
    operation: Callable[Concatenate[Any, P], Operation[Any, R]],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]:
    """The async method with ``operation``'s parameters: the operation, run by ``await self._drive``."""

    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self._drive(operation(self, *args, **kwargs))  # type: ignore[no-any-return]

    _named_like(method, operation)
    return method
