"""The ``praisonai-persistence`` command (also ``python -m praisonai.persistence``).

Commands::

    demo                         round trips on the embedded defaults (sqlite, memory, memory)
    backends [--kind K] [--json] every registered backend, built-in and plugin
    check KIND BACKEND [--url URL] [--option key=value ...]
    migrate KIND --from BACKEND[:URL] --to BACKEND[:URL] [options]
    export KIND --from BACKEND[:URL] --output FILE[.gz]
    import KIND --input FILE[.gz] --to BACKEND[:URL]

Exit status: 0 success, 1 other failure, 2 usage (bad arguments, unknown
backend, input file that is not a complete export), 3 invalid configuration,
4 missing driver (or a plugin that fails to load), 5 backend unreachable,
6 verification failed (or a check's round trip read back something else),
7 conflict (the target holds different data; see --on-conflict),
8 the backend cannot do what the command needs, 130 interrupted.

This module imports only the standard library until a command needs more,
so ``--help`` is fast. The copy logic lives in :mod:`praisonai.persistence.migrate`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from .errors import (
    BackendNotFoundError,
    ConfigError,
    ConflictError,
    InvalidExportError,
    MissingDriverError,
    PluginLoadError,
    RoundTripError,
    UnsupportedTransferError,
    UsageError,
)

if TYPE_CHECKING:
    from ._check import CheckStep
    from .migrate import Progress, TransferReport
    from .registry import StoreRegistry

__all__ = [
    "EXIT_CONFIG",
    "EXIT_CONFLICT",
    "EXIT_DRIVER",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_UNSUPPORTED",
    "EXIT_USAGE",
    "EXIT_VERIFICATION",
    "main",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_DRIVER = 4
EXIT_UNREACHABLE = 5
EXIT_VERIFICATION = 6
EXIT_CONFLICT = 7
EXIT_UNSUPPORTED = 8
EXIT_INTERRUPTED = 130

KINDS = ("conversation", "knowledge", "state")
PROG = "praisonai-persistence"


class Endpoint(NamedTuple):
    """A backend name with its URL and options, as given on the command line."""

    backend: str
    url: str | None
    options: dict[str, Any]

    def describe(self) -> str:
        from .url import mask_secrets_in_text

        return self.backend + (f" at {mask_secrets_in_text(self.url)}" if self.url else "")


# -- the demo -------------------------------------------------------------------------------------------------------


def _demo(directory: Path) -> int:
    from .conversation.base import ConversationMessage, ConversationSession
    from .knowledge.base import KnowledgeDocument
    from .registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES

    directory.mkdir(parents=True, exist_ok=True)
    print(f"embedded defaults under {directory}")

    with CONVERSATION_STORES.create("sqlite", path=str(directory / "conversations.db")) as conversations:
        session = conversations.upsert_session(ConversationSession(session_id="demo", user_id="ada", name="Demo chat"))
        conversations.delete_messages(session.session_id)
        for role, content in [("user", "What is 2 + 2?"), ("assistant", "4."), ("user", "Thanks!")]:
            conversations.add_message(session.session_id, ConversationMessage(role=role, content=content))
        recent = conversations.get_messages(session.session_id, limit=2)
        print(f"conversation  sqlite: stored 3 messages in session {session.session_id!r}; the last two:")
        for message in recent:
            print(f"                {message.role:>9}: {message.content}")

    with KNOWLEDGE_STORES.create("memory", path=str(directory / "knowledge.json")) as knowledge:
        if knowledge.collection_exists("docs"):
            knowledge.delete_collection("docs")
        knowledge.create_collection("docs", dimension=3)
        documents = [
            ("cats", "Cats purr.", [1.0, 0.1, 0.0], "pets"),
            ("dogs", "Dogs bark.", [0.9, 0.3, 0.1], "pets"),
            ("tax", "Taxes are due.", [0.0, 0.2, 1.0], "money"),
        ]
        knowledge.insert(
            "docs",
            [
                KnowledgeDocument(id=doc_id, content=content, embedding=embedding, metadata={"topic": topic})
                for doc_id, content, embedding, topic in documents
            ],
        )
        hits = knowledge.search("docs", [1.0, 0.2, 0.0], limit=2, filters={"topic": "pets"})
        print("knowledge     memory: stored 3 documents; closest to [1.0, 0.2, 0.0] among pets:")
        for hit in hits:
            print(f"                {hit.id}: {hit.content} (score {hit.score:.3f})")

    with STATE_STORES.create("memory", snapshot_path=str(directory / "state.json")) as state:
        runs = (state.get("demo:runs") or 0) + 1
        state.set("demo:runs", runs)
        state.set("demo:last-answer", "4", ttl=3600)
        state.hset("demo:user:ada", "language", "en")
        print(f"state         memory: demo:runs = {state.get('demo:runs')}")
        answer, ttl = state.get("demo:last-answer"), state.ttl("demo:last-answer")
        print(f"                demo:last-answer = {answer!r} (ttl {ttl} s)")
        print(f"                demo:user:ada = {json.dumps(state.hgetall('demo:user:ada'))}")
    return EXIT_OK


# -- backends -------------------------------------------------------------------------------------------------------


def _backends(kind: str | None, as_json: bool) -> int:
    import warnings

    from .registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES

    rows = []
    with warnings.catch_warnings():
        # A broken plugin is listed below with its error; the discovery warning would say it twice.
        warnings.simplefilter("ignore")
        for registry in (CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES):
            if kind is None or registry.kind == kind:
                rows.extend(registry.describe_all())
    if as_json:
        print(json.dumps([info._asdict() for info in rows], indent=2))
        return EXIT_OK
    table = [("KIND", "NAME", "ALIASES", "SOURCE", "EXTRA", "DRIVER", "TIER")]
    errors: dict[int, str] = {}
    for info in rows:
        source = f"plugin:{info.distribution}" if info.source == "entry_point" else info.source
        driver = {True: "installed", False: "missing", None: "-"}[info.driver_installed]
        extra = info.extra or ("-" if info.source != "builtin" else "(core)")
        if info.error:
            errors[len(table)] = info.error
            driver = "BROKEN"
        table.append((info.kind, info.name, ", ".join(info.aliases) or "-", source, extra, driver, info.tier or "-"))
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    for index, row in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index in errors:
            print(f"    error: {errors[index]}")
    return EXIT_OK


# -- opening stores -------------------------------------------------------------------------------------------------


def _registry(kind: str) -> StoreRegistry[Any]:
    from .registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES

    registries: dict[str, StoreRegistry[Any]] = {
        "conversation": CONVERSATION_STORES,
        "knowledge": KNOWLEDGE_STORES,
        "state": STATE_STORES,
    }
    return registries[kind]


def _parse_options(pairs: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """``key=value`` gives the string value (configs convert it); ``key:=json`` a JSON value."""
    options: dict[str, Any] = {}
    for pair in pairs or ():
        key, separator, value = pair.partition("=")
        if not separator or not key or key == ":":
            raise UsageError(f"{flag} takes key=value (or key:=<JSON>), not {pair!r}")
        if key.endswith(":"):
            key = key[:-1]
            try:
                options[key] = json.loads(value)
            except ValueError as error:
                raise UsageError(f"{flag} {key}:= needs a JSON value ({error})") from None
        else:
            options[key] = value
    return options


def _parse_endpoint(text: str, options: dict[str, Any], flag: str) -> Endpoint:
    """``BACKEND``, ``BACKEND:URL``, or a URL whose scheme is the backend (``sqlite:///chat.db``)."""
    backend, separator, rest = text.partition(":")
    if not backend:
        raise UsageError(f"{flag} needs BACKEND or BACKEND:URL, not {text!r}")
    url: str | None = None
    if separator:
        url = text if rest.startswith("//") else rest
    return Endpoint(backend, url or None, options)


def _open(kind: str, endpoint: Endpoint) -> Any:
    kwargs = dict(endpoint.options)
    if endpoint.url is not None:
        kwargs["url"] = endpoint.url
    return _registry(kind).create(endpoint.backend, **kwargs)


def _close_quietly(store: Any) -> None:
    from .transfer._sync_view import SyncStores

    stores = SyncStores()
    stores.adopt(store, "close")
    stores.close()


# -- check ----------------------------------------------------------------------------------------------------------


def _check(kind: str, endpoint: Endpoint) -> int:
    from ._check import run_round_trip
    from .transfer._sync_view import SyncStores

    registry = _registry(kind)
    info = registry.describe(endpoint.backend)
    print(f"{kind} backend {info.name!r} ({_origin(info.source, info.distribution)})")
    config: Any = None
    if info.source == "builtin":
        from ._catalogue import BY_KIND_AND_NAME
        from ._loading import load_object

        config_class = load_object(BY_KIND_AND_NAME[(info.kind, info.name)].config)
        config = config_class.from_options(endpoint.url, endpoint.options)
        print(f"  config ok: {config!r}")  # a config's repr masks its secrets
    else:
        arguments = [*(["url"] if endpoint.url is not None else []), *endpoint.options]
        print(f"  no config model to validate: its factory gets {', '.join(arguments) or 'no arguments'}")
    started = time.perf_counter()
    store = registry.create(config) if config is not None else _open(kind, endpoint)
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
    print(f"check passed: {len(steps)} calls in {(time.perf_counter() - total) * 1000:.1f} ms")
    return EXIT_OK


def _origin(source: str, distribution: str | None) -> str:
    if source == "entry_point":
        return f"plugin from distribution {distribution!r}"
    return {"builtin": "built-in", "runtime": "registered at run time"}.get(source, source)


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


# -- progress -------------------------------------------------------------------------------------------------------


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
        parts = [f"{done}{total} {progress.unit}"]
        parts += [f"{value} {unit}" for unit, value in progress.counts.items() if unit != progress.unit]
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


def _counts(counts: dict[str, int], units: Sequence[str]) -> str:
    return ", ".join(f"{counts.get(unit, 0)} {unit}" for unit in units)


def _report(report: TransferReport, title: str, as_json: bool) -> int:
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
        print(f"  expired    {report.expired} keys (their TTL ran out during the copy)")
    for note in report.notes:
        print(f"  note       {note}")
    if verification is None:
        print("  verified   no (--no-verify)")
    elif verification.ok:
        print(f"  verified   {_counts(verification.checked, units)}: every count matches")
    else:
        checked = _counts(verification.checked, units)
        print(f"  VERIFICATION FAILED: {verification.mismatch_count} mismatch(es) in {checked}")
        for mismatch in verification.mismatches:
            print(f"    {mismatch}")
    return EXIT_VERIFICATION if failed else EXIT_OK


# -- migrate, export, import ----------------------------------------------------------------------------------------


def _transfer_options(args: argparse.Namespace) -> dict[str, Any]:
    progress = None if args.quiet else ProgressPrinter(args.command, sys.stderr, args.progress_interval)
    return {"batch_size": args.batch_size, "verify": not args.no_verify, "progress": progress}


def _migrate(args: argparse.Namespace) -> int:
    from .migrate import migrate

    source = _parse_endpoint(args.source, _parse_options(args.from_option, "--from-option"), "--from")
    target = _parse_endpoint(args.target, _parse_options(args.to_option, "--to-option"), "--to")
    registry = _registry(args.kind)
    if (registry.describe(source.backend).name, source.url, source.options) == (
        registry.describe(target.backend).name,
        target.url,
        target.options,
    ):
        raise UsageError("--from and --to name the same store")
    source_store = _open(args.kind, source)
    try:
        target_store = _open(args.kind, target)
    except BaseException:
        _close_quietly(source_store)
        raise
    report = migrate(args.kind, source_store, target_store, on_conflict=args.on_conflict, **_transfer_options(args))
    return _report(report, f"migrated {args.kind} from {source.describe()} to {target.describe()}", args.json)


def _export(args: argparse.Namespace) -> int:
    from .migrate import export_jsonl

    source = _parse_endpoint(args.source, _parse_options(args.from_option, "--from-option"), "--from")
    store = _open(args.kind, source)
    report = export_jsonl(args.kind, store, args.output, source_name=source.backend, **_transfer_options(args))
    return _report(report, f"exported {args.kind} from {source.describe()} to {args.output}", args.json)


def _import(args: argparse.Namespace) -> int:
    from .migrate import import_jsonl

    if not args.input.is_file():
        raise UsageError(f"--input {str(args.input)!r} is not a file")
    target = _parse_endpoint(args.target, _parse_options(args.to_option, "--to-option"), "--to")
    store = _open(args.kind, target)
    report = import_jsonl(args.kind, args.input, store, on_conflict=args.on_conflict, **_transfer_options(args))
    return _report(report, f"imported {args.kind} from {args.input} into {target.describe()}", args.json)


# -- errors ---------------------------------------------------------------------------------------------------------


def exit_status(error: BaseException) -> int:
    """The exit status that tells what kind of failure ``error`` is (see the module docstring)."""
    if isinstance(error, UsageError | BackendNotFoundError | InvalidExportError):
        return EXIT_USAGE
    if isinstance(error, ConfigError):
        return EXIT_CONFIG
    if isinstance(error, MissingDriverError | PluginLoadError):
        return EXIT_DRIVER
    if isinstance(error, ConnectionError | TimeoutError):  # BackendUnavailableError is a ConnectionError
        return EXIT_UNREACHABLE
    if isinstance(error, RoundTripError):
        return EXIT_VERIFICATION
    if isinstance(error, ConflictError):
        return EXIT_CONFLICT
    if isinstance(error, UnsupportedTransferError):
        return EXIT_UNSUPPORTED
    return EXIT_FAILURE


def _fail(error: BaseException, debug: bool) -> int:
    from .url import mask_secrets_in_text

    status = exit_status(error)
    if debug:
        import traceback

        traceback.print_exception(error)
    message = mask_secrets_in_text(str(error)) or type(error).__name__
    if status == EXIT_FAILURE and not debug:
        message = f"{type(error).__name__}: {message} (run with --debug for the traceback)"
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


# -- argument parsing -----------------------------------------------------------------------------------------------

_ENDPOINT_HELP = (
    "BACKEND or BACKEND:URL, e.g. sqlite:chat.db, postgres:postgresql://user@host/db, "
    "or a URL whose scheme is the backend (sqlite:///chat.db, redis://localhost:6379/0)"
)
_OPTION_HELP = "a backend option as key=value (or key:=<JSON>); repeatable"
_KIND_HELP = "conversation, knowledge or state"


def _add_transfer_options(parser: argparse.ArgumentParser, conflicts: bool) -> None:
    parser.add_argument(
        "--batch-size", type=_positive_int, default=1000, metavar="N", help="items per batch (default: 1000)"
    )
    if conflicts:
        parser.add_argument(
            "--on-conflict",
            choices=("fail", "skip", "overwrite"),
            default="fail",
            help="when the target holds a different item under the same id or key: stop with status 7 (fail, "
            "the default), keep the target's (skip), or replace it (overwrite). Equal items are always skipped.",
        )
    parser.add_argument("--no-verify", action="store_true", help="skip the final comparison of counts")
    parser.add_argument("--json", action="store_true", help="print the final report as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--progress-interval",
        type=float,
        metavar="SECONDS",
        help="seconds between progress updates (default: 0.1 on a terminal, 5 otherwise; 0: every batch)",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Conversations, knowledge and state in any storage backend: try, list, check, copy, back up.",
        epilog="exit status: 0 ok, 1 failure, 2 usage, 3 invalid config, 4 missing driver, 5 backend unreachable, "
        "6 verification failed, 7 conflict, 8 unsupported by the backend, 130 interrupted. See docs/cli.md.",
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="round trips on the embedded defaults (sqlite, memory, memory)")
    demo.add_argument("--path", type=Path, help="directory for the demo's files (default: a temporary one)")

    listing = commands.add_parser("backends", help="list every registered backend, built-in and plugin")
    listing.add_argument("--kind", choices=KINDS)
    listing.add_argument("--json", action="store_true", help="machine-readable output")

    check = commands.add_parser(
        "check",
        help="validate a backend's config, connect and do a harmless round trip",
        description="Validate the config (every bad field, secrets masked), connect, write, read back and delete "
        "one item under a fresh name, and print each call with its duration.",
    )
    check.add_argument("kind", choices=KINDS, metavar="KIND", help=_KIND_HELP)
    check.add_argument("backend", metavar="BACKEND", help="backend name or alias (BACKEND:URL also works)")
    check.add_argument("--url", help="connection URL")
    check.add_argument("--option", action="append", metavar="KEY=VALUE", help=_OPTION_HELP)

    migrate = commands.add_parser(
        "migrate",
        help="copy everything of one kind between two backends",
        description="Copy everything of one kind from one backend to another, in batches (memory stays flat), "
        "idempotently (run it again to resume; nothing is copied twice), then compare counts.",
    )
    migrate.add_argument("kind", choices=KINDS, metavar="KIND", help=_KIND_HELP)
    migrate.add_argument("--from", dest="source", required=True, metavar="BACKEND[:URL]", help=_ENDPOINT_HELP)
    migrate.add_argument("--to", dest="target", required=True, metavar="BACKEND[:URL]", help=_ENDPOINT_HELP)
    migrate.add_argument("--from-option", action="append", metavar="KEY=VALUE", help=_OPTION_HELP)
    migrate.add_argument("--to-option", action="append", metavar="KEY=VALUE", help=_OPTION_HELP)
    _add_transfer_options(migrate, conflicts=True)

    export = commands.add_parser(
        "export",
        help="write one kind to a JSON Lines file (a backup)",
        description="Write everything of one kind to a JSON Lines file (gzip when it ends in .gz); the file "
        "appears complete or not at all. Format: docs/cli.md.",
    )
    export.add_argument("kind", choices=KINDS, metavar="KIND", help=_KIND_HELP)
    export.add_argument("--from", dest="source", required=True, metavar="BACKEND[:URL]", help=_ENDPOINT_HELP)
    export.add_argument("--from-option", action="append", metavar="KEY=VALUE", help=_OPTION_HELP)
    export.add_argument("--output", "-o", type=Path, required=True, metavar="FILE")
    _add_transfer_options(export, conflicts=False)

    restore = commands.add_parser(
        "import",
        help="load a JSON Lines file written by export (a restore)",
        description="Validate the whole file, then load it; idempotent and resumable like migrate.",
    )
    restore.add_argument("kind", choices=KINDS, metavar="KIND", help=_KIND_HELP)
    restore.add_argument("--input", "-i", type=Path, required=True, metavar="FILE")
    restore.add_argument("--to", dest="target", required=True, metavar="BACKEND[:URL]", help=_ENDPOINT_HELP)
    restore.add_argument("--to-option", action="append", metavar="KEY=VALUE", help=_OPTION_HELP)
    _add_transfer_options(restore, conflicts=True)
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        if args.path is not None:
            return _demo(args.path)
        with tempfile.TemporaryDirectory(prefix="praisonai-demo-") as directory:
            return _demo(Path(directory))
    if args.command == "backends":
        return _backends(args.kind, args.json)
    if args.command == "check":
        endpoint = _parse_endpoint(args.backend, _parse_options(args.option, "--option"), "BACKEND")
        if args.url is not None:
            if endpoint.url is not None:
                raise UsageError("give the URL either as BACKEND:URL or with --url, not both")
            endpoint = endpoint._replace(url=args.url)
        return _check(args.kind, endpoint)
    if args.command == "migrate":
        return _migrate(args)
    if args.command == "export":
        return _export(args)
    return _import(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except Exception as error:
        return _fail(error, args.debug)


if __name__ == "__main__":
    sys.exit(main())
