"""The interface each kind of data implements to be copied (:class:`KindTransfer`), and what the kinds share.

A copy moves *parts* from a source to a sink: a session with its messages, a
collection with its documents, or a batch of state keys. A kind says how to
read its parts from a store or a file, how to write them into a store or a
file, and how to verify a target against a reference: the operations in
:mod:`.operations` are written once over this interface.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ..errors import ConflictError
from ._sync_view import SyncView
from .jsonl import FileReader, Groups, LineWriter, Scan
from .report import OnConflict, ProgressCallback, Ticker, TransferKind, TransferReport, Verification

__all__ = [
    "GroupedTransfer",
    "KindTransfer",
    "Reading",
    "Run",
    "StoreWriter",
    "capability",
    "store_name",
]

S = TypeVar("S")  # the kind's store
P = TypeVar("P")  # one part of a copy
R = TypeVar("R")  # one item of what a verification compares the target with
T = TypeVar("T")


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


D = TypeVar("D", bound=_Identified)  # an item a target holds by id: a message, a document


def capability(store: Any, name: str) -> Any:
    """The store's optional method ``name``, or None."""
    member = getattr(store, name, None)
    return member if callable(member) else None


def store_name(store: Any) -> str:
    inner = store._store if isinstance(store, SyncView) else store
    return str(getattr(inner, "backend", None) or type(inner).__name__)


class Run:
    """One transfer's settings, its report, and the progress of its copy phase."""

    def __init__(
        self,
        units: tuple[str, ...],
        batch_size: int,
        on_conflict: OnConflict,
        progress: ProgressCallback | None,
        report: TransferReport,
    ) -> None:
        self.units = units
        self.batch_size = batch_size
        self.on_conflict: OnConflict = on_conflict
        self.progress = progress
        self.report = report
        self._copy = Ticker(None, "copy", units[0], None)

    def start(self, unit: str, total: int) -> None:
        self._copy = Ticker(self.progress, "copy", unit, total)
        self.tick()

    def tick(self, finished: bool = False) -> None:
        self._copy.tick(self.report.done(self.units), finished)

    def ticking(self, batches: Iterator[list[T]]) -> Iterator[list[T]]:
        """Pass batches through, reporting progress after each has been written."""
        for batch in batches:
            yield batch
            self.tick()


@dataclass(slots=True)
class Reading(Generic[P, R]):
    """A source opened for a copy."""

    total: int  # of the copy's progress unit
    parts: Iterator[P]
    # After the copy: the number of the verification's unit and the reference, read again from the source.
    reference: Callable[[], tuple[int, Iterable[R]]]


class StoreWriter(Generic[S]):
    """Writes parts into a target store; what the kinds' writers share is the conflict policy."""

    def __init__(self, target: S, run: Run) -> None:
        self.target: S = target
        self.report = run.report
        self.on_conflict = run.on_conflict

    def _conflict(self, unit: str, what: str) -> bool:
        """Count a conflict over ``what``; raise it (``fail``), or say whether to overwrite (else skip)."""
        self.report.add("conflicts", unit)
        if self.on_conflict == "fail":
            raise ConflictError(f"{what}; use --on-conflict skip or overwrite")
        return self.on_conflict == "overwrite"

    def _settle(self, unit: str, what: str, differences: list[str], replace: Callable[[], None]) -> bool | None:
        """A group (session, collection) the target has already, against the one copied.

        Equal: counted as skipped, False (its items are still compared). Differing: a
        conflict; overwritten (``replace`` writes it afresh), True; else None (left alone).
        """
        if not differences:
            self.report.add("skipped", unit)
            return False
        if not self._conflict(unit, f"{what} exists in the target with different {', '.join(differences)}"):
            return None
        replace()
        self.report.add("copied", unit)
        return True

    def _to_write(
        self, unit: str, batch: list[D], present: Mapping[str, D], same: Callable[[D, D], bool], where: str
    ) -> list[tuple[D, bool]]:
        """What of ``batch`` to write, in order, compared by id with the target's ``present`` items.

        Each with whether it replaces a differing one (a conflict to overwrite); equal
        items are counted as skipped, conflicts kept by ``on_conflict`` are left out.
        """
        writes: list[tuple[D, bool]] = []
        for item in batch:
            stored = present.get(item.id)
            if stored is None:
                writes.append((item, False))
            elif same(item, stored):
                self.report.add("skipped", unit)
            elif self._conflict(unit, f"{unit[:-1]} {item.id!r} of {where} differs in the target"):
                writes.append((item, True))
        return writes


class KindTransfer(ABC, Generic[S, P, R]):
    """How one kind of data is read, written and verified, in stores and in JSON Lines files."""

    name: TransferKind
    units: tuple[str, ...]  # what the report counts; the last is the bulk
    probe: str  # a method whose being a coroutine function tells an async store
    copy_unit: str  # the unit of the copy's progress
    verify_unit: str  # the unit of the verification's progress
    record_types: frozenset[str]  # of the JSON Lines records, ``end`` included

    def check_source(self, source: S) -> None:
        """Raise :class:`~..errors.UnsupportedTransferError` if ``source`` cannot be read in full."""

    @abstractmethod
    def read(self, source: S, run: Run) -> Reading[P, R]:
        """Open ``source`` for a copy; its parts tick ``run`` as their batches are consumed."""

    @abstractmethod
    def writer(self, target: S, run: Run) -> Callable[[P], None]:
        """What writes parts into ``target``: idempotently, resumably, by ``run.on_conflict``."""

    @abstractmethod
    def verify(
        self, reference: Iterable[R], other: S, checker: Ticker, batch_size: int, content: bool = True
    ) -> Verification:
        """Compare ``other`` with the reference, item by item: counts, and their content if ``content``."""

    @abstractmethod
    def export(self, part: P, lines: LineWriter, run: Run) -> None:
        """Write a part's records and count it in ``run.report``."""

    @abstractmethod
    def check_record(self, record_type: str, record: dict[str, Any], scan: Scan) -> None:
        """Validate one record of a file being scanned (see :func:`.jsonl.scan`)."""

    @abstractmethod
    def read_file(self, reader: FileReader, run: Run) -> Iterator[P]:
        """The parts of a scanned file."""

    @abstractmethod
    def file_reference(self, reader: FileReader, batch_size: int) -> Iterable[R]:
        """What a scanned file holds, as a reference for :meth:`verify`."""


H = TypeVar("H")  # the head of a group: a session, a collection
It = TypeVar("It")  # an item of a group: a message, a document


GroupReference = tuple[str, int, "str | None"]
"""What a verification expects of a group: its name, its number of items, and a digest of their content (or None)."""


class GroupedTransfer(KindTransfer[S, tuple[H, Iterator[list[It]]], GroupReference]):
    """A kind whose data comes in named groups of items: sessions of messages, collections of documents.

    Its parts are (head, batches of items); a file holds them as :class:`.jsonl.Groups`;
    a verification compares the number of items per group and, for a kind that gives
    :meth:`item_digest`, their content in order.
    """

    groups: Groups

    @abstractmethod
    def group_name(self, head: H) -> str: ...
    @abstractmethod
    def head_record(self, head: H) -> dict[str, Any]: ...
    @abstractmethod
    def parse_head(self, record: dict[str, Any]) -> H: ...
    @abstractmethod
    def item_payload(self, item: It) -> dict[str, Any]: ...
    @abstractmethod
    def parse_item(self, payload: Any) -> It: ...

    @abstractmethod
    def has_group(self, store: S, name: str) -> bool: ...
    @abstractmethod
    def item_count(self, store: S, name: str, batch_size: int) -> int: ...

    def item_digest(self, item: It) -> str | None:
        """A fingerprint of an item's content, for the verification; None: counts only."""
        return None

    def group_summary(self, store: S, name: str, batch_size: int) -> tuple[int, str | None]:
        """The number of items of a group in ``store`` and the digest of their content (see :meth:`digest`)."""
        return self.item_count(store, name, batch_size), None

    def digest(self, batches: Iterable[list[It]]) -> tuple[int, str | None]:
        """The number of items and one digest of all their :meth:`item_digest`, in order."""
        count, combined, exact = 0, hashlib.sha256(), True
        for batch in batches:
            for item in batch:
                count += 1
                fingerprint = self.item_digest(item)
                if fingerprint is None:
                    exact = False
                else:
                    combined.update(fingerprint.encode())
        return count, combined.hexdigest() if exact else None

    def verify(
        self, reference: Iterable[GroupReference], other: S, checker: Ticker, batch_size: int, content: bool = True
    ) -> Verification:
        heads, items = self.units
        verification = Verification(checked={heads: 0, items: 0})
        checker.tick(verification.checked)
        for name, expected, digest in reference:
            verification.checked[heads] += 1
            verification.checked[items] += expected
            if not self.has_group(other, name):
                verification.mismatch(f"{self.groups.head} {name!r} is missing")
                continue
            found, found_digest = self.group_summary(other, name, batch_size)
            if found != expected:
                verification.mismatch(f"{self.groups.head} {name!r}: {expected} {items} expected, {found} found")
            elif digest is not None and found_digest is not None and digest != found_digest and content:
                verification.mismatch(f"{self.groups.head} {name!r}: {items} differ in content from the source's")
            checker.tick(verification.checked)
        return verification

    def check_item(self, payload: Any, scan: Scan) -> None:
        """Validate an item's payload in the group ``scan.group``."""
        self.parse_item(payload)

    def export(self, part: tuple[H, Iterator[list[It]]], lines: LineWriter, run: Run) -> None:
        head, parts = part
        groups = self.groups
        lines.write(self.head_record(head))
        count = 0
        for batch in parts:
            for item in batch:
                lines.write({"type": groups.item, groups.item: self.item_payload(item)})
            count += len(batch)
            run.report.add("copied", self.units[1], len(batch))
        lines.write({"type": groups.end, groups.key: self.group_name(head), groups.count: count})
        run.report.add("copied", self.units[0])

    def check_record(self, record_type: str, record: dict[str, Any], scan: Scan) -> None:
        self.groups.check(
            record_type, record, scan, lambda head: self.group_name(self.parse_head(head)), self.check_item
        )

    def read_file(self, reader: FileReader, run: Run) -> Iterator[tuple[H, Iterator[list[It]]]]:
        for head, parts in reader.groups(self.groups, run.batch_size):
            yield self.parse_head(head), run.ticking(self._parsed(parts))

    def file_reference(self, reader: FileReader, batch_size: int) -> Iterable[GroupReference]:
        if type(self).item_digest is GroupedTransfer.item_digest:
            return ((name, count, None) for name, count in reader.group_counts(self.groups))
        return (
            (self.group_name(self.parse_head(head)), *self.digest(self._parsed(parts)))
            for head, parts in reader.groups(self.groups, batch_size)
        )

    def _parsed(self, parts: Iterable[list[Any]]) -> Iterator[list[It]]:
        return ([self.parse_item(payload) for payload in batch] for batch in parts)
