"""Run the benchmarks and print one table: ``python -m bench`` (from the repository root).

    python -m bench                      # every suite, default sizes (see docs/benchmarks.md)
    python -m bench sqlite redis         # some suites
    python -m bench --quick              # tiny sizes: checks the harness, not the targets
    python -m bench --json out.json      # also write every sample

Server suites use PostgreSQL, MariaDB and Redis on loopback (override with
``--postgres-url`` / ``--mysql-url`` / ``--redis-url`` or the ``PRAISONAI_TEST_*_URL``
variables) and report "skipped" when a server does not answer.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from ._harness import Options, Row, Skip, dump_results, machine, render_table

# suite -> "module:function"; modules are imported only when their suite runs.
SUITES: dict[str, str] = {
    "import": "bench.startup:run_import",
    "create": "bench.startup:run_create",
    "sqlite": "bench.sqlite:run",
    "postgres": "bench.servers:run_postgres",
    "async_postgres": "bench.servers:run_async_postgres",
    "mysql": "bench.servers:run_mysql",
    "redis": "bench.redis_state:run",
    "knowledge": "bench.knowledge:run",
    "memory": "bench.memory:run",
    "observe": "bench.observe:run",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("suites", nargs="*", metavar="SUITE", help=f"suites to run (default: all): {', '.join(SUITES)}")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 2 rounds: a smoke run of the harness")
    parser.add_argument("--rounds", type=int, help="timed rounds per side (default 9, quick 2)")
    parser.add_argument("--small", type=int, help="messages of the small session (default 1,000)")
    parser.add_argument("--large", type=int, help="messages of the large session (default 1,000,000)")
    parser.add_argument("--messages", type=int, help="add_message calls per round (default 1,000)")
    parser.add_argument("--vectors", type=int, help="vectors per knowledge collection (default 20,000)")
    parser.add_argument("--cache-dir", type=Path, help="where built databases are kept (default /tmp/praisonai-bench)")
    parser.add_argument(
        "--praisonai-venv",
        type=Path,
        help="a venv holding PraisonAI 4.7.19: the import suite compares its import with ours (skipped without)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows and every sample to this file")
    for name, variable, default in (
        ("postgres", "PRAISONAI_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"),
        ("mysql", "PRAISONAI_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
        ("redis", "PRAISONAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    ):
        url = os.environ.get(variable, default)
        parser.add_argument(f"--{name}-url", default=url, help=f"default: ${variable} or {default}")
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list:
        print("\n".join(SUITES))
        return 0
    unknown = [name for name in args.suites if name not in SUITES]
    if unknown:
        print(f"unknown suite(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    overrides = {
        name: value
        for name, value in {
            "rounds": args.rounds,
            "small": args.small,
            "large": args.large,
            "messages": args.messages,
            "vectors": args.vectors,
            "cache_dir": args.cache_dir,
            "praisonai_venv": args.praisonai_venv,
        }.items()
        if value is not None
    }
    overrides.update(postgres_url=args.postgres_url, mysql_url=args.mysql_url, redis_url=args.redis_url)
    options = Options.quick_sizes(**overrides) if args.quick else Options(**overrides)
    info = machine()
    print(f"praisonai-persistence benchmarks: {' | '.join(f'{key} {value}' for key, value in info.items())}")
    print(
        f"sizes: {'quick' if options.quick else 'default'}, {options.rounds} rounds per side, sessions of "
        f"{options.small:,} and {options.large:,} messages, {options.vectors:,} x {options.dimension} vectors"
    )
    rows: list[Row] = []
    failed = False
    started = time.perf_counter()
    for name in args.suites or list(SUITES):
        module_name, _, function_name = SUITES[name].partition(":")
        suite_started = time.perf_counter()
        try:
            run: Callable[[Options], list[Row]] = getattr(importlib.import_module(module_name), function_name)
            rows.extend(run(options))
        except Skip as skip:
            rows.append(Row(name, "(suite)", "-", verdict=f"skipped: {skip}"))
        except Exception as error:  # report the others; a broken suite must not hide the rest
            failed = True
            traceback.print_exc()
            rows.append(Row(name, "(suite)", "-", verdict=f"error: {type(error).__name__}: {error}"))
        print(f"  {name}: {time.perf_counter() - suite_started:.1f} s", file=sys.stderr, flush=True)
    print(render_table(rows))
    print(
        f"total {time.perf_counter() - started:.0f} s; load average now {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    if args.json is not None:
        dump_results(args.json, rows, info)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
