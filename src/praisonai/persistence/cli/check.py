"""``praisonai-persistence check``: validate a backend's config, open it, and make a harmless round trip.

The config is validated by the registry (:meth:`~praisonai.persistence.registry.StoreRegistry.validate`)
and the store created from it. Each kind gets a round trip under a fresh,
unique name (a session, a collection, a key) that is removed again, also when
a step fails; each call is printed with its duration.
"""

from __future__ import annotations

import math
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from ..errors import RoundTripError
from ._endpoints import LOCAL_DATA_FIELDS, Endpoint, local_data_paths, registry_of
from ._status import EXIT_OK
from .progress import counted

__all__ = ["CheckStep", "RoundTripError", "check", "run_round_trip"]

T = TypeVar("T")


def check(kind: str, endpoint: Endpoint) -> int:
    """Run the command; every failure is raised (the caller maps it to an exit status)."""
    from ..transfer._sync_view import SyncStores

    registry = registry_of(kind)
    info = registry.describe(endpoint.backend)
    print(f"{kind} backend {info.name!r} ({_origin(info.source, info.distribution)})")
    arguments = endpoint.arguments()
    config = registry.validate(endpoint.backend, **arguments)
    if config is not None:
        print(f"  config ok: {config!r}")  # a config's repr masks its secrets
    else:
        names = [*(["url"] if endpoint.url is not None else []), *endpoint.options]
        print(f"  no config model to validate: its factory gets {', '.join(names) or 'no arguments'}")
    # Given no location, a local store goes to its default place: what the check creates there is removed.
    chosen = endpoint.url is not None or any(name in endpoint.options for name in LOCAL_DATA_FIELDS)
    leftovers = _Leftovers([] if chosen else local_data_paths(config))
    started = time.perf_counter()
    try:
        store = registry.create(endpoint.backend, **arguments)
    except BaseException:
        leftovers.remove()
        raise
    stores = SyncStores()
    view = stores.adopt(store, "close")
    try:
        lazily = " (async: it connects on the first call)" if view is not store else ""
        print(f"  {'opened' + lazily:<48} {_milliseconds(time.perf_counter() - started)}")
        total = time.perf_counter()
        steps: list[CheckStep] = []

        def emit(step: CheckStep) -> None:
            steps.append(step)
            print(f"  {step.action + ': ' + step.result:<48} {_milliseconds(step.seconds)}")

        run_round_trip(kind, view, emit)
    finally:
        stores.close()
        removed = leftovers.remove()
        if removed:
            print(f"  removed what the check created: {', '.join(removed)} (give a location to keep a store)")
    print(f"check passed: {counted(len(steps), 'calls')} in {(time.perf_counter() - total) * 1000:.1f} ms")
    return EXIT_OK


class _Leftovers:
    """Files and directories the store will create where nothing was: the check removes them again.

    ``check conversation sqlite`` with no path would otherwise leave an empty database behind.
    """

    def __init__(self, paths: list[Path]) -> None:
        self._created: list[tuple[Path, set[Path]]] = []  # (the top path absent now, what its parent held)
        for path in paths:
            top = path.absolute()
            while not top.parent.exists():
                top = top.parent
            if not top.exists():
                self._created.append((top, set(top.parent.iterdir())))

    def remove(self) -> list[str]:
        removed: list[str] = []
        for top, before in self._created:
            if not top.parent.exists():
                continue
            for entry in sorted(set(top.parent.iterdir()) - before):
                if entry.name.startswith(top.name):  # chat.db and its -wal, -shm, .journal siblings
                    if entry.is_dir():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
                    removed.append(str(entry))
        return removed


def _origin(source: str, distribution: str | None) -> str:
    if source == "entry_point":
        return f"plugin from distribution {distribution!r}"
    return {"builtin": "built-in", "runtime": "registered at run time"}.get(source, source)


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


class CheckStep(NamedTuple):
    """One call of the round trip: what was done, what came back, how long it took."""

    action: str
    result: str
    seconds: float


class _Steps:
    def __init__(self, emit: Callable[[CheckStep], None]) -> None:
        self.emit = emit

    def __call__(self, action: str, call: Callable[[], T], describe: Callable[[T], str] = lambda _: "ok") -> T:
        started = time.perf_counter()
        result = call()
        self.emit(CheckStep(action, describe(result), time.perf_counter() - started))
        return result


def _expect(condition: bool, problem: str) -> None:
    if not condition:
        raise RoundTripError(f"round trip failed: {problem}")


def run_round_trip(kind: str, store: Any, emit: Callable[[CheckStep], None]) -> None:
    """Write, read back and delete one item of ``kind`` through ``store`` (a synchronous view)."""
    token = uuid.uuid4().hex[:12]
    step = _Steps(emit)
    if kind == "conversation":
        _conversation(store, token, step)
    elif kind == "knowledge":
        _knowledge(store, token, step)
    else:
        _state(store, token, step)


def _conversation(store: Any, token: str, step: _Steps) -> None:
    from ..conversation.base import ConversationMessage, ConversationSession

    session_id = f"praisonai-check-{token}"
    step(
        f"create_session {session_id!r}",
        lambda: store.create_session(ConversationSession(session_id=session_id, name="praisonai-persistence check")),
    )
    try:
        step(
            "add_message",
            lambda: store.add_message(session_id, ConversationMessage(role="user", content=f"check {token}")),
        )
        messages = step(
            "get_messages", lambda: store.get_messages(session_id), lambda found: counted(len(found), "messages")
        )
        _expect([m.content for m in messages] == [f"check {token}"], f"get_messages returned {len(messages)} messages")
    finally:
        deleted = step("delete_session", lambda: store.delete_session(session_id), lambda done: f"deleted: {done}")
    _expect(deleted is True, "delete_session did not find the session")
    gone = step("get_session", lambda: store.get_session(session_id), lambda s: "gone" if s is None else "still there")
    _expect(gone is None, "the session is still there after delete_session")


def _knowledge(store: Any, token: str, step: _Steps) -> None:
    from ..knowledge.base import KnowledgeDocument

    name = f"praisonai_check_{token}"
    step(f"create_collection {name!r} (dimension 3)", lambda: store.create_collection(name, 3, "cosine"))
    try:
        document = KnowledgeDocument(id="check", content=f"check {token}", embedding=[1.0, 0.0, 0.0])
        step("insert", lambda: store.insert(name, [document]))
        hits = step(
            "search",
            lambda: store.search(name, [1.0, 0.0, 0.0], limit=1),
            lambda found: counted(len(found), "hits") + (f", score {found[0].score:.3f}" if found else ""),
        )
        _expect(
            len(hits) == 1 and hits[0].id == "check" and math.isclose(hits[0].score or 0.0, 1.0, abs_tol=1e-3),
            "search did not find the document with score 1.0",
        )
    finally:
        deleted = step("delete_collection", lambda: store.delete_collection(name), lambda done: f"deleted: {done}")
    _expect(deleted is True, "delete_collection did not find the collection")


def _state(store: Any, token: str, step: _Steps) -> None:
    key = f"praisonai-check:{token}"
    value = {"check": token}
    step(f"set {key!r} (ttl 60 s)", lambda: store.set(key, value, ttl=60))
    try:
        found = step("get", lambda: store.get(key), lambda got: "same value" if got == value else "a different value")
        _expect(found == value, "get returned a different value")
        ttl = step("ttl", lambda: store.ttl(key), lambda seconds: f"{seconds} s")
        _expect(ttl is not None and 0 < ttl <= 60, f"ttl returned {ttl!r}, expected 1 to 60")
    finally:
        deleted = step("delete", lambda: store.delete(key), lambda done: f"deleted: {done}")
    _expect(deleted is True, "delete did not find the key")
    exists = step("exists", lambda: store.exists(key), lambda there: "still there" if there else "gone")
    _expect(exists is False, "the key is still there after delete")
