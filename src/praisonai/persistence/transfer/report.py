"""What a transfer tells its caller: progress while it runs, a report and a verification at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

__all__ = [
    "OnConflict",
    "Progress",
    "ProgressCallback",
    "Ticker",
    "TransferKind",
    "TransferReport",
    "Verification",
]

TransferKind: TypeAlias = Literal["conversation", "knowledge", "state"]
OnConflict: TypeAlias = Literal["fail", "skip", "overwrite"]
Phase: TypeAlias = Literal["copy", "verify"]

_MAX_LISTED = 20  # mismatches listed in a report


@dataclass(slots=True)
class Progress:
    """Where a transfer is; passed to the ``progress`` callback after every batch.

    ``counts[unit]`` of ``total`` are done (``total`` is None when unknown);
    the last key of ``counts`` is the bulk (messages, documents or keys).
    """

    phase: Phase
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

    def done(self, units: tuple[str, ...]) -> dict[str, int]:
        """How many of each unit are dealt with: copied, skipped, or conflicts kept."""
        kept = self.on_conflict != "overwrite"  # overwritten conflicts are counted as copied
        return {
            unit: self.copied.get(unit, 0) + self.skipped.get(unit, 0) + (self.conflicts.get(unit, 0) if kept else 0)
            for unit in units
        }

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


class Ticker:
    """Sends :class:`Progress` of one phase to the caller's callback, if there is one."""

    def __init__(self, callback: ProgressCallback | None, phase: Phase, unit: str, total: int | None) -> None:
        self.callback = callback
        self.phase: Phase = phase
        self.unit = unit
        self.total = total

    def tick(self, counts: dict[str, int], finished: bool = False) -> None:
        if self.callback is not None:
            self.callback(Progress(self.phase, self.unit, self.total, dict(counts), finished))
