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

This package imports only the standard library (and the error classes) until
a command needs more, so ``--help`` is fast. Here: argument parsing, ``main``
and the exit statuses (:mod:`._status`); each command in its own module
(:mod:`.demo`, :mod:`.backends`, :mod:`.check`, :mod:`.transfers` over
:mod:`praisonai.persistence.transfer`), with :mod:`._endpoints` (naming and
opening backends) and :mod:`.progress` (what the transfers print).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import UsageError
from ._status import (
    EXIT_CONFIG,
    EXIT_CONFLICT,
    EXIT_DRIVER,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_UNSUPPORTED,
    EXIT_USAGE,
    EXIT_VERIFICATION,
    exit_status,
)

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

KINDS = ("conversation", "knowledge", "state")
PROG = "praisonai-persistence"


def _fail(error: BaseException, debug: bool) -> int:
    from ..url import mask_secrets_in_text

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


def _add_endpoint(parser: argparse.ArgumentParser, flag: str, dest: str) -> None:
    """``--from`` / ``--to`` with its repeatable ``--from-option`` / ``--to-option``."""
    parser.add_argument(f"--{flag}", dest=dest, required=True, metavar="BACKEND[:URL]", help=_ENDPOINT_HELP)
    parser.add_argument(f"--{flag}-option", action="append", metavar="KEY=VALUE", help=_OPTION_HELP)


def _kind_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str, description: str
) -> argparse.ArgumentParser:
    """A command whose first argument is the KIND of data it works on."""
    command = commands.add_parser(name, help=help, description=description)
    command.add_argument("kind", choices=KINDS, metavar="KIND", help=_KIND_HELP)
    return command


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
    parser.add_argument("--no-verify", action="store_true", help="skip the final comparison of counts and content")
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
    demo.add_argument(
        "--path", type=Path, help="directory for the demo's files, kept afterwards (default: a temporary one, removed)"
    )

    listing = commands.add_parser("backends", help="list every registered backend, built-in and plugin")
    listing.add_argument("--kind", choices=(*KINDS, "embedder"), help="only the backends of this kind")
    listing.add_argument("--json", action="store_true", help="machine-readable output")

    check = _kind_command(
        commands,
        "check",
        help="validate a backend's config, connect and do a harmless round trip",
        description="Validate the config (every bad field, secrets masked), connect, write, read back and delete "
        "one item under a fresh name, and print each call with its duration. The backend's options may also be "
        "given as flags: --path chat.db, --key-prefix app: (dashes become underscores). A local store that did "
        "not exist before the check is removed again.",
    )
    check.add_argument("backend", metavar="BACKEND", help="backend name or alias (BACKEND:URL also works)")
    check.add_argument("--url", help="connection URL")
    check.add_argument("--option", action="append", metavar="KEY=VALUE", help=_OPTION_HELP)

    migrate = _kind_command(
        commands,
        "migrate",
        help="copy everything of one kind between two backends",
        description="Copy everything of one kind from one backend to another, in batches (memory stays flat), "
        "idempotently (run it again to resume; nothing is copied twice), then compare counts.",
    )
    _add_endpoint(migrate, "from", "source")
    _add_endpoint(migrate, "to", "target")
    _add_transfer_options(migrate, conflicts=True)

    export = _kind_command(
        commands,
        "export",
        help="write one kind to a JSON Lines file (a backup)",
        description="Write everything of one kind to a JSON Lines file (gzip when it ends in .gz); the file "
        "appears complete or not at all. Format: docs/cli.md.",
    )
    _add_endpoint(export, "from", "source")
    export.add_argument(
        "--output", "-o", type=Path, required=True, metavar="FILE", help="the file to write (gzip if it ends in .gz)"
    )
    _add_transfer_options(export, conflicts=False)

    restore = _kind_command(
        commands,
        "import",
        help="load a JSON Lines file written by export (a restore)",
        description="Validate the whole file, then load it; idempotent and resumable like migrate.",
    )
    restore.add_argument(
        "--input", "-i", type=Path, required=True, metavar="FILE", help="a file written by export (.gz too)"
    )
    _add_endpoint(restore, "to", "target")
    _add_transfer_options(restore, conflicts=True)
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from .demo import demo

        if args.path is not None:
            return demo(args.path)
        with tempfile.TemporaryDirectory(prefix="praisonai-demo-") as directory:
            return demo(Path(directory), kept=False)
    if args.command == "backends":
        from .backends import backends

        return backends(args.kind, args.json)
    if args.command == "check":
        from ._endpoints import parse_endpoint, parse_options
        from .check import check

        endpoint = parse_endpoint(args.backend, parse_options(args.option, "--option"), "BACKEND")
        if args.url is not None:
            if endpoint.url is not None:
                raise UsageError("give the URL either as BACKEND:URL or with --url, not both")
            endpoint = endpoint._replace(url=args.url)
        return check(args.kind, endpoint)
    from .transfers import run_export, run_import, run_migrate

    command = {"migrate": run_migrate, "export": run_export, "import": run_import}[args.command]
    return command(args)


def _flag_options(extra: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """``check``'s other flags as backend options: ``--path x.db``, ``--key-prefix=app:`` -> key_prefix."""
    options: list[str] = []
    index = 0
    while index < len(extra):
        token = extra[index]
        if not token.startswith("--") or len(token) < 3:
            parser.error(f"unrecognized argument {token!r} (backend options are --NAME VALUE or --option NAME=VALUE)")
        name, separator, value = token[2:].partition("=")
        if not separator:
            if index + 1 >= len(extra) or extra[index + 1].startswith("--"):
                parser.error(f"the backend option {token} needs a value: {token} VALUE")
            index += 1
            value = extra[index]
        options.append(f"{name.replace('-', '_')}={value}")
        index += 1
    return options


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command != "check":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.option = [*(args.option or []), *_flag_options(extra, parser)]
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
