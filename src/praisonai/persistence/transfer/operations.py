"""The three operations: :func:`migrate` (store to store), :func:`export_jsonl` and :func:`import_jsonl`.

Each is written once over :class:`._kind.KindTransfer`: the kind given by
name is looked up, its stores adopted as synchronous views, its parts read
from a source and written to a sink, then the target verified.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from ._kind import KindTransfer, Run, store_name
from ._sync_view import SyncStores
from .conversation import CONVERSATION, DEFAULT_BATCH_SIZE
from .jsonl import FileReader, LineWriter, scan
from .knowledge import KNOWLEDGE
from .report import OnConflict, ProgressCallback, Ticker, TransferKind, TransferReport, Verification
from .state import STATE

__all__ = ["export_jsonl", "import_jsonl", "migrate"]

P = TypeVar("P")

_KINDS: dict[str, KindTransfer[Any, Any, Any]] = {kind.name: kind for kind in (CONVERSATION, KNOWLEDGE, STATE)}


def _kind(kind: object, batch_size: object, on_conflict: object) -> KindTransfer[Any, Any, Any]:
    """The kind named ``kind``, once the arguments are checked."""
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ValueError(f"kind must be conversation, knowledge or state, not {kind!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
    if on_conflict not in ("fail", "skip", "overwrite"):
        raise ValueError(f"on_conflict must be fail, skip or overwrite, not {on_conflict!r}")
    return _KINDS[kind]


@contextmanager
def _operation(
    kind: TransferKind,
    operation: Literal["migrate", "export", "import"],
    batch_size: int,
    on_conflict: OnConflict,
    progress: ProgressCallback | None,
) -> Iterator[tuple[KindTransfer[Any, Any, Any], Run, SyncStores]]:
    """What every operation sets up: the kind, the run with its report, the stores (closed at the end), the time."""
    handler = _kind(kind, batch_size, on_conflict)
    started = time.monotonic()
    report = TransferReport(kind, operation, on_conflict)
    run = Run(handler.units, batch_size, on_conflict, progress, report)
    stores = SyncStores()
    try:
        yield handler, run, stores
    finally:
        stores.close()
    report.seconds = time.monotonic() - started


def _copy(run: Run, unit: str, total: int, parts: Iterable[P], write: Callable[[P], None]) -> None:
    """Write every part, ticking the copy's progress after each."""
    run.start(unit, total)
    for part in parts:
        write(part)
        run.tick()


def _verify(handler: KindTransfer[Any, Any, Any], total: int, reference: Any, other: Any, run: Run) -> Verification:
    checker = Ticker(run.progress, "verify", handler.verify_unit, total)
    # Under on_conflict="skip" the target keeps its own versions on purpose: then only counts must match.
    verification = handler.verify(reference, other, checker, run.batch_size, content=run.on_conflict != "skip")
    checker.tick(verification.checked, finished=True)
    return verification


def _verify_file(handler: KindTransfer[Any, Any, Any], path: Path, store: Any, run: Run) -> Verification:
    """Compare a (validated) export with a store: what the file holds must be in the store, as many."""
    totals = scan(path, handler)
    reader = FileReader(path)
    try:
        reference = handler.file_reference(reader, run.batch_size)
        return _verify(handler, totals[handler.verify_unit], reference, store, run)
    finally:
        reader.close()


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
    with _operation(kind, "migrate", batch_size, on_conflict, progress) as (handler, run, stores):
        src = stores.adopt(source, handler.probe)
        dst = stores.adopt(target, handler.probe)
        reading = handler.read(src, run)
        _copy(run, handler.copy_unit, reading.total, reading.parts, handler.writer(dst, run))
        run.tick(finished=True)
        if verify:
            run.report.verification = _verify(handler, *reading.reference(), dst, run)
    return run.report


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
    with _operation(kind, "export", batch_size, "fail", progress) as (handler, run, stores):
        target = _as_path(path)
        lines: LineWriter | None = None
        try:
            src = stores.adopt(source, handler.probe)
            handler.check_source(src)  # fail before creating a file
            lines = out = LineWriter(target)
            out.header(kind, source_name or store_name(src))
            reading = handler.read(src, run)
            _copy(run, handler.copy_unit, reading.total, reading.parts, lambda part: handler.export(part, out, run))
            out.write({"type": "end", **{unit: run.report.copied.get(unit, 0) for unit in handler.units}})
            run.tick(finished=True)
            out.commit()
            lines = None
        finally:
            if lines is not None:
                lines.abort()
        if verify:
            run.report.verification = _verify_file(handler, target, src, run)
    return run.report


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
    with _operation(kind, "import", batch_size, on_conflict, progress) as (handler, run, stores):
        source = _as_path(path)
        totals = scan(source, handler)
        dst = stores.adopt(target, handler.probe)
        reader = FileReader(source)
        try:
            parts = handler.read_file(reader, run)
            _copy(run, handler.copy_unit, totals[handler.copy_unit], parts, handler.writer(dst, run))
        finally:
            reader.close()
        run.tick(finished=True)
        if verify:
            run.report.verification = _verify_file(handler, source, dst, run)
    return run.report
