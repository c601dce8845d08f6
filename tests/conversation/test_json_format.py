"""json: the file format (version 2), a session's updated_at read from its message file, and version 1 directories.

A message write appends one line to the message file and touches no other file: the
session's ``updated_at`` is the later of its session file's and the ``written_at`` of the
message file's last line. These tests pin that down through the public API, across
reopening, and on a directory written by the first release (format version 1).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from praisonai.persistence._values import load_json
from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.conversation.config import JsonConversationConfig
from praisonai.persistence.conversation.json import JsonConversationStore
from praisonai.persistence.errors import AlreadyExistsError, StoreError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> Iterator[JsonConversationStore]:
    store = _open(root)
    yield store
    store.close()


def _open(root: Path) -> JsonConversationStore:
    return JsonConversationStore(JsonConversationConfig(path=str(root)))


def _message(content: str, message_id: str | None = None, created_at: float = 1.0) -> ConversationMessage:
    message = ConversationMessage(role="user", content=content, created_at=created_at)
    if message_id is not None:
        message.id = message_id
    return message


def _updated_at(root: Path, session_id: str) -> float:
    """What a fresh store instance reads as the session's updated_at."""
    fresh = _open(root)
    try:
        session = fresh.get_session(session_id)
        assert session is not None
        listed = {s.session_id: s.updated_at for s in fresh.list_sessions(limit=1000)}
        assert listed[session_id] == session.updated_at  # list_sessions reads it the same way
        return session.updated_at
    finally:
        fresh.close()


# -- updated_at without rewriting the session file ---------------------------------


def test_a_message_write_bumps_updated_at_and_leaves_the_session_file_alone(
    store: JsonConversationStore, root: Path
) -> None:
    store.create_session(ConversationSession(session_id="s", updated_at=1.0))
    session_file = root / "sessions" / "s.json"
    inode, contents = session_file.stat().st_ino, session_file.read_bytes()
    before = time.time()
    store.add_message("s", _message("one"))
    store.add_messages("s", [_message("two"), _message("three")])
    after = time.time()
    assert session_file.stat().st_ino == inode and session_file.read_bytes() == contents
    loaded = store.get_session("s")
    assert loaded is not None and before <= loaded.updated_at <= after
    assert _updated_at(root, "s") == loaded.updated_at
    # The time is the last line's own: each write line ends with it.
    last = (root / "sessions" / "s.jsonl").read_bytes().splitlines()[-1]
    assert load_json(last)["written_at"] == loaded.updated_at
    assert last.endswith(b',"written_at":' + repr(loaded.updated_at).encode() + b"}")


def test_each_write_moves_updated_at_forward(store: JsonConversationStore, root: Path) -> None:
    store.create_session(ConversationSession(session_id="s", updated_at=1.0))
    seen = []
    for index in range(3):
        store.add_message("s", _message(f"m{index}"))
        loaded = store.get_session("s")
        assert loaded is not None
        seen.append(loaded.updated_at)
        time.sleep(0.002)
    assert seen == sorted(seen) and len(set(seen)) == 3
    assert _updated_at(root, "s") == seen[-1]


def test_list_order_follows_message_writes_and_session_updates(store: JsonConversationStore, root: Path) -> None:
    for index, name in enumerate(["a", "b", "c"]):
        store.create_session(ConversationSession(session_id=name, user_id="u", updated_at=10.0 + index))
    store.create_session(ConversationSession(session_id="other", user_id="v", updated_at=5.0))

    def order(target: JsonConversationStore, **filters: str) -> list[str]:
        return [s.session_id for s in target.list_sessions(**filters)]  # type: ignore[arg-type]

    assert order(store) == ["c", "b", "a", "other"]
    store.add_message("a", _message("hello"))
    time.sleep(0.002)
    assert order(store) == ["a", "c", "b", "other"]
    store.add_message("b", _message("hello"))
    time.sleep(0.002)
    store.add_message("other", _message("hello"))
    assert order(store) == ["other", "b", "a", "c"]
    assert order(store, user_id="u") == ["b", "a", "c"]
    assert [s.session_id for s in store.list_sessions(user_id="u", limit=1, offset=1)] == ["a"]
    time.sleep(0.002)
    store.update_session(ConversationSession(session_id="c", user_id="u", name="renamed"))
    assert order(store) == ["c", "other", "b", "a"]
    fresh = _open(root)
    try:
        assert order(fresh) == ["c", "other", "b", "a"]
        assert order(fresh, user_id="u") == ["c", "b", "a"]
    finally:
        fresh.close()


def test_update_session_after_messages_wins(store: JsonConversationStore, root: Path) -> None:
    store.create_session(ConversationSession(session_id="s"))
    store.add_message("s", _message("one"))
    time.sleep(0.002)
    updated = store.update_session(ConversationSession(session_id="s", state={"n": 1}))
    loaded = store.get_session("s")
    assert loaded is not None and loaded.updated_at == updated.updated_at and loaded.state == {"n": 1}
    upserted = store.upsert_session(ConversationSession(session_id="s", state={"n": 2}))
    assert store.get_session("s") == upserted
    assert _updated_at(root, "s") == upserted.updated_at


def test_deleting_messages_leaves_updated_at_as_it_was(store: JsonConversationStore, root: Path) -> None:
    store.create_session(ConversationSession(session_id="s", updated_at=1.0))
    store.add_messages("s", [_message("a", "m1"), _message("b", "m2")])
    store.add_message("s", _message("c", "m3"))
    written = store.get_session("s")
    assert written is not None and written.updated_at > 1.0
    assert store.delete_messages("s", ["m3"]) == 1  # the last line, which carried the time
    assert _updated_at(root, "s") == written.updated_at
    assert store.delete_messages("s") == 2
    assert _updated_at(root, "s") == written.updated_at
    assert store.get_messages("s") == []
    store.add_message("s", _message("again", "m3"))
    assert [m.id for m in store.get_messages("s")] == ["m3"]
    assert _updated_at(root, "s") > written.updated_at


def test_a_torn_last_line_does_not_move_updated_at(store: JsonConversationStore, root: Path) -> None:
    store.create_session(ConversationSession(session_id="s"))
    store.add_message("s", _message("kept"))
    written = store.get_session("s")
    assert written is not None
    with open(root / "sessions" / "s.jsonl", "ab") as file:  # a writer killed mid-append
        file.write(b'{"messages":[{"id":"torn"}],"written_at":99999999999.0')
    assert _updated_at(root, "s") == written.updated_at
    with open(root / "sessions" / "s.jsonl", "ab") as file:  # a torn line longer than any window read
        file.write(b"x" * 200_000)
    assert _updated_at(root, "s") == written.updated_at
    store.add_message("s", _message("after", "torn"))
    assert [m.content for m in store.get_messages("s")] == ["kept", "after"]
    assert _updated_at(root, "s") > written.updated_at


def test_a_new_session_over_old_messages_does_not_inherit_their_time(root: Path) -> None:
    store = _open(root)
    store.create_session(ConversationSession(session_id="s"))
    store.add_message("s", _message("old"))
    (root / "sessions" / "s.json").unlink()  # a delete_session that died between its two unlinks
    store.create_session(ConversationSession(session_id="s", updated_at=3.0))
    assert _updated_at(root, "s") == 3.0
    (root / "sessions" / "s.json").unlink()
    store.upsert_session(ConversationSession(session_id="s", updated_at=4.0))
    assert _updated_at(root, "s") == 4.0
    store.close()


def test_a_group_commit_writes_only_message_files(store: JsonConversationStore, root: Path) -> None:
    for name in ("a", "b"):
        store.create_session(ConversationSession(session_id=name))
        store.add_message(name, _message("first"))
    sessions = root / "sessions"
    before = {path.name: (path.stat().st_ino, path.read_bytes()) for path in sessions.glob("*.json")}
    for index in range(5):
        store.add_messages("a" if index % 2 else "b", [_message(f"m{index}")])
    assert {path.name: (path.stat().st_ino, path.read_bytes()) for path in sessions.glob("*.json")} == before
    assert sorted(path.name for path in sessions.iterdir()) == ["a.json", "a.jsonl", "b.json", "b.jsonl"]


# -- format.json and version 1 -----------------------------------------------------------

# Files as the first release (format version 1) wrote them: a single message's object per line, a batch
# as a JSON list, and the session file's updated_at bumped by each message write.
_V1_SESSION = (
    '{"session_id":"s","user_id":"u","agent_id":null,"name":"old","state":{"k":[1,2]},"metadata":null,'
    '"created_at":100.0,"updated_at":300.5}'
)
_V1_QUIET = (
    '{"session_id":"q","user_id":"u","agent_id":null,"name":null,"state":null,"metadata":null,'
    '"created_at":50.0,"updated_at":200.25}'
)
_V1_MESSAGES = "\n".join(
    [
        '{"praisonai_messages":1,"file_id":"0123456789abcdef0123456789abcdef"}',
        '{"id":"m1","session_id":"s","role":"user","content":"hi \\u00e9","tool_calls":null,"tool_call_id":null,'
        '"metadata":{"written_at":5},"created_at":110.0}',
        '[{"id":"m2","session_id":"s","role":"assistant","content":"a","tool_calls":[{"id":"c"}],'
        '"tool_call_id":null,"metadata":null,"created_at":120.0},{"id":"m3","session_id":"s","role":"tool",'
        '"content":"b","tool_calls":null,"tool_call_id":"c","metadata":null,"created_at":115.0}]',
        "",
    ]
)


@pytest.fixture
def version_1(root: Path) -> Path:
    sessions = root / "sessions"
    sessions.mkdir(parents=True)
    (root / "format.json").write_text('{"format":"praisonai-conversations-json","version":1}')
    (sessions / "s.json").write_text(_V1_SESSION)
    (sessions / "s.jsonl").write_text(_V1_MESSAGES)
    (sessions / "q.json").write_text(_V1_QUIET)
    return root


def test_a_version_1_directory_reads_as_it_did(version_1: Path) -> None:
    store = _open(version_1)
    try:
        loaded = store.get_session("s")
        assert loaded == ConversationSession(
            session_id="s", user_id="u", name="old", state={"k": [1, 2]}, created_at=100.0, updated_at=300.5
        )
        messages = store.get_messages("s")
        assert [(m.id, m.role, m.created_at) for m in messages] == [
            ("m1", "user", 110.0),
            ("m3", "tool", 115.0),
            ("m2", "assistant", 120.0),
        ]
        assert messages[0].content == "hi é" and messages[0].metadata == {"written_at": 5}
        assert messages[1].tool_call_id == "c" and messages[2].tool_calls == [{"id": "c"}]
        assert [(s.session_id, s.updated_at) for s in store.list_sessions()] == [("s", 300.5), ("q", 200.25)]
    finally:
        store.close()
    # The first open upgraded format.json and nothing else.
    assert json.loads((version_1 / "format.json").read_text()) == {
        "format": "praisonai-conversations-json",
        "version": 2,
    }
    assert (version_1 / "sessions" / "s.jsonl").read_text() == _V1_MESSAGES
    assert (version_1 / "sessions" / "s.json").read_text() == _V1_SESSION


def test_a_version_1_directory_takes_new_writes(version_1: Path) -> None:
    store = _open(version_1)
    try:
        store.add_message("q", _message("new", "n1", 10.0))
        with pytest.raises(AlreadyExistsError):
            store.add_message("s", _message("clash", "m2"))  # the ids of the version 1 lines are known
        store.add_messages("s", [_message("x", "m4", 130.0)])
        assert [s.session_id for s in store.list_sessions()] == ["s", "q"]
        assert store.delete_messages("s", ["m1"]) == 1
    finally:
        store.close()
    store = _open(version_1)
    try:
        assert [m.id for m in store.get_messages("s")] == ["m3", "m2", "m4"]
        assert [m.id for m in store.get_messages("q")] == ["n1"]
        s, q = store.get_session("s"), store.get_session("q")
        assert s is not None and q is not None and s.updated_at > q.updated_at > 300.5
    finally:
        store.close()


def test_only_a_version_1_line_after_a_rewrite_keeps_the_session_files_time(version_1: Path) -> None:
    store = _open(version_1)
    try:
        assert store.delete_messages("s", ["m2"]) == 1  # the file is rewritten; no write time to carry
        loaded = store.get_session("s")
        assert loaded is not None and loaded.updated_at == 300.5
    finally:
        store.close()


@pytest.mark.parametrize("version", ["3", "0", "true", '"1"', "null"])
def test_other_format_versions_are_refused(root: Path, version: str) -> None:
    root.mkdir()
    (root / "format.json").write_text(f'{{"format":"praisonai-conversations-json","version":{version}}}')
    with pytest.raises(StoreError, match="this release reads versions 1, 2"):
        _open(root)
    assert (root / "format.json").read_text().endswith(f"{version}}}")  # left alone


def test_a_new_directory_is_version_2(root: Path) -> None:
    _open(root).close()
    assert json.loads((root / "format.json").read_text())["version"] == 2
