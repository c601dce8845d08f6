"""What the transfer commands print: progress while they run (on stderr) and the report at the end."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from ._status import EXIT_OK, EXIT_VERIFICATION

if TYPE_CHECKING:
    from ..transfer import Progress, TransferReport

__all__ = ["ProgressPrinter", "print_report"]


class ProgressPrinter:
    """Draws a bar on a terminal; elsewhere prints a plain line at most every ``interval`` seconds."""

    def __init__(self, label: str, stream: IO[str], interval: float | None) -> None:
        self.label = label
        self.stream = stream
        self.tty = stream.isatty()
        self.interval = interval if interval is not None else (0.1 if self.tty else 5.0)
        self.phase = ""
        self.started = time.monotonic()
        self.last = -1e9

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if progress.phase != self.phase:
            self.phase, self.started, self.last = progress.phase, now, -1e9
        if not progress.finished and now - self.last < self.interval:
            return
        self.last = now
        done = progress.counts.get(progress.unit, 0)
        total = f"/{progress.total}" if progress.total is not None else ""
        parts = [f"{done}{total} {progress.unit}" if total else counted(done, progress.unit)]
        parts += [counted(value, unit) for unit, value in progress.counts.items() if unit != progress.unit]
        bulk_unit, bulk = list(progress.counts.items())[-1]
        elapsed = now - self.started
        if elapsed >= 0.5:
            parts.append(f"{bulk / elapsed:.0f} {bulk_unit}/s")
        text = f"{self.label} {progress.phase}: " + ", ".join(parts)
        if self.tty:
            width = shutil.get_terminal_size((80, 24)).columns
            fraction = min(done / progress.total, 1.0) if progress.total else (1.0 if progress.finished else 0.0)
            bar = "#" * round(fraction * 20) + "." * (20 - round(fraction * 20))
            line = f"[{bar}] {fraction:4.0%} {text}"[: max(width - 1, 10)]
            self.stream.write("\r" + line.ljust(max(width - 1, 10)) + ("\n" if progress.finished else ""))
        else:
            self.stream.write(text + ("  done" if progress.finished else "") + "\n")
        self.stream.flush()


def counted(number: int, unit: str) -> str:
    """``1 message``, ``2 messages``: ``unit`` is the plural (every unit here ends in "s")."""
    return f"{number} {unit[:-1] if number == 1 and unit.endswith('s') else unit}"


def _counts(counts: dict[str, int], units: Sequence[str]) -> str:
    return ", ".join(counted(counts.get(unit, 0), unit) for unit in units)


def print_report(report: TransferReport, title: str, as_json: bool) -> int:
    verification = report.verification
    failed = verification is not None and not verification.ok
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
        return EXIT_VERIFICATION if failed else EXIT_OK
    units = {"conversation": ("sessions", "messages"), "knowledge": ("collections", "documents"), "state": ("keys",)}[
        report.kind
    ]
    print(f"{title} in {report.seconds:.1f} s")
    print(f"  copied     {_counts(report.copied, units)}")
    print(f"  skipped    {_counts(report.skipped, units)} (already there, equal)")
    if report.conflicts:
        print(f"  conflicts  {_counts(report.conflicts, units)} (different in the target; see --on-conflict)")
    if report.expired:
        print(f"  expired    {counted(report.expired, 'keys')} (their TTL ran out during the copy)")
    for note in report.notes:
        print(f"  note       {note}")
    if verification is None:
        print("  verified   no (--no-verify)")
    elif verification.ok:
        print(f"  verified   {_counts(verification.checked, units)}: every count matches")
    else:
        checked = _counts(verification.checked, units)
        mismatches = "1 mismatch" if verification.mismatch_count == 1 else f"{verification.mismatch_count} mismatches"
        print(f"  VERIFICATION FAILED: {mismatches} in {checked}")
        for mismatch in verification.mismatches:
            print(f"    {mismatch}")
    return EXIT_VERIFICATION if failed else EXIT_OK
