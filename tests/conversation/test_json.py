"""json: the contract suite on real directories, plus atomicity, locking, path safety and SIGKILLed writers."""

from __future__ import annotations

import fcntl
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from praisonai.persistence._values import load_json
from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession, ConversationStore
from praisonai.persistence.conversation.config import JsonConversationConfig
from praisonai.persistence.conversation.json import JsonConversationStore, session_file_stem
from praisonai.persistence.errors import AlreadyExistsError, ConfigError, InvalidInputError, StoreError
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.testing import ConversationStoreContract

from ._processes import kill_mid_stream, race_creates, run_writers


class TestJsonContract(ConversationStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ConversationStore]:
        store = CONVERSATION_STORES.create("json", path=str(tmp_path / "store"))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], ConversationStore]:
        return lambda: CONVERSATION_STORES.create("json", url=f"json:///{tmp_path / 'store'}")


class TestJsonNotDurableContract(ConversationStoreContract):
    """durable=False skips fsync only; every behaviour stays the same."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ConversationStore]:
        store = CONVERSATION_STORES.create("json", path=str(tmp_path / "store"), durable=False)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], ConversationStore]:
        return lambda: CONVERSATION_STORES.create("json", path=str(tmp_path / "store"), durable=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> Iterator[JsonConversationStore]:
    store = JsonConversationStore(JsonConversationConfig(path=str(root)))
    yield store
    store.close()


def _message(content: str, created_at: float = 1.0, message_id: str | None = None) -> ConversationMessage:
    message = ConversationMessage(role="user", content=content, created_at=created_at)
    if message_id is not None:
        message.id = message_id
    return message


def _all_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


# -- configuration -------------------------------------------------------------


def test_default_directory_is_under_the_data_dir(tmp_path: Path) -> None:
    store = CONVERSATION_STORES.create("json")
    store.create_session(ConversationSession(session_id="x"))
    store.close()
    assert (tmp_path / "praisonai-data" / "conversations" / "format.json").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [("json:///relative/dir", "relative/dir"), ("json:////abs/dir", "/abs/dir"), ("plain/dir", "plain/dir")],
)
def test_url_forms(url: str, expected: str) -> None:
    assert JsonConversationConfig.from_options(url).path == expected


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "json://host/dir"}, "url"),
        ({"url": "redis://x"}, "url"),
        ({"path": ""}, "path"),
        ({"path": "a\x00b"}, "path"),
        ({"lock_timeout": 0}, "lock_timeout"),
        ({"durable": "sometimes"}, "durable"),
    ],
)
def test_bad_config_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.create("json", **kwargs)
    assert [error.field for error in caught.value.errors] == [field]
    assert "'json'" in str(caught.value)


def test_a_foreign_format_is_refused(root: Path) -> None:
    root.mkdir()
    (root / "format.json").write_text('{"format": "praisonai-conversations-json", "version": 99}')
    with pytest.raises(StoreError, match="version 99"):
        JsonConversationStore(JsonConversationConfig(path=str(root)))
    (root / "format.json").write_text('{"something": "else"}')
    with pytest.raises(StoreError, match="not a conversation store"):
        JsonConversationStore(JsonConversationConfig(path=str(root)))


# -- file names and path safety ---------------------------------------------------

HOSTILE_IDS = [
    "../escape",
    "../../../../etc/passwd",
    "/absolute",
    "a/b\\c",
    ".",
    "..",
    "...",
    ".hidden",
    "CON",
    "nul",
    "x.json",
    "x.jsonl",
    "~" + "0" * 64,
    "%2E%2E",
    "Upper",
    "upper",
    "ünï©ødé 👋",
    "\n\t\r",
    "é" * 255,
    "z" * 255,
]


def test_hostile_ids_stay_inside_the_directory(store: JsonConversationStore, root: Path, tmp_path: Path) -> None:
    before = set(tmp_path.iterdir())
    for session_id in HOSTILE_IDS:
        store.create_session(ConversationSession(session_id=session_id, name=session_id))
        store.add_message(session_id, _message(f"in {session_id}"))
    assert set(tmp_path.iterdir()) == before  # nothing created beside the store
    sessions = root / "sessions"
    for path in _all_files(root):
        assert path.parent in (root, sessions), path
        assert len(path.name.encode()) <= 255
    for session_id in HOSTILE_IDS:
        loaded = store.get_session(session_id)
        assert loaded is not None and loaded.name == session_id
        assert [m.content for m in store.get_messages(session_id)] == [f"in {session_id}"]
    assert len(store.list_sessions(limit=1000)) == len(HOSTILE_IDS)
    assert store.delete_session("../escape") is True
    assert store.get_session("../escape") is None
    assert store.get_session("upper") is not None and store.get_session("Upper") is not None


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=255).filter(lambda text: "\x00" not in text), st.text(min_size=1, max_size=255))
def test_file_names_are_one_to_one_and_safe(first: str, second: str) -> None:
    stem = session_file_stem(first)
    assert re.fullmatch(r"[a-z0-9_%A-F-]{1,200}|~[0-9a-f]{64}", stem)
    if first != second:
        # Distinct even on a case-insensitive file system.
        assert stem.casefold() != session_file_stem(second).casefold()


def test_a_session_file_naming_another_id_is_reported(store: JsonConversationStore, root: Path) -> None:
    store.create_session(ConversationSession(session_id="a"))
    store.create_session(ConversationSession(session_id="b"))
    (root / "sessions" / "a.json").write_bytes((root / "sessions" / "b.json").read_bytes())
    with pytest.raises(StoreError, match="does not hold session 'a'"):
        store.get_session("a")


@pytest.mark.parametrize("content", [b"[1, 2]", b'{"session_id": "a"}', b'"a"'])
def test_a_session_file_that_is_no_session_is_a_store_error(
    store: JsonConversationStore, root: Path, content: bytes
) -> None:
    """Valid JSON that is not a session record: a StoreError naming the file from get_session and
    list_sessions alike, never a raw TypeError or KeyError."""
    store.create_session(ConversationSession(session_id="a"))
    (root / "sessions" / "a.json").write_bytes(content)
    with pytest.raises(StoreError, match=r"a\.json does not hold"):
        store.get_session("a")
    with pytest.raises(StoreError, match=r"a\.json does not hold a session"):
        store.list_sessions()


# -- bad and oversized input ------------------------------------------------------


@pytest.mark.parametrize(
    ("session_id", "message"),
    [
        ("x" * 256, "session_id is 256 characters long; the limit is 255"),
        ("", "session_id must not be empty"),
        ("a\x00b", "session_id must not contain a NUL character"),
    ],
)
def test_bad_and_oversized_ids_get_a_clear_error(
    store: JsonConversationStore, root: Path, session_id: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)) as caught:
        store.create_session(ConversationSession(session_id=session_id))
    assert "[json]" in str(caught.value)
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        store.get_messages(session_id)
    assert list((root / "sessions").iterdir()) == []


def test_oversized_message_id_and_bad_bounds(store: JsonConversationStore) -> None:
    store.create_session(ConversationSession(session_id="s"))
    with pytest.raises(InvalidInputError, match="message id is 300 characters long"):
        store.add_message("s", _message("x", message_id="m" * 300))
    with pytest.raises(InvalidInputError, match="before must be a finite number"):
        store.get_messages("s", before=float("nan"))
    with pytest.raises(InvalidInputError, match="created_at must be a finite number"):
        store.add_message("s", _message("x", created_at=float("inf")))
    assert store.get_messages("s") == []


# -- durability and atomicity -----------------------------------------------------


def test_appending_never_rewrites_the_history(store: JsonConversationStore, root: Path) -> None:
    store.create_session(ConversationSession(session_id="s"))
    store.add_message("s", _message("first"))
    log = root / "sessions" / "s.jsonl"
    inode, before = log.stat().st_ino, log.read_bytes()
    store.add_messages("s", [_message("second"), _message("third")])
    store.add_message("s", _message("fourth"))
    after = log.read_bytes()
    assert log.stat().st_ino == inode
    assert after.startswith(before) and len(after) > len(before)
    assert len(after.splitlines()) == 1 + 3  # header, one line per write (the batch is one line)


def test_a_torn_last_line_is_ignored_then_repaired(store: JsonConversationStore, root: Path) -> None:
    store.create_session(ConversationSession(session_id="s"))
    store.add_message("s", _message("kept", 1.0))
    log = root / "sessions" / "s.jsonl"
    with open(log, "ab") as file:
        file.write(b'{"id":"torn","session_id":"s","role":"user","content":"half a li')
    assert [m.content for m in store.get_messages("s")] == ["kept"]
    fresh = JsonConversationStore(JsonConversationConfig(path=str(root)))
    assert [m.content for m in fresh.get_messages("s")] == ["kept"]
    fresh.add_message("s", _message("after", 2.0, "torn"))  # the torn line's id was never stored
    fresh.close()
    lines = log.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert all(load_json(line) for line in lines[:-1])
    assert [m.content for m in store.get_messages("s")] == ["kept", "after"]


def test_a_corrupt_line_in_the_middle_is_an_error(store: JsonConversationStore, root: Path) -> None:
    store.create_session(ConversationSession(session_id="s"))
    store.add_message("s", _message("one"))
    log = root / "sessions" / "s.jsonl"
    with open(log, "ab") as file:
        file.write(b"not json\n")
    with pytest.raises(StoreError, match="corrupt"):
        store.get_messages("s")


def test_delete_messages_replaces_the_file_atomically(store: JsonConversationStore, root: Path) -> None:
    store.create_session(ConversationSession(session_id="s"))
    store.add_messages("s", [_message(f"m{i}", float(i), f"id{i}") for i in range(5)])
    log = root / "sessions" / "s.jsonl"
    inode = log.stat().st_ino
    assert store.delete_messages("s", ["id1", "id3"]) == 2
    assert log.stat().st_ino != inode
    assert [m.id for m in store.get_messages("s")] == ["id0", "id2", "id4"]
    store.add_message("s", _message("new", 9.0, "id1"))  # a deleted id may be used again
    assert [m.id for m in store.get_messages("s")] == ["id0", "id2", "id4", "id1"]
    assert not list((root / "sessions").glob(".tmp-*"))


def test_messages_left_by_an_interrupted_delete_are_not_inherited(store: JsonConversationStore, root: Path) -> None:
    store.create_session(ConversationSession(session_id="s"))
    store.add_message("s", _message("old"))
    # A delete_session that died between removing the session file and its messages.
    (root / "sessions" / "s.json").unlink()
    assert store.get_messages("s") == []
    store.create_session(ConversationSession(session_id="s"))
    assert store.get_messages("s") == []
    store.add_message("s", _message("new"))
    assert [m.content for m in store.get_messages("s")] == ["new"]


def test_leftover_temporary_files_are_cleaned_on_open(root: Path) -> None:
    store = JsonConversationStore(JsonConversationConfig(path=str(root)))
    store.close()
    leftover = root / "sessions" / ".tmp-deadbeef"
    leftover.write_bytes(b"half")
    JsonConversationStore(JsonConversationConfig(path=str(root))).close()
    assert not leftover.exists()


def test_sigkilled_writers_lose_no_acknowledged_write(root: Path) -> None:
    options = {"path": str(root)}
    added, deleted, in_flight = kill_mid_stream("json", options, "k", rounds=5, seed=7)
    assert len(added) >= 5
    store = JsonConversationStore(JsonConversationConfig(path=str(root)))
    try:
        stored = {m.id for m in store.get_messages("k")}
        assert added - deleted - in_flight <= stored  # every acknowledged message is there
        assert not (deleted & stored)  # and every acknowledged delete stuck
        session = store.get_session("k")
        assert session is not None
        # Each stored write is reflected in updated_at, though a write touches only the message file.
        starts = [m.metadata["started"] for m in store.get_messages("k") if m.metadata]
        assert starts and session.updated_at >= max(starts)
        assert store.list_sessions()[0].updated_at == session.updated_at
        store.add_message("k", _message("after the crashes", 1e12))
        assert store.get_messages("k", limit=1)[0].content == "after the crashes"
    finally:
        store.close()
    for path in _all_files(root):  # every file is readable
        if path.suffix == ".json":
            load_json(path.read_bytes())
        elif path.suffix == ".jsonl":
            data = path.read_bytes()
            assert data.endswith(b"\n")
            for line in data.splitlines():
                load_json(line)


# -- concurrency --------------------------------------------------------------------


def test_two_instances_on_one_directory_lose_nothing(root: Path) -> None:
    first = JsonConversationStore(JsonConversationConfig(path=str(root)))
    second = JsonConversationStore(JsonConversationConfig(path=str(root)))
    first.create_session(ConversationSession(session_id="s"))
    errors: list[BaseException] = []

    def write(store: JsonConversationStore, tag: str) -> None:
        try:
            for index in range(30):
                store.add_message("s", _message(f"{tag}-{index:02d}"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(store, f"t{n}")) for n, store in enumerate([first, second] * 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    messages = second.get_messages("s")
    assert len(messages) == 180 and len({m.id for m in messages}) == 180
    first.close()
    second.close()


def test_duplicate_ids_are_caught_across_instances_and_rewrites(root: Path) -> None:
    first = JsonConversationStore(JsonConversationConfig(path=str(root)))
    second = JsonConversationStore(JsonConversationConfig(path=str(root)))
    first.create_session(ConversationSession(session_id="s"))
    first.add_message("s", _message("a", message_id="m1"))
    second.add_message("s", _message("b", message_id="m2"))  # first's cached index must see this one
    with pytest.raises(AlreadyExistsError):
        first.add_message("s", _message("again", message_id="m2"))
    assert second.delete_messages("s", ["m1"]) == 1  # rewrites the file under first's cache
    first.add_message("s", _message("reused", message_id="m1"))
    with pytest.raises(AlreadyExistsError):
        second.add_messages("s", [_message("c", message_id="m3"), _message("clash", message_id="m1")])
    assert second.delete_session("s") is True
    second.create_session(ConversationSession(session_id="s"))
    first.add_message("s", _message("fresh", message_id="m2"))  # the old ids went with the session
    assert [m.content for m in second.get_messages("s")] == ["fresh"]
    first.close()
    second.close()


def test_writer_processes_lose_nothing(root: Path) -> None:
    options = {"path": str(root)}
    acked = run_writers("json", options, "shared", writers=4, count=40)
    store = JsonConversationStore(JsonConversationConfig(path=str(root)))
    try:
        messages = store.get_messages("shared")
        assert sorted(m.id for m in messages) == sorted(i for ids in acked for i in ids)
        assert len(messages) == 160
        for writer in range(4):  # equal timestamps: each writer's messages keep their order
            mine = [m.content for m in messages if m.content.startswith(f"p{writer}-")]
            assert mine == sorted(mine) and len(mine) == 40
    finally:
        store.close()


def test_create_session_race_across_processes_has_one_winner(root: Path) -> None:
    answers = race_creates("json", {"path": str(root)}, "contested", racers=4)
    assert sorted(answers) == ["created", "exists", "exists", "exists"]
    store = JsonConversationStore(JsonConversationConfig(path=str(root)))
    loaded = store.get_session("contested")
    assert loaded is not None and loaded.name == f"racer{answers.index('created')}"
    with pytest.raises(AlreadyExistsError):
        store.create_session(ConversationSession(session_id="contested", name="late"))
    store.close()


def test_a_held_lock_times_out_with_a_clear_error(root: Path) -> None:
    store = JsonConversationStore(JsonConversationConfig(path=str(root), lock_timeout=0.2))
    fd = os.open(root / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(StoreError, match="lock_timeout"):
            store.create_session(ConversationSession(session_id="s"))
        assert 0.15 < time.monotonic() - started < 5
    finally:
        os.close(fd)
    store.create_session(ConversationSession(session_id="s"))
    store.close()


def test_fresh_instance_reads_back_after_close(root: Path) -> None:
    first = CONVERSATION_STORES.create("json", path=str(root))
    first.create_session(ConversationSession(session_id="s", state={"n": 1}))
    first.add_messages("s", [_message("a", 1.0), _message("b", 1.0)])
    first.update_session(ConversationSession(session_id="s", state={"n": 2}))
    first.close()
    with pytest.raises(StoreError, match="closed"):
        first.get_session("s")
    second = CONVERSATION_STORES.create("json", path=str(root))
    loaded = second.get_session("s")
    assert loaded is not None and loaded.state == {"n": 2}
    assert [m.content for m in second.get_messages("s")] == ["a", "b"]
    second.close()
    second.close()  # idempotent
