"""Copy conversations, knowledge or state between any two stores, or to and from JSON Lines.

The engine behind ``praisonai-persistence migrate``, ``export`` and ``import``
(argument parsing lives in :mod:`praisonai.persistence.cli`)::

    from praisonai.persistence.migrate import migrate
    from praisonai.persistence.registry import CONVERSATION_STORES

    report = migrate(
        "conversation",
        CONVERSATION_STORES.create("sqlite", path="chat.db"),
        CONVERSATION_STORES.create("postgres", url="postgresql://app@db/chat"),
    )
    assert report.verification is not None and report.verification.ok

It works through the public contracts only, so any two backends work,
plugins included; async stores are driven on a private event loop. The
stores given to a function are closed when it returns.

Guarantees:

- **Streaming**: items move in batches of ``batch_size``; memory does not grow
  with the number of sessions, messages or documents. (State keys are listed
  at once: the contract's ``keys()`` has no cursor; values still move in batches.)
- **Exact**: sessions keep their ids and both timestamps, messages their ids,
  timestamps and order (equal timestamps included), documents their ids,
  embeddings and metadata, state keys their values and remaining TTLs.
- **Idempotent and resumable**: what the target already holds is compared and
  skipped, so running a copy again (after it was killed, say) copies only what
  is missing. What the target holds *differently* is a conflict, handled by
  ``on_conflict``: ``"fail"`` (raise :class:`ConflictError`), ``"skip"`` (keep
  the target's) or ``"overwrite"``.
- **Verified**: at the end, counts are compared item by item (messages per
  session, documents per collection, live keys and hash fields).

The optional extras :class:`~praisonai.persistence.conversation.base.ConversationTransfer`
and :class:`~praisonai.persistence.knowledge.base.KnowledgeTransfer` make copies
faster and exact where the contract alone cannot: see ``docs/cli.md``.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, Literal, TypeAlias, TypeVar, cast

from ._sync import SyncStores, SyncView
from .conversation.base import ConversationMessage, ConversationSession, ConversationStore
from .errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidExportError,
    TransferError,
    UnsupportedTransferError,
    WrongTypeError,
)
from .knowledge.base import CollectionInfo, KnowledgeDocument, KnowledgeStore
from .state.base import StateStore

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ConflictError",
    "InvalidExportError",
    "OnConflict",
    "Progress",
    "TransferError",
    "TransferKind",
    "TransferReport",
    "UnsupportedTransferError",
    "Verification",
    "export_jsonl",
    "import_jsonl",
    "migrate",
]

TransferKind: TypeAlias = Literal["conversation", "knowledge", "state"]
OnConflict: TypeAlias = Literal["fail", "skip", "overwrite"]
T = TypeVar("T")
S = TypeVar("S")

FORMAT = "praisonai-persistence"
FORMAT_VERSION = 1
DEFAULT_BATCH_SIZE = 1000

_TIME_TOLERANCE = 1e-3  # seconds; some engines keep timestamps to the millisecond
_MAX_LISTED = 20  # mismatches listed in a report


@dataclass(slots=True)
class Progress:
    """Where a transfer is; passed to the ``progress`` callback after every batch.

    ``counts[unit]`` of ``total`` are done (``total`` is None when unknown);
    the last key of ``counts`` is the bulk (messages, documents or keys).
    """

    phase: Literal["copy", "verify"]
    unit: str
    total: int | None
    counts: dict[str, int]
    finished: bool = False


ProgressCallback: TypeAlias = Callable[[Progress], None]


@dataclass(slots=True)
class Verification:
    """Item-by-item comparison of counts after a transfer."""

    checked: dict[str, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)  # the first few, described
    mismatch_count: int = 0

    @property
    def ok(self) -> bool:
        return self.mismatch_count == 0

    def mismatch(self, text: str) -> None:
        self.mismatch_count += 1
        if len(self.mismatches) < _MAX_LISTED:
            self.mismatches.append(text)


@dataclass(slots=True)
class TransferReport:
    """What a transfer did. ``copied`` were written, ``skipped`` were already there (equal),
    ``conflicts`` differed in the target and were kept or overwritten as ``on_conflict`` said."""

    kind: TransferKind
    operation: Literal["migrate", "export", "import"]
    on_conflict: OnConflict = "fail"
    copied: dict[str, int] = field(default_factory=dict)  # overwritten conflicts count here too
    skipped: dict[str, int] = field(default_factory=dict)
    conflicts: dict[str, int] = field(default_factory=dict)
    expired: int = 0  # state keys whose TTL ran out before they could be written
    notes: list[str] = field(default_factory=list)
    verification: Verification | None = None
    seconds: float = 0.0

    def add(self, bucket: Literal["copied", "skipped", "conflicts"], unit: str, amount: int = 1) -> None:
        counts = getattr(self, bucket)
        counts[unit] = counts.get(unit, 0) + amount

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def as_dict(self) -> dict[str, Any]:
        verification = self.verification
        return {
            "kind": self.kind,
            "operation": self.operation,
            "on_conflict": self.on_conflict,
            "copied": self.copied,
            "skipped": self.skipped,
            "conflicts": self.conflicts,
            "expired": self.expired,
            "notes": self.notes,
            "verification": None
            if verification is None
            else {
                "ok": verification.ok,
                "checked": verification.checked,
                "mismatch_count": verification.mismatch_count,
                "mismatches": verification.mismatches,
            },
            "seconds": round(self.seconds, 3),
        }


def _capability(store: Any, name: str) -> Any:
    member = getattr(store, name, None)
    return member if callable(member) else None


def _store_name(store: Any) -> str:
    inner = store._store if isinstance(store, SyncView) else store
    return str(getattr(inner, "backend", None) or type(inner).__name__)


# -- comparisons ------------------------------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _same_time(a: float, b: float) -> bool:
    return abs(a - b) <= _TIME_TOLERANCE


def _session_differences(a: ConversationSession, b: ConversationSession) -> list[str]:
    fields = [name for name in ("user_id", "agent_id", "name") if getattr(a, name) != getattr(b, name)]
    fields += [name for name in ("state", "metadata") if _canonical(getattr(a, name)) != _canonical(getattr(b, name))]
    if not _same_time(a.created_at, b.created_at):
        fields.append("created_at")
    return fields


def _same_message(a: ConversationMessage, b: ConversationMessage) -> bool:
    return (
        a.role == b.role
        and a.content == b.content
        and a.tool_call_id == b.tool_call_id
        and _canonical(a.tool_calls) == _canonical(b.tool_calls)
        and _canonical(a.metadata) == _canonical(b.metadata)
        and _same_time(a.created_at, b.created_at)
    )


def _same_vector(a: list[float] | None, b: list[float] | None) -> bool:
    if a is None or b is None:
        return a is b
    # Engines that keep float32 (pgvector, most vector databases) round the last digits.
    return len(a) == len(b) and all(abs(x - y) <= 1e-6 + 1e-5 * abs(x) for x, y in zip(a, b, strict=True))


def _same_document(a: KnowledgeDocument, b: KnowledgeDocument) -> bool:
    return (
        a.content == b.content
        and _canonical(a.metadata) == _canonical(b.metadata)
        and _same_vector(a.embedding, b.embedding)
    )


# -- conversation: reading ------------------------------------------------------------------------------------------


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
    native = _capability(store, "iter_messages")
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


def _count(batches: Iterable[list[Any]]) -> int:
    return sum(len(batch) for batch in batches)


# -- conversation: writing ------------------------------------------------------------------------------------------


class _Writer(Generic[S]):
    """What the three writers share: the target, the report, and the conflict policy."""

    def __init__(self, target: S, report: TransferReport, on_conflict: OnConflict) -> None:
        self.target: S = target
        self.report = report
        self.on_conflict = on_conflict

    def _conflict(self, unit: str, what: str) -> bool:
        """Count a conflict over ``what``; raise it (``fail``), or say whether to overwrite (else skip)."""
        self.report.add("conflicts", unit)
        if self.on_conflict == "fail":
            raise ConflictError(f"{what}; use --on-conflict skip or overwrite")
        return self.on_conflict == "overwrite"


class _ConversationWriter(_Writer[ConversationStore]):
    """Writes sessions and their messages into a store: idempotently, resumably."""

    def __init__(self, target: ConversationStore, report: TransferReport, on_conflict: OnConflict) -> None:
        super().__init__(target, report, on_conflict)
        self.restore = _capability(target, "restore_session")
        if self.restore is None:
            report.note(
                f"{_store_name(target)} cannot restore session timestamps (it has no restore_session): "
                "updated_at of a copied session with messages is the time of the copy"
            )

    def write(self, session: ConversationSession, batches: Iterator[list[ConversationMessage]]) -> None:
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
        differences = _session_differences(session, existing)
        if differences:
            what = f"session {session.session_id!r} exists in the target with different {', '.join(differences)}"
            if not self._conflict("sessions", what):
                return None
            self.target.delete_session(session.session_id)
            self.target.create_session(self._created(session))
            self.report.add("copied", "sessions")
            return True
        self.report.add("skipped", "sessions")
        # restore_session is the copy's last step: a matching updated_at means the session is complete.
        if self.restore is not None and existing.updated_at == session.updated_at:
            return None
        return False

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
        around = self.target.get_messages(
            session_id,
            after=math.nextafter(low, -math.inf),
            before=math.nextafter(high, math.inf),
            limit=len(batch) + 1,
        )
        if len(around) > len(batch):
            return batch  # the target has more in this time span than the batch: add one by one
        present = {message.id: message for message in around}
        missing: list[ConversationMessage] = []
        for message in batch:
            stored = present.get(message.id)
            if stored is None:
                missing.append(message)
            elif _same_message(message, stored):
                self.report.add("skipped", "messages")
            elif self._conflict("messages", f"message {message.id!r} of session {session_id!r} differs in the target"):
                self.target.delete_messages(session_id, [message.id])
                missing.append(message)
        return missing


def _verify_conversations(
    reference: Iterable[tuple[str, int | None]],
    other: ConversationStore,
    batch_size: int,
    source: ConversationStore | None,
    progress: _Ticker,
) -> Verification:
    """For each (session id, expected count or None = count it in ``source``), compare with ``other``."""
    verification = Verification(checked={"sessions": 0, "messages": 0})
    progress.tick(verification.checked)
    for session_id, expected in reference:
        if expected is None:
            assert source is not None
            expected = _count(iter_message_batches(source, session_id, batch_size))
        verification.checked["sessions"] += 1
        verification.checked["messages"] += expected
        if other.get_session(session_id) is None:
            verification.mismatch(f"session {session_id!r} is missing")
            continue
        found = _count(iter_message_batches(other, session_id, batch_size))
        if found != expected:
            verification.mismatch(f"session {session_id!r}: {expected} messages expected, {found} found")
        progress.tick(verification.checked)
    return verification


# -- knowledge ----------------------------------------------------------------------------------------------------


def _knowledge_reader(store: KnowledgeStore) -> tuple[Callable[[str], CollectionInfo], Callable[..., Any]]:
    describe = _capability(store, "describe_collection")
    iterate = _capability(store, "iter_documents")
    lacking = [name for name, member in (("describe_collection", describe), ("iter_documents", iterate)) if not member]
    if lacking:
        raise UnsupportedTransferError(
            f"knowledge backend {_store_name(store)!r} cannot be read in full: it lacks {' and '.join(lacking)} "
            "(the KnowledgeTransfer extras; the contract alone cannot list documents or a collection's dimension)"
        )
    return describe, iterate


class _KnowledgeWriter(_Writer[KnowledgeStore]):
    def __init__(self, target: KnowledgeStore, report: TransferReport, on_conflict: OnConflict) -> None:
        super().__init__(target, report, on_conflict)
        self.describe = _capability(target, "describe_collection")

    def write(self, info: CollectionInfo, batches: Iterator[list[KnowledgeDocument]]) -> None:
        fresh = self._create(info)
        if fresh is None:
            return
        for batch in batches:
            self._write_documents(info.name, batch, fresh)

    def _create(self, info: CollectionInfo) -> bool | None:
        target = self.target
        if not target.collection_exists(info.name):
            target.create_collection(info.name, info.dimension, info.distance, info.metadata)
            self.report.add("copied", "collections")
            return True
        if self.describe is not None:
            existing: CollectionInfo = self.describe(info.name)
            differences = [name for name in ("dimension", "distance") if getattr(existing, name) != getattr(info, name)]
            if _canonical(existing.metadata) != _canonical(info.metadata):
                differences.append("metadata")
            if differences:
                what = f"collection {info.name!r} exists in the target with different {', '.join(differences)}"
                if not self._conflict("collections", what):
                    return None
                target.delete_collection(info.name)
                target.create_collection(info.name, info.dimension, info.distance, info.metadata)
                self.report.add("copied", "collections")
                return True
        self.report.add("skipped", "collections")
        return False

    def _write_documents(self, collection: str, batch: list[KnowledgeDocument], fresh: bool) -> None:
        if not batch:
            return
        for document in batch:
            document.score = None
        if fresh:
            try:
                self.target.insert(collection, batch)
            except AlreadyExistsError:
                pass  # an id repeated in the source file: compare below
            else:
                self.report.add("copied", "documents", len(batch))
                return
        present = {document.id: document for document in self.target.get(collection, [d.id for d in batch])}
        missing: list[KnowledgeDocument] = []
        replace: list[KnowledgeDocument] = []
        for document in batch:
            stored = present.get(document.id)
            if stored is None:
                missing.append(document)
            elif _same_document(document, stored):
                self.report.add("skipped", "documents")
            elif self._conflict(
                "documents", f"document {document.id!r} of collection {collection!r} differs in the target"
            ):
                replace.append(document)
        if missing:
            self.target.insert(collection, missing)
            self.report.add("copied", "documents", len(missing))
        if replace:
            self.target.upsert(collection, replace)
            self.report.add("copied", "documents", len(replace))


def _verify_knowledge(reference: Iterable[tuple[str, int]], other: KnowledgeStore, progress: _Ticker) -> Verification:
    verification = Verification(checked={"collections": 0, "documents": 0})
    progress.tick(verification.checked)
    for name, expected in reference:
        verification.checked["collections"] += 1
        verification.checked["documents"] += expected
        if not other.collection_exists(name):
            verification.mismatch(f"collection {name!r} is missing")
            continue
        found = other.count(name)
        if found != expected:
            verification.mismatch(f"collection {name!r}: {expected} documents expected, {found} found")
        progress.tick(verification.checked)
    return verification


# -- state --------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    key: str
    is_hash: bool
    value: Any  # the JSON value, or the hash's fields
    expires_at: float | None  # epoch seconds

    def same_value(self, other: _Entry) -> bool:
        return self.is_hash == other.is_hash and _canonical(self.value) == _canonical(other.value)


def _read_entries(store: StateStore, keys: list[str]) -> dict[str, _Entry]:
    """The live entries among ``keys``. TTLs are read first, so a key that expires meanwhile is skipped."""
    now = time.time()
    ttls = {key: store.ttl(key) for key in keys}
    try:
        values: dict[str, Any] | None = store.get_many(keys)
    except WrongTypeError:
        values = None
    entries: dict[str, _Entry] = {}
    for key in keys:
        ttl = ttls[key]
        expires_at = None if ttl is None else now + ttl
        if values is not None and key in values:
            entries[key] = _Entry(key, False, values[key], expires_at)
            continue
        try:
            value = store.get(key)
        except WrongTypeError:
            fields = store.hgetall(key)
            if fields:
                entries[key] = _Entry(key, True, fields, expires_at)
            continue
        if value is not None or store.exists(key):
            entries[key] = _Entry(key, False, value, expires_at)
    return entries


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _StateWriter(_Writer[StateStore]):
    def write(self, entries: list[_Entry]) -> None:
        target = self.target
        current = _read_entries(target, [entry.key for entry in entries])
        plain: dict[str, Any] = {}
        now = time.time()
        for entry in entries:
            remaining = None if entry.expires_at is None else entry.expires_at - now
            if remaining is not None and remaining <= 0:
                self.report.expired += 1
                continue
            have = current.get(entry.key)
            if have is not None:
                if entry.same_value(have):
                    if remaining is not None and have.expires_at is None:
                        target.expire(entry.key, remaining)  # a hash whose copy stopped before its expire
                    self.report.add("skipped", "keys")
                    continue
                partial_hash = (
                    entry.is_hash
                    and have.is_hash
                    and all(
                        name in entry.value and _canonical(entry.value[name]) == _canonical(value)
                        for name, value in have.value.items()
                    )
                )
                if not partial_hash:
                    if not self._conflict("keys", f"key {entry.key!r} holds a different value in the target"):
                        continue
                    target.delete(entry.key)
            if entry.is_hash:
                for name, value in entry.value.items():
                    target.hset(entry.key, name, value)
                if remaining is not None:
                    target.expire(entry.key, remaining)
            elif remaining is None:
                plain[entry.key] = entry.value
            else:
                target.set(entry.key, entry.value, ttl=remaining)
            self.report.add("copied", "keys")
        if plain:
            target.set_many(plain)


def _verify_state(reference: Iterable[list[_Entry]], other: StateStore, progress: _Ticker) -> Verification:
    """Each live reference entry must be in ``other``, a hash with as many fields."""
    verification = Verification(checked={"keys": 0})
    progress.tick(verification.checked)
    now = time.time()
    for entries in reference:
        live = [entry for entry in entries if entry.expires_at is None or entry.expires_at > now + 1]
        found = _read_entries(other, [entry.key for entry in live])
        for entry in live:
            verification.checked["keys"] += 1
            have = found.get(entry.key)
            if have is None:
                verification.mismatch(f"key {entry.key!r} is missing")
            elif have.is_hash != entry.is_hash:
                verification.mismatch(f"key {entry.key!r} is a {'hash' if have.is_hash else 'value'} in the target")
            elif entry.is_hash and len(have.value) != len(entry.value):
                verification.mismatch(
                    f"hash {entry.key!r}: {len(entry.value)} fields expected, {len(have.value)} found"
                )
        progress.tick(verification.checked)
    return verification


# -- progress -----------------------------------------------------------------------------------------------------


class _Ticker:
    def __init__(self, callback: ProgressCallback | None, phase: Literal["copy", "verify"], unit: str) -> None:
        self.callback = callback
        self.phase: Literal["copy", "verify"] = phase
        self.unit = unit
        self.total: int | None = None

    def tick(self, counts: dict[str, int], finished: bool = False) -> None:
        if self.callback is not None:
            self.callback(Progress(self.phase, self.unit, self.total, dict(counts), finished))


def _done_counts(report: TransferReport, units: tuple[str, ...]) -> dict[str, int]:
    kept = report.on_conflict != "overwrite"  # overwritten conflicts are counted as copied
    return {
        unit: report.copied.get(unit, 0) + report.skipped.get(unit, 0) + (report.conflicts.get(unit, 0) if kept else 0)
        for unit in units
    }


_UNITS: dict[TransferKind, tuple[str, ...]] = {
    "conversation": ("sessions", "messages"),
    "knowledge": ("collections", "documents"),
    "state": ("keys",),
}
_PROBE: dict[TransferKind, str] = {"conversation": "get_session", "knowledge": "count", "state": "get"}


def _check_arguments(kind: object, batch_size: object, on_conflict: object) -> None:
    if kind not in _UNITS:
        raise ValueError(f"kind must be conversation, knowledge or state, not {kind!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
    if on_conflict not in ("fail", "skip", "overwrite"):
        raise ValueError(f"on_conflict must be fail, skip or overwrite, not {on_conflict!r}")


# -- migrate ------------------------------------------------------------------------------------------------------


def migrate(
    kind: TransferKind,
    source: Any,
    target: Any,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_conflict: OnConflict = "fail",
    verify: bool = True,
    progress: ProgressCallback | None = None,
) -> TransferReport:
    """Copy everything of ``kind`` from ``source`` to ``target`` (stores, sync or async); close both.

    Raises :class:`ConflictError` on a differing item with ``on_conflict="fail"``,
    :class:`UnsupportedTransferError` when a knowledge source cannot be listed,
    and whatever the stores raise. A failed verification is reported, not raised.
    """
    _check_arguments(kind, batch_size, on_conflict)
    started = time.monotonic()
    report = TransferReport(kind, "migrate", on_conflict)
    stores = SyncStores()
    try:
        src = stores.adopt(source, _PROBE[kind])
        dst = stores.adopt(target, _PROBE[kind])
        if kind == "conversation":
            _migrate_conversations(src, dst, batch_size, on_conflict, verify, progress, report)
        elif kind == "knowledge":
            _migrate_knowledge(src, dst, batch_size, on_conflict, verify, progress, report)
        else:
            _migrate_state(src, dst, batch_size, on_conflict, verify, progress, report)
    finally:
        stores.close()
    report.seconds = time.monotonic() - started
    return report


def _migrate_conversations(
    src: ConversationStore,
    dst: ConversationStore,
    batch_size: int,
    on_conflict: OnConflict,
    verify: bool,
    progress: ProgressCallback | None,
    report: TransferReport,
) -> None:
    units = _UNITS["conversation"]
    ticker = _Ticker(progress, "copy", "sessions")
    ticker.total = sum(1 for _ in iter_sessions(src, batch_size))
    writer = _ConversationWriter(dst, report, on_conflict)
    ticker.tick(_done_counts(report, units))
    for session in iter_sessions(src, batch_size):
        writer.write(
            session, _ticking(iter_message_batches(src, session.session_id, batch_size), ticker, report, units)
        )
        ticker.tick(_done_counts(report, units))
    ticker.tick(_done_counts(report, units), finished=True)
    if verify:
        checker = _Ticker(progress, "verify", "sessions")
        checker.total = ticker.total
        reference = ((session.session_id, None) for session in iter_sessions(src, batch_size))
        report.verification = _verify_conversations(reference, dst, batch_size, src, checker)
        checker.tick(report.verification.checked, finished=True)


def _ticking(
    batches: Iterator[list[T]], ticker: _Ticker, report: TransferReport, units: tuple[str, ...]
) -> Iterator[list[T]]:
    """Pass batches through, reporting progress after each has been written."""
    for batch in batches:
        yield batch
        ticker.tick(_done_counts(report, units))


def _migrate_knowledge(
    src: KnowledgeStore,
    dst: KnowledgeStore,
    batch_size: int,
    on_conflict: OnConflict,
    verify: bool,
    progress: ProgressCallback | None,
    report: TransferReport,
) -> None:
    describe, iterate = _knowledge_reader(src)
    units = _UNITS["knowledge"]
    names = src.list_collections()
    ticker = _Ticker(progress, "copy", "documents")
    ticker.total = sum(src.count(name) for name in names)
    writer = _KnowledgeWriter(dst, report, on_conflict)
    ticker.tick(_done_counts(report, units))
    for name in names:
        writer.write(describe(name), _ticking(iterate(name, batch_size), ticker, report, units))
    ticker.tick(_done_counts(report, units), finished=True)
    if verify:
        checker = _Ticker(progress, "verify", "collections")
        checker.total = len(names)
        report.verification = _verify_knowledge(((name, src.count(name)) for name in names), dst, checker)
        checker.tick(report.verification.checked, finished=True)


def _migrate_state(
    src: StateStore,
    dst: StateStore,
    batch_size: int,
    on_conflict: OnConflict,
    verify: bool,
    progress: ProgressCallback | None,
    report: TransferReport,
) -> None:
    units = _UNITS["state"]
    keys = src.keys("*")
    ticker = _Ticker(progress, "copy", "keys")
    ticker.total = len(keys)
    writer = _StateWriter(dst, report, on_conflict)
    ticker.tick(_done_counts(report, units))
    for chunk in _chunks(keys, batch_size):
        entries = _read_entries(src, chunk)
        writer.write(list(entries.values()))
        report.expired += len(chunk) - len(entries)
        ticker.tick(_done_counts(report, units))
    ticker.tick(_done_counts(report, units), finished=True)
    del keys
    if verify:
        checker = _Ticker(progress, "verify", "keys")
        keys = src.keys("*")
        checker.total = len(keys)
        reference = (list(_read_entries(src, chunk).values()) for chunk in _chunks(keys, batch_size))
        report.verification = _verify_state(reference, dst, checker)
        checker.tick(report.verification.checked, finished=True)


# -- JSON Lines ---------------------------------------------------------------------------------------------------


def _open_text(path: Path, mode: Literal["r", "w"]) -> IO[str]:
    if path.suffix == ".gz":
        return cast("IO[str]", gzip.open(path, mode + "t", encoding="utf-8", newline="\n"))
    return open(path, mode, encoding="utf-8", newline="\n")


class _LineWriter:
    """Writes records, one JSON object per line, to a temporary file renamed over ``path`` on commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        self.temporary = Path(name)
        self.raw = os.fdopen(descriptor, "wb")
        self.gzip = gzip.GzipFile(fileobj=self.raw, mode="wb") if path.suffix == ".gz" else None
        self.file = io.TextIOWrapper(cast("IO[bytes]", self.gzip or self.raw), encoding="utf-8", newline="\n")

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        try:
            self.file.write(line + "\n")
        except UnicodeEncodeError:  # lone surrogates: \u escapes keep them exact
            self.file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")

    def commit(self) -> None:
        self.file.flush()
        if self.gzip is not None:
            self.gzip.close()  # writes the gzip trailer; the file itself stays open
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        os.replace(self.temporary, self.path)

    def abort(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.raw.close()
        with contextlib.suppress(OSError):
            self.temporary.unlink()


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with _open_text(path, "r") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise InvalidExportError(f"{path}:{number}: not JSON ({error})") from None
            if not isinstance(record, dict):
                raise InvalidExportError(f"{path}:{number}: expected a JSON object")
            yield number, record


_RECORD_TYPES: dict[TransferKind, frozenset[str]] = {
    "conversation": frozenset({"session", "message", "session_end", "end"}),
    "knowledge": frozenset({"collection", "document", "collection_end", "end"}),
    "state": frozenset({"value", "hash", "end"}),
}


def _header(kind: TransferKind, source: str | None) -> dict[str, Any]:
    return {"format": FORMAT, "version": FORMAT_VERSION, "kind": kind, "created_at": time.time(), "source": source}


def _scan(path: Path, kind: TransferKind) -> dict[str, int]:
    """Read the whole file once: its structure and counts must be right before anything is imported."""

    def bad(number: int, text: str) -> InvalidExportError:
        return InvalidExportError(f"{path}:{number}: {text}")

    try:
        records = _records(path)
        first = next(records, None)
        if first is None:
            raise InvalidExportError(f"{path} is empty")
        number, header = first
        if header.get("format") != FORMAT:
            raise bad(number, f"not a {FORMAT} export (no header line)")
        if header.get("version") != FORMAT_VERSION:
            raise bad(number, f"unsupported format version {header.get('version')!r}")
        if header.get("kind") != kind:
            raise bad(number, f"this file holds {header.get('kind')!r} data, not {kind!r}")
        types = _RECORD_TYPES[kind]
        totals: dict[str, int] = {}
        group: str | None = None  # the session or collection being read
        in_group = 0
        ended = False
        for number, record in records:
            kind_of = record.get("type")
            if ended:
                raise bad(number, "data after the end record")
            if kind_of not in types:
                raise bad(number, f"unexpected record type {kind_of!r}")
            try:
                if kind_of == "session":
                    session = ConversationSession.from_dict(record["session"])
                    if group is not None:
                        raise bad(number, f"session {group!r} has no session_end record")
                    group, in_group = session.session_id, 0
                    totals["sessions"] = totals.get("sessions", 0) + 1
                elif kind_of == "collection":
                    if group is not None:
                        raise bad(number, f"collection {group!r} has no collection_end record")
                    CollectionInfo(record["name"], int(record["dimension"]), record["distance"], record["metadata"])
                    group, in_group = record["name"], 0
                    totals["collections"] = totals.get("collections", 0) + 1
                elif kind_of in ("message", "document"):
                    item = record[kind_of]
                    if group is None:
                        raise bad(
                            number, f"a {kind_of} outside a {'session' if kind_of == 'message' else 'collection'}"
                        )
                    if kind_of == "message":
                        message = ConversationMessage.from_dict(item)
                        if message.session_id != group:
                            raise bad(number, f"message of session {message.session_id!r} inside session {group!r}")
                    else:
                        KnowledgeDocument.from_dict(item)
                    in_group += 1
                    unit = kind_of + "s"
                    totals[unit] = totals.get(unit, 0) + 1
                elif kind_of in ("session_end", "collection_end"):
                    name = record["session_id" if kind_of == "session_end" else "name"]
                    count = record["messages" if kind_of == "session_end" else "documents"]
                    if name != group:
                        raise bad(number, f"{kind_of} for {name!r} closes {group!r}")
                    if count != in_group:
                        raise bad(number, f"{name!r} declares {count} items but {in_group} precede it")
                    group = None
                elif kind_of in ("value", "hash"):
                    if not isinstance(record["key"], str):
                        raise bad(number, "key must be a string")
                    if kind_of == "hash" and not isinstance(record["fields"], dict):
                        raise bad(number, "fields must be an object")
                    if kind_of == "value" and "value" not in record:
                        raise bad(number, "a value record without its value")
                    expires_at = record["expires_at"]
                    if expires_at is not None and not isinstance(expires_at, (int, float)):
                        raise bad(number, "expires_at must be a number or null")
                    totals["keys"] = totals.get("keys", 0) + 1
                else:  # end
                    if group is not None:
                        raise bad(number, f"{group!r} is not closed before the end record")
                    declared = {unit: record.get(unit) for unit in _UNITS[kind]}
                    counted = {unit: totals.get(unit, 0) for unit in _UNITS[kind]}
                    if declared != counted:
                        raise bad(number, f"the end record declares {declared} but the file holds {counted}")
                    ended = True
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                if isinstance(error, InvalidExportError):
                    raise
                raise bad(number, f"malformed {kind_of} record ({type(error).__name__}: {error})") from None
        if not ended:
            raise InvalidExportError(f"{path} is truncated: it has no end record")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise InvalidExportError(f"cannot read {path}: {error}") from None
    return {unit: totals.get(unit, 0) for unit in _UNITS[kind]}


class _FileReader:
    """Walks a validated export: one record of look-ahead."""

    def __init__(self, path: Path) -> None:
        self._records = _records(path)
        next(self._records)  # the header
        self._peeked: dict[str, Any] | None = None

    def next(self) -> dict[str, Any]:
        if self._peeked is not None:
            record, self._peeked = self._peeked, None
            return record
        return next(self._records)[1]

    def peek(self) -> dict[str, Any]:
        if self._peeked is None:
            self._peeked = next(self._records)[1]
        return self._peeked

    def close(self) -> None:
        cast("Any", self._records).close()

    def groups(self, item: str, batch_size: int) -> Iterator[tuple[dict[str, Any], Iterator[list[dict[str, Any]]]]]:
        """(group record, batches of its items' payloads) for each session or collection."""
        while self.peek()["type"] != "end":
            head = self.next()
            batches = self._items(item, batch_size)
            yield head, batches
            for _ in batches:  # the consumer skipped the items
                pass

    def _items(self, item: str, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        while True:
            record = self.next()
            if record["type"] != item:  # the group's end record
                if batch:
                    yield batch
                return
            batch.append(record[item])
            if len(batch) >= batch_size:
                yield batch
                batch = []

    def entries(self, batch_size: int) -> Iterator[list[_Entry]]:
        batch: list[_Entry] = []
        while True:
            record = self.next()
            if record["type"] == "end":
                break
            is_hash = record["type"] == "hash"
            batch.append(_Entry(record["key"], is_hash, record["fields" if is_hash else "value"], record["expires_at"]))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


def _as_path(path: str | os.PathLike[str]) -> Path:
    return Path(os.fspath(path)).expanduser()


def export_jsonl(
    kind: TransferKind,
    source: Any,
    path: str | os.PathLike[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    verify: bool = True,
    progress: ProgressCallback | None = None,
    source_name: str | None = None,
) -> TransferReport:
    """Write everything of ``kind`` in ``source`` to a JSON Lines file (gzip-compressed if it ends in ``.gz``).

    The file appears complete or not at all (written aside, then renamed). The
    format is described in ``docs/cli.md``. ``source`` is closed at the end.
    """
    _check_arguments(kind, batch_size, "fail")
    started = time.monotonic()
    target = _as_path(path)
    report = TransferReport(kind, "export")
    stores = SyncStores()
    writer: _LineWriter | None = None
    try:
        src = stores.adopt(source, _PROBE[kind])
        if kind == "knowledge":
            _knowledge_reader(src)  # fail before creating a file
        writer = _LineWriter(target)
        writer.write(_header(kind, source_name or _store_name(src)))
        if kind == "conversation":
            _export_conversations(src, writer, batch_size, progress, report)
        elif kind == "knowledge":
            _export_knowledge(src, writer, batch_size, progress, report)
        else:
            _export_state(src, writer, batch_size, progress, report)
        writer.commit()
        writer = None
        if verify:
            report.verification = _verify_file(kind, target, src, batch_size, progress)
    finally:
        if writer is not None:
            writer.abort()
        stores.close()
    report.seconds = time.monotonic() - started
    return report


def _export_conversations(
    src: ConversationStore,
    writer: _LineWriter,
    batch_size: int,
    progress: ProgressCallback | None,
    report: TransferReport,
) -> None:
    units = _UNITS["conversation"]
    ticker = _Ticker(progress, "copy", "sessions")
    ticker.total = sum(1 for _ in iter_sessions(src, batch_size))
    ticker.tick(_done_counts(report, units))
    for session in iter_sessions(src, batch_size):
        writer.write({"type": "session", "session": session.to_dict()})
        count = 0
        for batch in iter_message_batches(src, session.session_id, batch_size):
            for message in batch:
                writer.write({"type": "message", "message": message.to_dict()})
            count += len(batch)
            report.add("copied", "messages", len(batch))
            ticker.tick(_done_counts(report, units))
        writer.write({"type": "session_end", "session_id": session.session_id, "messages": count})
        report.add("copied", "sessions")
        ticker.tick(_done_counts(report, units))
    writer.write({"type": "end", **{unit: report.copied.get(unit, 0) for unit in units}})
    ticker.tick(_done_counts(report, units), finished=True)


def _export_knowledge(
    src: KnowledgeStore,
    writer: _LineWriter,
    batch_size: int,
    progress: ProgressCallback | None,
    report: TransferReport,
) -> None:
    describe, iterate = _knowledge_reader(src)
    units = _UNITS["knowledge"]
    names = src.list_collections()
    ticker = _Ticker(progress, "copy", "documents")
    ticker.total = sum(src.count(name) for name in names)
    ticker.tick(_done_counts(report, units))
    for name in names:
        info: CollectionInfo = describe(name)
        writer.write({"type": "collection", **info._asdict()})
        count = 0
        for batch in iterate(name, batch_size):
            for document in batch:
                payload = document.to_dict()
                del payload["score"]
                writer.write({"type": "document", "document": payload})
            count += len(batch)
            report.add("copied", "documents", len(batch))
            ticker.tick(_done_counts(report, units))
        writer.write({"type": "collection_end", "name": name, "documents": count})
        report.add("copied", "collections")
    writer.write({"type": "end", **{unit: report.copied.get(unit, 0) for unit in units}})
    ticker.tick(_done_counts(report, units), finished=True)


def _export_state(
    src: StateStore,
    writer: _LineWriter,
    batch_size: int,
    progress: ProgressCallback | None,
    report: TransferReport,
) -> None:
    keys = src.keys("*")
    ticker = _Ticker(progress, "copy", "keys")
    ticker.total = len(keys)
    ticker.tick(_done_counts(report, ("keys",)))
    for chunk in _chunks(keys, batch_size):
        entries = _read_entries(src, chunk)
        for entry in entries.values():
            record: dict[str, Any] = {"type": "hash" if entry.is_hash else "value", "key": entry.key}
            record["fields" if entry.is_hash else "value"] = entry.value
            record["expires_at"] = entry.expires_at
            writer.write(record)
        report.add("copied", "keys", len(entries))
        report.expired += len(chunk) - len(entries)
        ticker.tick(_done_counts(report, ("keys",)))
    writer.write({"type": "end", "keys": report.copied.get("keys", 0)})
    ticker.tick(_done_counts(report, ("keys",)), finished=True)


def _verify_file(
    kind: TransferKind, path: Path, store: Any, batch_size: int, progress: ProgressCallback | None
) -> Verification:
    """Compare a (validated) export with a store: what the file holds must be in the store, as many."""
    totals = _scan(path, kind)
    reader = _FileReader(path)
    try:
        if kind == "conversation":
            checker = _Ticker(progress, "verify", "sessions")
            checker.total = totals["sessions"]
            reference = _file_session_counts(reader)
            verification = _verify_conversations(reference, store, batch_size, None, checker)
        elif kind == "knowledge":
            checker = _Ticker(progress, "verify", "collections")
            checker.total = totals["collections"]
            verification = _verify_knowledge(_file_collection_counts(reader), store, checker)
        else:
            checker = _Ticker(progress, "verify", "keys")
            checker.total = totals["keys"]
            verification = _verify_state(reader.entries(batch_size), store, checker)
    finally:
        reader.close()
    checker.tick(verification.checked, finished=True)
    return verification


def _file_session_counts(reader: _FileReader) -> Iterator[tuple[str, int | None]]:
    while True:
        record = reader.next()
        if record["type"] == "session_end":
            yield record["session_id"], record["messages"]
        elif record["type"] == "end":
            return


def _file_collection_counts(reader: _FileReader) -> Iterator[tuple[str, int]]:
    while True:
        record = reader.next()
        if record["type"] == "collection_end":
            yield record["name"], record["documents"]
        elif record["type"] == "end":
            return


def import_jsonl(
    kind: TransferKind,
    path: str | os.PathLike[str],
    target: Any,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_conflict: OnConflict = "fail",
    verify: bool = True,
    progress: ProgressCallback | None = None,
) -> TransferReport:
    """Load a file written by :func:`export_jsonl` into ``target``; idempotent and resumable like :func:`migrate`.

    The whole file is validated first (:class:`InvalidExportError`, nothing
    imported). ``target`` is closed at the end.
    """
    _check_arguments(kind, batch_size, on_conflict)
    started = time.monotonic()
    source = _as_path(path)
    report = TransferReport(kind, "import", on_conflict)
    stores = SyncStores()
    try:
        totals = _scan(source, kind)
        dst = stores.adopt(target, _PROBE[kind])
        units = _UNITS[kind]
        ticker = _Ticker(progress, "copy", units[0] if kind != "knowledge" else "documents")
        ticker.total = totals[ticker.unit]
        reader = _FileReader(source)
        try:
            ticker.tick(_done_counts(report, units))
            if kind == "conversation":
                conversations = _ConversationWriter(dst, report, on_conflict)
                for head, batches in reader.groups("message", batch_size):
                    messages = ([ConversationMessage.from_dict(item) for item in batch] for batch in batches)
                    conversations.write(
                        ConversationSession.from_dict(head["session"]), _ticking(messages, ticker, report, units)
                    )
                    ticker.tick(_done_counts(report, units))
            elif kind == "knowledge":
                knowledge = _KnowledgeWriter(dst, report, on_conflict)
                for head, batches in reader.groups("document", batch_size):
                    info = CollectionInfo(head["name"], int(head["dimension"]), head["distance"], head["metadata"])
                    documents = ([KnowledgeDocument.from_dict(item) for item in batch] for batch in batches)
                    knowledge.write(info, _ticking(documents, ticker, report, units))
            else:
                state = _StateWriter(dst, report, on_conflict)
                for entries in reader.entries(batch_size):
                    state.write(entries)
                    ticker.tick(_done_counts(report, units))
        finally:
            reader.close()
        ticker.tick(_done_counts(report, units), finished=True)
        if verify:
            report.verification = _verify_file(kind, source, dst, batch_size, progress)
    finally:
        stores.close()
    report.seconds = time.monotonic() - started
    return report
