"""Import cost of the registry, and the cost of create() before any connection.

- ``import praisonai.persistence.registry``: the sum of the top-level ``-X importtime``
  entries a fresh interpreter adds over a bare one (median of runs), plus the check that
  no driver and no pydantic got imported. The wall-clock difference of the two
  interpreters is reported beside it, for information.
- ``STATE_STORES.create("memory")``: one call, config validation included.
- Resolving ``"postgres"`` and validating its config from a URL: the steps ``create()``
  takes before it imports the adapter (``_find``, the config class, ``from_options``);
  nothing connects.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from ._harness import Options, Row, format_seconds, median, verdict

IMPORT = "import praisonai.persistence.registry"
LIMIT_IMPORT_MS = 15.0
LIMIT_CREATE_MEMORY_US = 10.0
LIMIT_POSTGRES_CONFIG_US = 30.0
POSTGRES_URL = "postgresql://bench:s3cret@db.example:5432/app?sslmode=require&schema=chat"


# Children may write bytecode, as an installed package has: with PYTHONDONTWRITEBYTECODE set (some
# containers set it) every import would compile our sources again, 9 ms of the figure on this machine.
_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _importtime(code: str) -> tuple[dict[str, int], str]:
    """Top-level modules -> cumulative microseconds, and the child's stdout."""
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True, env=_ENV
    )
    top: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith("  "):  # nested: counted in its parent's cumulative time
            continue
        top[name.strip()] = int(cumulative)
    return top, done.stdout


def _wall(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=_ENV)  # noqa: S603 - our own interpreter
    return time.perf_counter() - start


def run_import(options: Options) -> list[Row]:
    from praisonai.persistence._catalogue import BUILTINS

    drivers = sorted({driver.split(".")[0] for backend in BUILTINS for driver in backend.drivers})
    forbidden = {"pydantic", "pydantic_core", *drivers}
    probe = f"{IMPORT}; import sys; print(' '.join(sorted(sys.modules)))"
    overheads: list[float] = []
    walls: dict[str, list[float]] = {"ours": [], "bare": []}
    loaded: set[str] = set()
    _wall(IMPORT)  # writes the bytecode caches, as installing a package does
    for index in range(options.imports):
        baseline, _ = _importtime("pass")
        with_registry, stdout = _importtime(probe)
        loaded |= set(stdout.split())
        overheads.append(sum(us for name, us in with_registry.items() if name not in baseline) / 1000)
        for name in ("ours", "bare") if index % 2 == 0 else ("bare", "ours"):
            walls[name].append(_wall(IMPORT if name == "ours" else "pass"))
    heavy = sorted(loaded & forbidden)
    overhead_ms = median(overheads)
    wall_ms = (median(walls["ours"]) - median(walls["bare"])) * 1000
    return [
        Row(
            "import",
            f"{IMPORT} (-X importtime, median of {options.imports})",
            f"{overhead_ms:.1f} ms",
            target=f"<= {LIMIT_IMPORT_MS:g} ms, imports no driver, no pydantic",
            verdict=verdict(
                overhead_ms <= LIMIT_IMPORT_MS and not heavy, f"imported {', '.join(heavy)}" if heavy else ""
            ),
            values={"importtime_ms": overheads, "heavy_modules": heavy},
        ),
        Row(
            "import",
            "same, wall clock of the interpreter minus a bare one",
            f"{wall_ms:.1f} ms",
            values={"wall_s": walls},
        ),
        _reference_row(options),
    ]


REFERENCE_RATIO = 0.35  # issue 17: at most this fraction of PraisonAI 4.7.19's import


def _reference_row(options: Options) -> Row:
    """Whole-process time of ``import praisonai.persistence.registry``: ours against PraisonAI 4.7.19's,
    from the venv given with ``--praisonai-venv`` (nothing is installed), runs interleaved."""
    operation = f"{IMPORT}, whole process: ours against PraisonAI 4.7.19's"
    venv = options.praisonai_venv
    python = None if venv is None else venv / "bin" / "python"
    if python is None or not python.exists():
        return Row("import", operation, "-", verdict="skipped: no --praisonai-venv with bin/python given")
    # Their interpreter must not see our sources; ours keeps the PYTHONPATH it was given.
    theirs_env = {name: value for name, value in _ENV.items() if name != "PYTHONPATH"}
    version = subprocess.run(  # noqa: S603 - the venv's own interpreter, fixed arguments
        [str(python), "-c", "import importlib.metadata as m; print(m.version('praisonai'))"],
        capture_output=True,
        text=True,
        env=theirs_env,
        check=False,
    ).stdout.strip()
    if not version:
        return Row("import", operation, "-", verdict=f"skipped: no praisonai in {venv}")

    def wall(command: list[str], env: dict[str, str]) -> float:
        start = time.perf_counter()
        subprocess.run(command, check=True, env=env)  # noqa: S603 - fixed arguments
        return time.perf_counter() - start

    ours_command = [sys.executable, "-c", IMPORT]
    theirs_command = [str(python), "-c", IMPORT]
    wall(ours_command, _ENV)  # bytecode caches, as an installed package has them
    wall(theirs_command, theirs_env)
    samples: dict[str, list[float]] = {"ours": [], "theirs": []}
    for index in range(options.imports):
        for name in ("ours", "theirs") if index % 2 == 0 else ("theirs", "ours"):
            samples[name].append(wall(ours_command, _ENV) if name == "ours" else wall(theirs_command, theirs_env))
    ratio = median([ours / theirs for ours, theirs in zip(samples["ours"], samples["theirs"], strict=True)])
    return Row(
        "import",
        f"{operation} {version} (median of {options.imports}; ratio is ours / theirs)",
        f"{median(samples['ours']) * 1000:.1f} ms",
        f"{median(samples['theirs']) * 1000:.1f} ms",
        ratio,
        target=f"<= {REFERENCE_RATIO:g}x theirs",
        verdict=verdict(ratio <= REFERENCE_RATIO),
        values={"wall_s": samples, "praisonai_version": version},
    )


def _per_call(function: Any, calls: int, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds + 1):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        samples.append((time.perf_counter() - start) / calls)
    return samples[1:]  # the first round warms caches up


def run_create(options: Options) -> list[Row]:
    from praisonai.persistence._loading import load_object
    from praisonai.persistence.registry import CONVERSATION_STORES, STATE_STORES

    def create_memory() -> None:
        STATE_STORES.create("memory")

    def postgres_config() -> None:
        entry = CONVERSATION_STORES._find("postgres")
        assert entry.builtin is not None
        load_object(entry.builtin.config).from_options(POSTGRES_URL, {})

    memory = median(_per_call(create_memory, options.calls, options.rounds))
    postgres = median(_per_call(postgres_config, options.calls, options.rounds))
    return [
        Row(
            "create",
            'STATE_STORES.create("memory"), config validated',
            format_seconds(memory),
            target=f"<= {LIMIT_CREATE_MEMORY_US:g} µs",
            verdict=verdict(memory * 1e6 <= LIMIT_CREATE_MEMORY_US),
            values={"seconds_per_call": memory},
        ),
        Row(
            "create",
            'resolve "postgres" + validate its config from a URL (no connection)',
            format_seconds(postgres),
            target=f"<= {LIMIT_POSTGRES_CONFIG_US:g} µs",
            verdict=verdict(postgres * 1e6 <= LIMIT_POSTGRES_CONFIG_US),
            values={"seconds_per_call": postgres},
        ),
    ]
