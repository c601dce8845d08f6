"""Copying conversations: sessions with their messages, exact and resumable.

Reading works through the contract alone (:func:`iter_sessions`,
:func:`iter_message_batches`), faster and exact with the optional
:class:`~praisonai.persistence.conversation.base.ConversationTransfer` extras
(``iter_messages``, ``restore_session``). In a file, a session is a
``session`` record, its ``message`` records and a ``session_end`` record.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar, cast

from ..conversation.base import ConversationMessage, ConversationSession, ConversationStore
from ..errors import AlreadyExistsError
from ._compare import canonical, differing
from ._kind import GroupedTransfer, GroupReference, Reading, Run, StoreWriter, capability, store_name
from .jsonl import Groups, Scan

__all__ = ["CONVERSATION", "DEFAULT_BATCH_SIZE", "iter_message_batches", "iter_sessions"]

T = TypeVar("T")

DEFAULT_BATCH_SIZE = 1000

_TIME_TOLERANCE = 1e-3  # seconds; some engines keep timestamps to the millisecond

Part = tuple[ConversationSession, Iterator[list[ConversationMessage]]]


# -- reading --------------------------------------------------------------------------------------------------------


def _pages(fetch: Callable[[int, int], list[T]], batch_size: int) -> Iterator[T]:
    offset = 0
    while True:
        page = fetch(batch_size, offset)
        if not page:  # not a short page: a service may cap how many rows one request returns
            return
        yield from page
        offset += len(page)


def iter_sessions(store: ConversationStore, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[ConversationSession]:
    """Every session, most recently updated first, ``batch_size`` per query.

    Offset paging is stable while nobody writes to ``store``.
    """
    return _pages(lambda limit, offset: store.list_sessions(limit=limit, offset=offset), batch_size)


def iter_message_batches(
    store: ConversationStore, session_id: str, batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[list[ConversationMessage]]:
    """Every message of a session, oldest first, in batches; exact with equal timestamps.

    Uses the store's ``iter_messages`` when it has one. Otherwise the contract
    alone: ``get_messages(limit=N, before=t)`` walks back from the newest message
    collecting one boundary timestamp per batch (a float each, so memory stays
    flat), then each batch is read forward between two boundaries. A batch
    always holds every message of its boundary timestamp, so it may exceed
    ``batch_size`` by the number of messages sharing one timestamp.
    """
    native = capability(store, "iter_messages")
    if native is not None:
        return cast("Iterator[list[ConversationMessage]]", native(session_id, batch_size))
    return _message_batches_by_time(store, session_id, batch_size)


def _message_batches_by_time(
    store: ConversationStore, session_id: str, batch_size: int
) -> Iterator[list[ConversationMessage]]:
    bounds: list[float] = []  # newest first: each batch holds created_at >= bound (and < the previous bound)
    before: float | None = None
    while True:
        page = store.get_messages(session_id, limit=batch_size, before=before)
        if len(page) < batch_size:
            break
        before = page[0].created_at
        bounds.append(before)
    upper: float | None = bounds[-1] if bounds else None
    oldest = store.get_messages(session_id, before=upper)
    if oldest:
        yield oldest
    for index in range(len(bounds) - 1, -1, -1):
        lower = bounds[index]
        upper = bounds[index - 1] if index else None
        batch = store.get_messages(session_id, after=math.nextafter(lower, -math.inf), before=upper)
        if batch:
            yield batch


def _message_count(store: ConversationStore, session_id: str, batch_size: int) -> int:
    return sum(len(batch) for batch in iter_message_batches(store, session_id, batch_size))


# -- comparing ------------------------------------------------------------------------------------------------------


def _same_time(a: float, b: float) -> bool:
    return abs(a - b) <= _TIME_TOLERANCE


def _session_differences(a: ConversationSession, b: ConversationSession) -> list[str]:
    fields = differing(a, b, ("user_id", "agent_id", "name"), ("state", "metadata"))
    if not _same_time(a.created_at, b.created_at):
        fields.append("created_at")
    return fields


def _same_message(a: ConversationMessage, b: ConversationMessage) -> bool:
    return _same_time(a.created_at, b.created_at) and not differing(
        a, b, ("role", "content", "tool_call_id"), ("tool_calls", "metadata")
    )


# -- writing --------------------------------------------------------------------------------------------------------


class _ConversationWriter(StoreWriter[ConversationStore]):
    """Writes sessions and their messages into a store: idempotently, resumably."""

    def __init__(self, target: ConversationStore, run: Run) -> None:
        super().__init__(target, run)
        self.restore = capability(target, "restore_session")
        if self.restore is None:
            run.report.note(
                f"{store_name(target)} cannot restore session timestamps (it has no restore_session): "
                "updated_at of a copied session with messages is the time of the copy"
            )

    def write(self, part: Part) -> None:
        session, batches = part
        session = ConversationSession.from_dict(session.to_dict())
        fresh = self._create(session)
        if fresh is None:  # skipped: complete already, or a conflict kept as it is
            return
        for batch in batches:
            self._write_messages(session.session_id, batch, fresh)
        if self.restore is not None:
            self.restore(session)

    def _created(self, session: ConversationSession) -> ConversationSession:
        created = ConversationSession.from_dict(session.to_dict())
        if self.restore is not None:
            # Until restore_session puts the real one back, updated_at must not look complete (see below).
            created.updated_at = math.nextafter(session.updated_at, -math.inf)
        return created

    def _create(self, session: ConversationSession) -> bool | None:
        """True: created now; False: exists and must be completed; None: nothing to do."""
        try:
            self.target.create_session(self._created(session))
        except AlreadyExistsError:
            pass
        else:
            self.report.add("copied", "sessions")
            return True
        existing = self.target.get_session(session.session_id)
        if existing is None:  # deleted in between
            return self._create(session)
        # Even a session that looks complete (its updated_at restored) has its messages compared:
        # one may differ in the target, which is a conflict, and equal ones are counted as skipped.
        return self._settle(
            "sessions",
            f"session {session.session_id!r}",
            _session_differences(session, existing),
            lambda: self._recreate(session),
        )

    def _recreate(self, session: ConversationSession) -> None:
        self.target.delete_session(session.session_id)
        self.target.create_session(self._created(session))

    def _write_messages(self, session_id: str, batch: list[ConversationMessage], fresh: bool) -> None:
        if not batch:
            return
        missing = batch if fresh else self._missing(session_id, batch)
        if not missing:
            return
        try:
            self.target.add_messages(session_id, missing)
        except AlreadyExistsError:
            # Only after a crash or with duplicates in a file: one by one, keeping what is there.
            for message in missing:
                try:
                    self.target.add_message(session_id, message)
                except AlreadyExistsError:
                    self.report.add("skipped", "messages")
                else:
                    self.report.add("copied", "messages")
        else:
            self.report.add("copied", "messages", len(missing))

    def _missing(self, session_id: str, batch: list[ConversationMessage]) -> list[ConversationMessage]:
        """The messages of ``batch`` the target lacks, comparing those it has."""
        low = min(message.created_at for message in batch)
        high = max(message.created_at for message in batch)
        # Every message of the target in the batch's time span (usually the batch itself; more when
        # the target has messages the source lacks), so that each one present is compared.
        around = self.target.get_messages(
            session_id, after=math.nextafter(low, -math.inf), before=math.nextafter(high, math.inf)
        )
        present = {message.id: message for message in around}
        writes = self._to_write("messages", batch, present, _same_message, f"session {session_id!r}")
        replaced = [message.id for message, differs in writes if differs]
        if replaced:
            self.target.delete_messages(session_id, replaced)
        return [message for message, _ in writes]


# -- the kind -------------------------------------------------------------------------------------------------------


class ConversationKind(GroupedTransfer[ConversationStore, ConversationSession, ConversationMessage]):
    name = "conversation"
    units = ("sessions", "messages")
    probe = "get_session"
    copy_unit = "sessions"
    verify_unit = "sessions"
    groups = Groups(head="session", item="message", end="session_end", key="session_id", count="messages")
    record_types = groups.record_types

    def read(self, source: ConversationStore, run: Run) -> Reading[Part, GroupReference]:
        size = run.batch_size
        total = sum(1 for _ in iter_sessions(source, size))
        parts = (
            (session, run.ticking(iter_message_batches(source, session.session_id, size)))
            for session in iter_sessions(source, size)
        )

        def reference() -> tuple[int, Iterable[GroupReference]]:
            sessions = iter_sessions(source, size)
            return total, ((s.session_id, *self.group_summary(source, s.session_id, size)) for s in sessions)

        return Reading(total, parts, reference)

    def writer(self, target: ConversationStore, run: Run) -> Callable[[Part], None]:
        return _ConversationWriter(target, run).write

    def has_group(self, store: ConversationStore, name: str) -> bool:
        return store.get_session(name) is not None

    def item_count(self, store: ConversationStore, name: str, batch_size: int) -> int:
        return _message_count(store, name, batch_size)

    def item_digest(self, item: ConversationMessage) -> str:
        # created_at is left out: some engines keep milliseconds only; the order of the messages stays in.
        fields = [item.id, item.role, item.content, item.tool_call_id, item.tool_calls, item.metadata]
        return hashlib.sha256(canonical(fields).encode()).hexdigest()

    def group_summary(self, store: ConversationStore, name: str, batch_size: int) -> tuple[int, str | None]:
        return self.digest(iter_message_batches(store, name, batch_size))

    def group_name(self, head: ConversationSession) -> str:
        return head.session_id

    def head_record(self, head: ConversationSession) -> dict[str, Any]:
        return {"type": "session", "session": head.to_dict()}

    def parse_head(self, record: dict[str, Any]) -> ConversationSession:
        return ConversationSession.from_dict(record["session"])

    def item_payload(self, item: ConversationMessage) -> dict[str, Any]:
        return item.to_dict()

    def parse_item(self, payload: Any) -> ConversationMessage:
        return ConversationMessage.from_dict(payload)

    def check_item(self, payload: Any, scan: Scan) -> None:
        message = self.parse_item(payload)
        if message.session_id != scan.group:
            raise scan.bad(f"message of session {message.session_id!r} inside session {scan.group!r}")


CONVERSATION = ConversationKind()
