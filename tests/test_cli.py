"""The command line, driven as a user would: in a subprocess.

Exit statuses (see praisonai.persistence.cli): 0 ok, 1 failure, 2 usage, 3 invalid config,
4 missing driver, 5 unreachable, 6 verification failed, 7 conflict, 8 unsupported, 130 interrupted.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.errors import ConfigError
from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES
from tests.test_plugins import write_distribution

CLI = [sys.executable, "-m", "praisonai.persistence"]


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, check=False, env=env, timeout=timeout, stdin=subprocess.DEVNULL
    )


def with_path(site: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env


def report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.stdout.lstrip().startswith("{"), result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def seed_conversations(path: Path, sessions: int, messages: int, *, group: int = 3, size: int = 40) -> None:
    with CONVERSATION_STORES.create("sqlite", path=str(path), durable=False) as store:
        for number in range(sessions):
            session_id = f"s{number:04d}"
            store.create_session(
                ConversationSession(
                    session_id=session_id,
                    user_id=f"u{number % 5}",
                    metadata={"n": number},
                    created_at=100.0 + number,
                    updated_at=200.25 + number,
                )
            )
            for start in range(0, messages, 1000):
                store.add_messages(
                    session_id,
                    [
                        ConversationMessage(
                            id=f"m{index}",
                            role="user" if index % 2 else "assistant",
                            content=f"{index:08d} " + "x" * size,
                            metadata={"i": index} if index % 3 == 0 else None,
                            created_at=1_000.0 + index // group,
                        )
                        for index in range(start, min(start + 1000, messages))
                    ],
                )
            store.restore_session(
                ConversationSession(
                    session_id=session_id,
                    user_id=f"u{number % 5}",
                    metadata={"n": number},
                    created_at=100.0 + number,
                    updated_at=200.25 + number,
                )
            )


def sqlite_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    """Every session and message of a sqlite conversation file, in a stable order, straight from SQL."""
    connection = sqlite3.connect(path)
    try:
        yield from connection.execute(
            "SELECT session_id, user_id, agent_id, name, state, metadata, created_at, updated_at "
            "FROM praison_sessions ORDER BY session_id"
        )
        yield from connection.execute(
            "SELECT session_id, id, role, content, tool_calls, tool_call_id, metadata, created_at "
            "FROM praison_messages ORDER BY session_id, created_at, seq"
        )
    finally:
        connection.close()


def message_count(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("SELECT COUNT(*) FROM praison_messages").fetchone()[0])
    finally:
        connection.close()


# -- help and import cost ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--help"], ["migrate", "--help"], ["check", "--help"]])
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "praisonai.persistence", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: praisonai-persistence" in result.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    heavy = [
        name
        for name in imported
        if name.split(".")[0] in {"pydantic", "pydantic_core", "sqlite3", "psycopg", "aiosqlite", "asyncio"}
        or name in {"praisonai.persistence.registry", "praisonai.persistence.migrate", "praisonai.persistence.transfer"}
        or name == "importlib.metadata"
    ]
    assert heavy == []
    assert "exit status" in result.stdout or args != ["--help"]


# -- demo -------------------------------------------------------------------------------------------------------------


def test_demo_round_trips_and_keeps_state_between_runs(tmp_path: Path) -> None:
    first = run("demo", "--path", str(tmp_path))
    assert first.returncode == 0, first.stderr
    # Each question with its answer, in order, and what to try next.
    lines = [line.strip() for line in first.stdout.splitlines()]
    start = lines.index("user: What is 2 + 2?")
    assert lines[start : start + 4] == ["user: What is 2 + 2?", "assistant: 4.", "user: And 3 + 3?", "assistant: 6."]
    assert f"the files are kept in {tmp_path}" in first.stdout and "try next:" in first.stdout
    assert "cats: Cats purr." in first.stdout and "tax" not in first.stdout
    assert "demo:runs = 1" in first.stdout
    second = run("demo", "--path", str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert "demo:runs = 2" in second.stdout  # the state snapshot survived the first process
    assert (tmp_path / "conversations.db").exists()


def test_the_console_script_runs_the_readme_main_job(tmp_path: Path) -> None:
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert re.search(r'^praisonai-persistence = "praisonai\.persistence\.cli:main"$', pyproject, re.MULTILINE)
    installed = Path(sys.executable).parent / "praisonai-persistence"
    # An install made before the script was declared has no script yet; run what it would run.
    command = [str(installed)] if installed.exists() else [*CLI[:1], "-c", CONSOLE_SCRIPT]
    result = subprocess.run([*command, "demo", "--path", str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "demo:runs = 1" in result.stdout


CONSOLE_SCRIPT = (
    "import sys; from praisonai.persistence.cli import main; sys.argv[0] = 'praisonai-persistence'; sys.exit(main())"
)


def test_demo_in_a_temporary_directory() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    assert "demo:runs = 1" in result.stdout
    directory = result.stdout.splitlines()[0].removeprefix("embedded defaults under ")
    assert not Path(directory).exists()  # cleaned up
    assert "now removed (keep them with --path DIR)" in result.stdout


# -- a newcomer's first commands ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["export", "conversation", "--from", "sqlite:missing.db", "--output", "out.jsonl"],
        ["migrate", "conversation", "--from", "sqlite:missing.db", "--to", "sqlite:target.db"],
        ["migrate", "state", "--from", "memory:///{tmp}/missing.json", "--to", "memory:///{tmp}/target.json"],
        ["export", "knowledge", "--from", "memory", "--from-option", "path=missing.json", "--output", "out.jsonl"],
    ],
)
def test_a_source_that_does_not_exist_is_an_error_and_creates_nothing(tmp_path: Path, args: list[str]) -> None:
    result = subprocess.run(
        [*CLI, *(arg.replace("{tmp}", str(tmp_path).lstrip("/")) for arg in args)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_memory_url_with_three_slashes_is_an_absolute_path(tmp_path: Path) -> None:
    store = STATE_STORES.create("memory", url=f"memory://{tmp_path}/state.json")  # memory:///tmp/...
    store.set("k", 1)
    store.close()
    assert (tmp_path / "state.json").exists()
    assert STATE_STORES.validate("memory", url="memory:////srv/s.json").snapshot_path == "/srv/s.json"  # type: ignore[union-attr]
    # The knowledge store's memory URL reads the same way.
    with KNOWLEDGE_STORES.create("memory", url=f"memory://{tmp_path}/knowledge.json") as knowledge:
        knowledge.create_collection("c", dimension=2)
    assert (tmp_path / "knowledge.json").exists()
    # memory://state.json (a host, not a path) is refused, not read as "no file".
    for registry in (STATE_STORES, KNOWLEDGE_STORES):
        with pytest.raises(ConfigError, match="memory:///absolute/path"):
            registry.validate("memory", url="memory://state.json")


def test_check_takes_backend_options_as_flags_and_leaves_nothing_without_a_location(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "PRAISONAI_DATA_DIR": str(data)}
    given = run("check", "conversation", "sqlite", "--path", str(tmp_path / "x.db"), env=env)
    assert given.returncode == 0, given.stderr
    assert "get_messages: 1 message " in given.stdout and "check passed: 5 calls" in given.stdout
    assert (tmp_path / "x.db").exists() and not data.exists()  # a location given: the store is kept
    for kind, backend in [("conversation", "sqlite"), ("state", "memory"), ("knowledge", "memory")]:
        result = run("check", kind, backend, env=env)
        assert result.returncode == 0, result.stderr
        assert not data.exists(), f"check {kind} {backend} left {list(data.rglob('*'))}"
    prefixed = run("check", "state", "memory", "--snapshot-path", str(tmp_path / "s.json"), "--compact-every=3")
    assert prefixed.returncode == 0, prefixed.stderr
    assert "compact_every=3" in prefixed.stdout
    unknown = run("migrate", "state", "--from", "memory", "--to", "memory:///x.json", "--path", "x")
    assert unknown.returncode == 2 and "unrecognized arguments: --path x" in unknown.stderr


def test_every_option_has_help_text() -> None:
    import argparse

    from praisonai.persistence.cli import _parser

    parser = _parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    missing = [
        f"{name} {action.dest}"
        for name, subparser in [("", parser), *commands.choices.items()]
        for action in subparser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


# -- usage errors -------------------------------------------------------------------------------------------------------


def test_unknown_command_fails() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "conversation", "sqlit"], "Did you mean 'sqlite'?"),
        (["check", "conversation", "sqlite", "--option", "novalue"], "key=value"),
        (["check", "conversation", "sqlite", "--option", "x:=[1,"], "JSON value"),
        (["check", "conversation", "sqlite:a.db", "--url", "b.db"], "not both"),
        (["migrate", "state", "--from", "memory", "--to", "memory"], "the same store"),
        (["migrate", "state", "--from", "memory"], "--to"),
        (["migrate", "state", "--from", "memory", "--to", "memory:", "--batch-size", "0"], "at least 1"),
        (["import", "state", "--input", "/nonexistent.jsonl", "--to", "memory"], "is not a file"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_other_failures_exit_1_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    args = ["export", "state", "--from", "memory", "--output", str(tmp_path / "a-file" / "below.jsonl")]
    result = run(*args)
    assert result.returncode == 1
    assert result.stderr.startswith("praisonai-persistence: error: ") and "--debug" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run("--debug", *args)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


# -- backends ---------------------------------------------------------------------------------------------------------

PLUGINS = textwrap.dedent(
    '''
    """Plugins for the command-line tests."""
    import json
    import os
    import time

    from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession, ConversationStore
    from praisonai.persistence.errors import AlreadyExistsError, NotFoundError
    from praisonai.persistence.knowledge.base import KnowledgeStore
    from praisonai.persistence.state.memory import MemoryStateStore


    class FileConversations(ConversationStore):
        """A third-party store with the contract alone (no transfer extras), kept in one JSON file."""

        def __init__(self, path, lossy=False):
            self.path, self.lossy = path, lossy
            data = {"sessions": {}, "messages": {}}
            if os.path.exists(path):
                with open(path) as file:
                    data = json.load(file)
            self.sessions = {k: ConversationSession.from_dict(v) for k, v in data["sessions"].items()}
            self.messages = {k: [ConversationMessage.from_dict(m) for m in v] for k, v in data["messages"].items()}

        def create_session(self, session):
            if session.session_id in self.sessions:
                raise AlreadyExistsError("exists", backend="filestore")
            self.sessions[session.session_id] = ConversationSession.from_dict(session.to_dict())
            self.messages[session.session_id] = []
            return session

        def get_session(self, session_id):
            found = self.sessions.get(session_id)
            return None if found is None else ConversationSession.from_dict(found.to_dict())

        def update_session(self, session):
            if session.session_id not in self.sessions:
                raise NotFoundError("missing", backend="filestore")
            session.updated_at = time.time()
            self.sessions[session.session_id] = ConversationSession.from_dict(session.to_dict())
            return session

        def delete_session(self, session_id):
            self.messages.pop(session_id, None)
            return self.sessions.pop(session_id, None) is not None

        def list_sessions(self, user_id=None, agent_id=None, limit=100, offset=0):
            ordered = sorted(self.sessions.values(), key=lambda s: (-s.updated_at, s.session_id))
            return [ConversationSession.from_dict(s.to_dict()) for s in ordered[offset : offset + limit]]

        def add_message(self, session_id, message):
            if session_id not in self.sessions:
                raise NotFoundError("missing", backend="filestore")
            if any(m.id == message.id for m in self.messages[session_id]):
                raise AlreadyExistsError("exists", backend="filestore")
            message.session_id = session_id
            self.messages[session_id].append(ConversationMessage.from_dict(message.to_dict()))
            self.sessions[session_id].updated_at = time.time()
            return message

        def add_messages(self, session_id, messages):
            messages = list(messages)
            if self.lossy:  # a broken backend that silently drops every tenth message
                messages = [m for i, m in enumerate(messages) if i % 10 != 9]
            return [self.add_message(session_id, m) for m in messages]

        def get_messages(self, session_id, limit=None, before=None, after=None):
            found = [
                m
                for m in sorted(self.messages.get(session_id, []), key=lambda m: m.created_at)
                if (before is None or m.created_at < before) and (after is None or m.created_at > after)
            ]
            if limit is not None:
                found = found[-limit:] if limit else []
            return [ConversationMessage.from_dict(m.to_dict()) for m in found]

        def delete_messages(self, session_id, message_ids=None):
            kept = [m for m in self.messages[session_id] if message_ids is not None and m.id not in message_ids]
            count = len(self.messages[session_id]) - len(kept)
            self.messages[session_id] = kept
            return count

        def close(self):
            data = {
                "sessions": {k: v.to_dict() for k, v in self.sessions.items()},
                "messages": {k: [m.to_dict() for m in v] for k, v in self.messages.items()},
            }
            with open(self.path, "w") as file:
                json.dump(data, file)


    def conversations(url=None, **options):
        return FileConversations(url, lossy=options.get("lossy") == "true")


    class Unlistable(KnowledgeStore):
        """A knowledge store with the contract alone: it cannot list its documents."""

        def create_collection(self, name, dimension, distance="cosine", metadata=None): ...
        def delete_collection(self, name): return False
        def collection_exists(self, name): return name == "docs"
        def list_collections(self): return ["docs"]
        def insert(self, collection, documents): return []
        def upsert(self, collection, documents): return []
        def search(self, collection, query_embedding, limit=5, filters=None, score_threshold=None): return []
        def get(self, collection, ids): return []
        def delete(self, collection, ids=None, filters=None): return 0
        def count(self, collection): return 1
        def close(self): ...


    def knowledge(url=None, **options):
        return Unlistable()


    class Forgetful(MemoryStateStore):
        """Answers every read with the wrong value."""

        def get(self, key):
            return "something else"


    def state(url=None, **options):
        return Forgetful()
    '''
)


@pytest.fixture
def plugins(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    write_distribution(
        site,
        "cli_plugins",
        """
        [praisonai.conversation_stores]
        filestore = cli_plugins:conversations
        [praisonai.knowledge_stores]
        unlistable = cli_plugins:knowledge
        [praisonai.state_stores]
        forgetful = cli_plugins:state
        broken = cli_broken_plugin:create
        """,
        PLUGINS,
    )
    (site / "cli_broken_plugin.py").write_text("raise RuntimeError('plugin exploded on import')\n")
    return with_path(site)


def test_backends_lists_builtins_plugins_and_broken_plugins(plugins: dict[str, str]) -> None:
    result = run("backends", env=plugins)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "ALIASES", "SOURCE", "EXTRA", "DRIVER", "TIER"]
    sqlite_row = next(line for line in lines if line.split()[:2] == ["conversation", "sqlite"])
    assert sqlite_row.split()[2:] == ["-", "builtin", "(core)", "installed", "embedded"]
    async_row = next(line for line in lines if line.split()[:2] == ["conversation", "async_sqlite"])
    assert "aiosqlite, sqlite_async" in async_row and async_row.split()[-3] == "(core)"
    plugin_row = next(line for line in lines if " filestore " in line)
    assert "plugin:cli_plugins" in plugin_row
    broken = lines.index(next(line for line in lines if " broken " in line))
    assert "BROKEN" in lines[broken]
    assert "RuntimeError: plugin exploded on import" in lines[broken + 1]
    assert "Warning" not in result.stderr  # the error is listed once, in the table


def test_backends_json_lists_builtins_and_filters_by_kind(plugins: dict[str, str]) -> None:
    result = run("backends", "--json", "--kind", "state", env=plugins)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert {row["kind"] for row in rows.values()} == {"state"}
    assert (rows["memory"]["source"], rows["memory"]["tier"], rows["memory"]["driver_installed"]) == (
        "builtin",
        "embedded",
        True,
    )
    assert (rows["forgetful"]["source"], rows["forgetful"]["distribution"]) == ("entry_point", "cli_plugins")
    assert "plugin exploded on import" in rows["broken"]["error"]
    assert rows["redis"]["extra"] == "redis"


def test_backends_lists_the_embedders() -> None:
    result = run("backends", "--json", "--kind", "embedder")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) >= {"callable", "openai", "sentence_transformers"}
    assert (rows["openai"]["kind"], rows["openai"]["extra"], rows["openai"]["tier"]) == ("embedder", "openai", "wire")


# -- check ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "backend", "calls"),
    [
        ("conversation", "sqlite", 5),
        ("conversation", "async_sqlite", 5),
        ("conversation", "json", 5),
        ("knowledge", "memory", 4),
        ("state", "memory", 5),
    ],
)
def test_check_round_trips(tmp_path: Path, kind: str, backend: str, calls: int) -> None:
    url = [] if backend == "memory" else ["--url", str(tmp_path / "store")]
    result = run("check", kind, backend, *url)
    assert result.returncode == 0, result.stderr
    assert "config ok:" in result.stdout
    assert re.search(r"opened.*\d+\.\d ms", result.stdout)
    assert f"check passed: {calls} calls in" in result.stdout
    assert len(re.findall(r"\d+\.\d ms$", result.stdout, re.MULTILINE)) == calls + 2  # opened, calls, total
    if backend == "sqlite":  # harmless: nothing is left behind
        with CONVERSATION_STORES.create("sqlite", path=str(tmp_path / "store")) as store:
            assert store.list_sessions() == []


def test_check_postgres(postgres_url: str) -> None:
    schema = f"cli_check_{uuid.uuid4().hex[:8]}"
    try:
        result = run("check", "conversation", "postgres", "--url", postgres_url, "--option", f"schema={schema}")
        assert result.returncode == 0, result.stderr
        assert f"schema_name='{schema}'" in result.stdout and "check passed" in result.stdout
    finally:
        drop_schema(postgres_url, schema)


def test_check_bad_config_lists_every_field_with_secrets_masked() -> None:
    result = run(
        "check",
        "conversation",
        "postgres",
        "--url",
        "postgresql://app:hunter2@db.example:5432/chat",
        "--option",
        "pool_size=0",
        "--option",
        "sslmode=sometimes",
        "--option",
        "pol_size=3",
    )
    assert result.returncode == 3, result.stderr
    assert "(3 errors)" in result.stderr
    for field in ("pool_size:", "sslmode:", "pol_size: unknown option (did you mean 'pool_size'?)"):
        assert field in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def test_check_secret_option_is_masked_in_the_config_shown(tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    result = run("check", "conversation", "postgres", "--url", "postgresql://app:hunter2@127.0.0.1:1/chat")
    assert result.returncode == 5
    assert "hunter2" not in result.stdout + result.stderr
    assert "password=SecretStr('**********')" in result.stdout


BLOCKER = textwrap.dedent(
    """
    import sys

    class _Uninstalled:
        # Acts as if these distributions were not installed.
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in {"psycopg", "psycopg_pool", "psycopg_binary"}:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _Uninstalled())
    """
)


def test_check_missing_driver_exits_4(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    env = with_path(tmp_path)
    result = run("check", "conversation", "postgres", "--url", "postgresql://root@127.0.0.1:1/test", env=env)
    assert result.returncode == 4, result.stdout + result.stderr
    assert 'pip install "praisonai-persistence[postgres]"' in result.stderr
    listing = run("backends", "--kind", "conversation", env=env)
    row = next(line for line in listing.stdout.splitlines() if line.split()[1:2] == ["postgres"])
    assert row.split()[-2:] == ["missing", "server"]


def test_check_unreachable_server_exits_5() -> None:
    pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    result = run(
        "check",
        "conversation",
        "postgres",
        "--url",
        "postgresql://root@127.0.0.1:1/test",
        "--option",
        "connect_timeout=2",
    )
    assert result.returncode == 5, result.stdout + result.stderr
    assert "127.0.0.1:1" in result.stderr and "error:" in result.stderr


def test_check_round_trip_mismatch_exits_6_and_a_broken_plugin_exits_4(plugins: dict[str, str]) -> None:
    result = run("check", "state", "forgetful", env=plugins)
    assert result.returncode == 6, result.stdout + result.stderr
    assert "get returned a different value" in result.stderr
    assert "plugin from distribution 'cli_plugins'" in result.stdout
    assert "no config model to validate: its factory gets no arguments" in result.stdout
    assert "deleted: True" in result.stdout  # cleaned up although the round trip failed
    broken = run("check", "state", "broken", env=plugins)
    assert broken.returncode == 4
    assert "plugin exploded on import" in broken.stderr


# -- migrate ----------------------------------------------------------------------------------------------------------


def test_migrate_between_backends_and_back_exactly(tmp_path: Path) -> None:
    seed_conversations(tmp_path / "a.db", sessions=12, messages=57, group=5)
    steps = [
        ("sqlite:" + str(tmp_path / "a.db"), "json:" + str(tmp_path / "json-dir")),
        ("json:" + str(tmp_path / "json-dir"), "async_sqlite:" + str(tmp_path / "b.db")),
        ("aiosqlite:" + str(tmp_path / "b.db"), f"sqlite:///{tmp_path / 'c.db'}"),
    ]
    for source, target in steps:
        result = run("migrate", "conversation", "--from", source, "--to", target, "--batch-size", "10", "--json")
        assert result.returncode == 0, result.stderr
        data = report(result)
        assert data["copied"] == {"sessions": 12, "messages": 12 * 57}
        assert data["verification"]["ok"] and data["verification"]["checked"]["messages"] == 684
    # Through json, updated_at becomes the copy time (noted in its report); all else is exact.
    original, final = list(sqlite_rows(tmp_path / "a.db")), list(sqlite_rows(tmp_path / "c.db"))
    assert [row[:7] for row in original[:12]] == [row[:7] for row in final[:12]]
    assert original[12:] == final[12:]
    again = report(run("migrate", "conversation", "--from", steps[0][0], "--to", steps[0][1], "--json"))
    assert again["copied"] == {} and again["skipped"] == {"sessions": 12, "messages": 684}


def test_migrate_sqlite_to_sqlite_keeps_every_timestamp(tmp_path: Path) -> None:
    seed_conversations(tmp_path / "a.db", sessions=5, messages=20)
    result = run(
        "migrate", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}", "--to", f"sqlite:{tmp_path / 'b.db'}"
    )
    assert result.returncode == 0, result.stderr
    assert "copied     5 sessions, 100 messages" in result.stdout
    assert "verified   5 sessions, 100 messages: every count matches" in result.stdout
    assert list(sqlite_rows(tmp_path / "a.db")) == list(sqlite_rows(tmp_path / "b.db"))


def test_migrate_state_and_knowledge(tmp_path: Path) -> None:
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "a.json")) as store:
        store.set("counter", 41)
        store.set("cache:x", {"v": [1, 2]}, ttl=500)
        store.hset("user:ada", "lang", "en")
    result = run(
        "migrate",
        "state",
        "--from",
        f"memory:///{tmp_path / 'a.json'}",
        "--to",
        f"memory:///{tmp_path / 'b.json'}",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert report(result)["copied"] == {"keys": 3}
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "b.json")) as store:
        assert store.get("counter") == 41 and store.hgetall("user:ada") == {"lang": "en"}
        assert 495 <= (store.ttl("cache:x") or 0) <= 500

    with KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "k.json")) as store:
        from praisonai.persistence.knowledge.base import KnowledgeDocument

        store.create_collection("docs", 2, "dot")
        store.insert("docs", [KnowledgeDocument(id=str(i), content=str(i), embedding=[i, 1.0]) for i in range(9)])
    result = run(
        "migrate",
        "knowledge",
        "--from",
        "memory",
        "--from-option",
        f"path={tmp_path / 'k.json'}",
        "--to",
        "memory",
        "--to-option",
        f"path={tmp_path / 'k2.json'}",
        "--to-option",
        "autosave:=true",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert report(result)["copied"] == {"collections": 1, "documents": 9}
    with KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "k2.json")) as store:
        assert [hit.id for hit in store.search("docs", [1.0, 0.0], limit=2)] == ["8", "7"]


def test_migrate_conflict_exits_7_until_told_what_to_do(tmp_path: Path) -> None:
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "a.json")) as store:
        store.set("k", "source")
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "b.json")) as store:
        store.set("k", "target")
    args = [
        "migrate",
        "state",
        "--from",
        f"memory:///{tmp_path / 'a.json'}",
        "--to",
        f"memory:///{tmp_path / 'b.json'}",
    ]
    failed = run(*args)
    assert failed.returncode == 7, failed.stderr
    assert "'k'" in failed.stderr and "--on-conflict" in failed.stderr
    kept = run(*args, "--on-conflict", "skip", "--json")
    assert kept.returncode == 0 and report(kept)["conflicts"] == {"keys": 1}
    replaced = run(*args, "--on-conflict", "overwrite", "--json")
    assert replaced.returncode == 0 and report(replaced)["copied"] == {"keys": 1}
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "b.json")) as store:
        assert store.get("k") == "source"


def test_migrate_to_and_from_a_plugin(tmp_path: Path, plugins: dict[str, str]) -> None:
    seed_conversations(tmp_path / "a.db", sessions=4, messages=25, group=7)
    there = run(
        "migrate", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}", "--to", f"filestore:{tmp_path / 'p.json'}",
        "--batch-size", "6", "--json", env=plugins,
    )  # fmt: skip
    assert there.returncode == 0, there.stderr
    assert report(there)["verification"]["ok"]
    back = run(
        "migrate", "conversation", "--from", f"filestore:{tmp_path / 'p.json'}", "--to", f"sqlite:{tmp_path / 'b.db'}",
        "--batch-size", "6", "--json", env=plugins,
    )  # fmt: skip
    assert back.returncode == 0, back.stderr
    assert report(back)["copied"] == {"sessions": 4, "messages": 100}
    original, final = list(sqlite_rows(tmp_path / "a.db")), list(sqlite_rows(tmp_path / "b.db"))
    assert [row[:7] for row in original[:4]] == [row[:7] for row in final[:4]]
    assert original[4:] == final[4:]


def test_migrate_verification_failure_exits_6(tmp_path: Path, plugins: dict[str, str]) -> None:
    seed_conversations(tmp_path / "a.db", sessions=2, messages=30)
    result = run(
        "migrate", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}", "--to", f"filestore:{tmp_path / 'p.json'}",
        "--to-option", "lossy=true", env=plugins,
    )  # fmt: skip
    assert result.returncode == 6, result.stdout + result.stderr
    assert "VERIFICATION FAILED: 2 mismatches" in result.stdout
    assert "session 's0000': 30 messages expected, 27 found" in result.stdout


def test_migrate_knowledge_from_a_store_that_cannot_list_exits_8(tmp_path: Path, plugins: dict[str, str]) -> None:
    result = run("migrate", "knowledge", "--from", "unlistable", "--to", "memory", env=plugins)
    assert result.returncode == 8, result.stdout + result.stderr
    assert "describe_collection and iter_documents" in result.stderr


def test_migrate_config_error_in_the_target_exits_3_and_names_it(tmp_path: Path) -> None:
    result = run(
        "migrate", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}", "--to", "sqlite",
        "--to-option", "busy_timeout=-1",
    )  # fmt: skip
    assert result.returncode == 3
    assert "busy_timeout" in result.stderr and "'sqlite'" in result.stderr


def test_migrate_to_an_unreachable_server_exits_5(tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    seed_conversations(tmp_path / "a.db", sessions=1, messages=1)
    result = run(
        "migrate", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}",
        "--to", "postgres:postgresql://root:s3cret@127.0.0.1:1/test", "--to-option", "connect_timeout=2",
    )  # fmt: skip
    assert result.returncode == 5, result.stdout + result.stderr
    assert "s3cret" not in result.stderr


# -- progress, interruption and resumption ----------------------------------------------------------------------------


def test_progress_lines_when_not_on_a_terminal(tmp_path: Path) -> None:
    seed_conversations(tmp_path / "a.db", sessions=3, messages=50)
    result = run(
        "migrate", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}", "--to", f"sqlite:{tmp_path / 'b.db'}",
        "--batch-size", "20", "--progress-interval", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "migrate copy: 0/3 sessions, 0 messages"
    copy_done = next(index for index, line in enumerate(lines) if line.endswith("done"))
    assert lines[copy_done].startswith("migrate copy: 3/3 sessions, 150 messages")
    assert all(line.startswith("migrate copy: ") for line in lines[:copy_done])
    assert len(lines[:copy_done]) >= 150 // 20  # a line per batch with --progress-interval 0
    assert lines[copy_done + 1] == "migrate verify: 0/3 sessions, 0 messages"
    assert lines[-1].startswith("migrate verify: 3/3 sessions, 150 messages") and lines[-1].endswith("done")
    assert "\r" not in result.stderr
    quiet = run(
        "migrate", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}", "--to", f"sqlite:{tmp_path / 'b.db'}",
        "--quiet",
    )  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    seed_conversations(tmp_path / "a.db", sessions=3, messages=50)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [
            *CLI,
            "migrate",
            "conversation",
            "--from",
            f"sqlite:{tmp_path / 'a.db'}",
            "--to",
            f"sqlite:{tmp_path / 'b.db'}",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    captured = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        captured += chunk
    os.close(controller)
    assert process.wait(timeout=60) == 0
    assert process.stdout is not None and b"every count matches" in process.stdout.read()
    text = captured.decode()
    assert "\r[" in text
    assert "[" + "#" * 20 + "] 100% migrate copy: 3/3 sessions, 150 messages" in text
    assert "migrate verify" in text


@pytest.mark.parametrize("target", ["sqlite", "json"])
def test_migrate_killed_half_way_resumes_without_copying_twice(tmp_path: Path, target: str) -> None:
    sessions, per_session = 40, 500
    total = sessions * per_session
    seed_conversations(tmp_path / "a.db", sessions=sessions, messages=per_session, group=4)
    destination = f"{target}:{tmp_path / 'target'}"
    args = ["migrate", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}", "--to", destination]
    process = subprocess.Popen(
        [*CLI, *args, "--batch-size", "100", "--progress-interval", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        match = re.match(r"migrate copy: \d+/\d+ sessions, (\d+) messages", line)
        if match and int(match.group(1)) >= 3_000:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL

    def read_target() -> list[Any]:
        if target == "sqlite":
            return list(sqlite_rows(tmp_path / "target"))
        with CONVERSATION_STORES.create("json", path=str(tmp_path / "target")) as store:
            out: list[Any] = []
            for session in sorted(store.list_sessions(limit=1000), key=lambda s: s.session_id):
                out.append(session.to_dict())
                out.extend(m.to_dict() for m in store.get_messages(session.session_id))
            return out

    if target == "sqlite":
        held = message_count(tmp_path / "target")
    else:
        held = sum(1 for row in read_target() if "role" in row)
    assert 3_000 <= held < total
    resumed = run(*args, "--json")
    assert resumed.returncode == 0, resumed.stderr
    data = report(resumed)
    assert data["copied"].get("messages", 0) == total - held  # nothing copied twice
    assert data["verification"]["ok"] and data["verification"]["checked"] == {"sessions": sessions, "messages": total}
    if target == "sqlite":
        assert list(sqlite_rows(tmp_path / "a.db")) == read_target()
    else:
        ids = [(row["session_id"], row["id"]) for row in read_target() if "role" in row]
        assert len(ids) == len(set(ids)) == total


def test_interrupt_exits_130_and_says_how_to_resume(tmp_path: Path) -> None:
    # Big enough that the copy is still early when the signal lands, even on a busy machine.
    seed_conversations(tmp_path / "a.db", sessions=30, messages=2000)
    process = subprocess.Popen(
        [*CLI, "migrate", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}", "--to", f"json:{tmp_path / 'j'}",
         "--batch-size", "50", "--progress-interval", "0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        # A shell without job control starts background jobs with SIGINT ignored; the child
        # would inherit that. A user's terminal delivers it, so restore the default here.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler),
    )  # fmt: skip
    assert process.stderr is not None
    for line in process.stderr:
        if re.match(r"migrate copy: ([0-9]|1[0-9])/30 sessions, [1-9]\d* messages", line):
            process.send_signal(signal.SIGINT)
            break
    rest = process.stderr.read()
    assert process.wait(timeout=60) == 130
    assert "interrupted; run the same command again to resume" in rest


# -- export and import ------------------------------------------------------------------------------------------------


def test_export_and_import_round_trip(tmp_path: Path) -> None:
    seed_conversations(tmp_path / "a.db", sessions=6, messages=33)
    backup = tmp_path / "backups" / "chat.jsonl.gz"
    exported = run("export", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}", "--output", str(backup))
    assert exported.returncode == 0, exported.stderr
    assert "exported conversation from sqlite" in exported.stdout and "every count matches" in exported.stdout
    assert backup.exists() and not list(backup.parent.glob(".*partial"))
    args = ["import", "conversation", "--input", str(backup), "--to", f"sqlite:{tmp_path / 'b.db'}", "--json"]
    first = run(*args)
    assert first.returncode == 0, first.stderr
    assert report(first)["copied"] == {"sessions": 6, "messages": 198}
    second = run(*args)
    assert report(second)["copied"] == {}
    assert list(sqlite_rows(tmp_path / "a.db")) == list(sqlite_rows(tmp_path / "b.db"))


def test_import_of_an_invalid_file_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    seed_conversations(tmp_path / "a.db", sessions=2, messages=5)
    backup = tmp_path / "chat.jsonl"
    assert run("export", "conversation", "--from", f"sqlite:{tmp_path / 'a.db'}", "-o", str(backup)).returncode == 0
    lines = backup.read_text().splitlines()
    backup.write_text("\n".join(lines[:-1]) + "\n")  # cut off the end record
    result = run("import", "conversation", "-i", str(backup), "--to", f"sqlite:{tmp_path / 'b.db'}")
    assert result.returncode == 2
    assert "truncated" in result.stderr
    assert message_count(tmp_path / "b.db") == 0
    wrong_kind = run("import", "state", "-i", str(backup), "--to", "memory")
    assert wrong_kind.returncode == 2 and "holds 'conversation' data, not 'state'" in wrong_kind.stderr


def test_export_state_and_knowledge(tmp_path: Path) -> None:
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "s.json")) as store:
        store.set("a", "1")
        store.hset("h", "f", 2)
    exported = run("export", "state", "--from", f"memory:///{tmp_path / 's.json'}", "-o", str(tmp_path / "s.jsonl"))
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert records[1:] == [
        {"type": "value", "key": "a", "value": "1", "expires_at": None},
        {"type": "hash", "key": "h", "fields": {"f": 2}, "expires_at": None},
        {"type": "end", "keys": 2},
    ]
    imported = run("import", "state", "-i", str(tmp_path / "s.jsonl"), "--to", f"memory:///{tmp_path / 't.json'}")
    assert imported.returncode == 0, imported.stderr
    empty = run("export", "knowledge", "--from", "memory", "-o", str(tmp_path / "k.jsonl"))
    assert empty.returncode == 0 and "copied     0 collections, 0 documents" in empty.stdout


# -- 100,000 messages, sqlite -> postgres -> sqlite, in flat memory ---------------------------------------------------

MEASURE = textwrap.dedent(
    """
    import atexit, runpy, sys

    peak_path = sys.argv[1]

    def _report():
        with open("/proc/self/status") as status:
            peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
        with open(peak_path, "w") as out:
            out.write(peak)

    atexit.register(_report)
    sys.argv = ["praisonai-persistence", *sys.argv[2:]]
    runpy.run_module("praisonai.persistence", run_name="__main__", alter_sys=True)
    """
)


def run_measured(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the command and return its peak resident memory (VmHWM of its own process) in KiB."""
    peak_file = tmp_path / f"peak-{uuid.uuid4().hex}"
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(peak_file), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
        stdin=subprocess.DEVNULL,
    )
    return result, int(peak_file.read_text())


def drop_schema(postgres_url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def round_trip_through_postgres(tmp_path: Path, postgres_url: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    """Migrate ``name``.db to a fresh schema and back to ``name``-back.db; (peak KiB, report) per run."""
    schema = f"cli_{name}_{uuid.uuid4().hex[:8]}"
    separator = "&" if "?" in postgres_url else "?"
    server = f"postgres:{postgres_url}{separator}schema={schema}"
    runs = []
    try:
        for source, target in [(f"sqlite:{tmp_path / name}.db", server), (server, f"sqlite:{tmp_path / name}-back.db")]:
            result, peak = run_measured(tmp_path, "migrate", "conversation", "--from", source, "--to", target, "--json")
            assert result.returncode == 0, result.stderr
            runs.append((peak, report(result)))
    finally:
        drop_schema(postgres_url, schema)
    return runs


@pytest.mark.slow
def test_100k_messages_sqlite_to_postgres_and_back_in_flat_memory(tmp_path: Path, postgres_url: str) -> None:
    pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    # 100,000 messages of ~500 bytes: one session of 50,000 and 500 of 100, timestamps shared in fours.
    seed_conversations(tmp_path / "big.db", sessions=1, messages=50_000, group=4, size=480)
    seed_more = tmp_path / "more.db"
    seed_conversations(seed_more, sessions=500, messages=100, group=4, size=480)
    connection = sqlite3.connect(tmp_path / "big.db")
    connection.execute("ATTACH DATABASE ? AS more", (str(seed_more),))
    connection.execute(
        "INSERT INTO praison_sessions SELECT 'x' || session_id, user_id, agent_id, name, state, metadata, "
        "created_at, updated_at FROM more.praison_sessions"
    )
    connection.execute(
        "INSERT INTO praison_messages (id, session_id, role, content, tool_calls, tool_call_id, metadata, created_at) "
        "SELECT id, 'x' || session_id, role, content, tool_calls, tool_call_id, metadata, created_at "
        "FROM more.praison_messages ORDER BY seq"
    )
    connection.commit()
    connection.close()
    assert message_count(tmp_path / "big.db") == 100_000
    seed_conversations(tmp_path / "small.db", sessions=10, messages=100, group=4, size=480)

    small = round_trip_through_postgres(tmp_path, postgres_url, "small")
    big = round_trip_through_postgres(tmp_path, postgres_url, "big")

    for _, data in big:
        assert data["copied"] == {"sessions": 501, "messages": 100_000}
        assert data["verification"]["ok"]
    assert list(sqlite_rows(tmp_path / "big.db")) == list(sqlite_rows(tmp_path / "big-back.db"))
    # Holding the messages would take well over 100 MiB; streaming them needs a few batches' worth.
    bound = 25 * 1024  # measured: about +4 MiB; a batch size of 100,000 adds over 100 MiB
    for (small_peak, _), (big_peak, _) in zip(small, big, strict=True):
        assert big_peak - small_peak < bound, f"peak memory grew by {(big_peak - small_peak) // 1024} MiB"


def test_measuring_peak_memory_sees_a_process_that_holds_its_data(tmp_path: Path) -> None:
    # The bound above means something only if the measurement sees memory that is held.
    code = MEASURE.replace(
        'runpy.run_module("praisonai.persistence", run_name="__main__", alter_sys=True)',
        "held = bytearray(64 * 1024 * 1024)\nheld[::4096] = b'x' * len(held[::4096])",
    )
    peak_file = tmp_path / "peak"
    subprocess.run([sys.executable, "-c", code, str(peak_file)], check=True, timeout=60)
    assert int(peak_file.read_text()) > 64 * 1024


def test_the_readme_quick_start_runs_twice_in_a_row(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    for run_number in (1, 2):
        result = subprocess.run(
            [sys.executable, "-c", quick_start], capture_output=True, text=True, cwd=tmp_path, check=False
        )
        assert result.returncode == 0, f"run {run_number}: {result.stderr}"
        assert result.stdout.count("content='Hello'") == run_number
    step = STATE_STORES.create("memory", snapshot_path=str(tmp_path / "state.json"))
    assert step.get("session:s1:step") == 2
    step.close()


def test_the_readme_registration_snippet_runs_twice_in_a_row(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("Register a backend at run time", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    # The `my_pkg` the snippet imports (its plugin), as a newcomer would write it.
    (tmp_path / "my_pkg.py").write_text(
        "from praisonai.persistence.conversation.sqlite import SqliteConversationStore\n"
        "from praisonai.persistence.conversation.config import SqliteConversationConfig\n\n"
        "class MyConversationStore(SqliteConversationStore):\n"
        "    def __init__(self, url=None, **kwargs):\n"
        "        super().__init__(SqliteConversationConfig(path='my.db'))\n",
        encoding="utf-8",
    )
    check = "\nstore.upsert_session(ConversationSession(session_id='s'))\nprint(type(store).__name__)\nstore.close()\n"
    code = "from praisonai.persistence.conversation.base import ConversationSession\n" + snippet + check
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    for run_number in (1, 2):
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, check=False
        )
        assert result.returncode == 0, f"run {run_number}: {result.stderr}"
        assert result.stdout.strip() == "MyConversationStore"


def test_counts_are_singular_for_one() -> None:
    from praisonai.persistence.cli.progress import counted

    assert [counted(number, "sessions") for number in (0, 1, 2)] == ["0 sessions", "1 session", "2 sessions"]
    assert counted(1, "messages") == "1 message" and counted(1, "keys") == "1 key"
