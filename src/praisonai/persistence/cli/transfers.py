"""``praisonai-persistence migrate``, ``export`` and ``import``: the command line over :mod:`..transfer`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import UsageError
from ..transfer import export_jsonl, import_jsonl, migrate
from ._endpoints import PRAISONAI_SOURCE, close_quietly, open_store, parse_endpoint, parse_options, registry_of
from .progress import ProgressPrinter, print_report

__all__ = ["run_export", "run_import", "run_migrate"]


def _transfer_options(args: argparse.Namespace) -> dict[str, Any]:
    progress = None if args.quiet else ProgressPrinter(args.command, sys.stderr, args.progress_interval)
    return {"batch_size": args.batch_size, "verify": not args.no_verify, "progress": progress}


def run_migrate(args: argparse.Namespace) -> int:
    source = parse_endpoint(args.source, parse_options(args.from_option, "--from-option"), "--from")
    target = parse_endpoint(args.target, parse_options(args.to_option, "--to-option"), "--to")
    registry = registry_of(args.kind)
    if not source.backend.startswith(PRAISONAI_SOURCE) and (
        registry.describe(source.backend).name,
        source.url,
        source.options,
    ) == (
        registry.describe(target.backend).name,
        target.url,
        target.options,
    ):
        raise UsageError("--from and --to name the same store")
    registry.validate(target.backend, **target.arguments())  # a bad target config first, before the source opens
    source_store = open_store(args.kind, source, source=True)
    try:
        target_store = open_store(args.kind, target)
    except BaseException:
        close_quietly(source_store)
        raise
    report = migrate(args.kind, source_store, target_store, on_conflict=args.on_conflict, **_transfer_options(args))
    return print_report(report, f"migrated {args.kind} from {source.describe()} to {target.describe()}", args.json)


def run_export(args: argparse.Namespace) -> int:
    source = parse_endpoint(args.source, parse_options(args.from_option, "--from-option"), "--from")
    store = open_store(args.kind, source, source=True)
    report = export_jsonl(args.kind, store, args.output, source_name=source.backend, **_transfer_options(args))
    return print_report(report, f"exported {args.kind} from {source.describe()} to {args.output}", args.json)


def run_import(args: argparse.Namespace) -> int:
    if not args.input.is_file():
        raise UsageError(f"--input {str(args.input)!r} is not a file")
    target = parse_endpoint(args.target, parse_options(args.to_option, "--to-option"), "--to")
    store = open_store(args.kind, target)
    report = import_jsonl(args.kind, args.input, store, on_conflict=args.on_conflict, **_transfer_options(args))
    return print_report(report, f"imported {args.kind} from {args.input} into {target.describe()}", args.json)
