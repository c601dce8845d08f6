"""PraisonAI 4.7.19's JSON conversation directory opens in the json store with the same ``path``.

tests/fixtures/praisonai_4_7_19/json_conversations was written by PraisonAI itself; each test
works on a copy. Every session and message is compared with PraisonAI's own files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from praisonai.persistence.conversation import json as json_store
from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession, ConversationStore
from praisonai.persistence.errors import StoreError
from praisonai.persistence.registry import CONVERSATION_STORES
from tests.support.praisonai_fixtures import MANIFEST, copy_fixture


def _praisonai_files(directory: Path) -> dict[str, dict[str, object]]:
    return {
        path.stem: json.loads(path.read_text())
        for path in directory.glob("*.json")
        if path.name not in ("_sessions_index.json", "format.json")
    }


def _open(directory: Path) -> ConversationStore:
    store = CONVERSATION_STORES.create("json", path=str(directory))
    assert isinstance(store, ConversationStore)
    return store


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return copy_fixture("json_conversations", tmp_path)


def test_every_session_and_message_is_read(directory: Path) -> None:
    before = {path.name: path.read_bytes() for path in directory.iterdir()}
    written = _praisonai_files(directory)
    assert set(written) == set(MANIFEST["json"]["sessions"])
    store = _open(directory)
    try:
        for session_id, data in written.items():
            assert store.get_session(session_id) == ConversationSession.from_dict(data["session"])  # type: ignore[arg-type]
            messages = [ConversationMessage.from_dict(m) for m in data["messages"]]  # type: ignore[attr-defined]
            assert store.get_messages(session_id) == sorted(messages, key=lambda m: m.created_at)
            facts = MANIFEST["json"]["sessions"][session_id]
            assert len(messages) == facts["messages"]
            assert sorted({m.role for m in messages}) == facts["roles"]
        assert [s.session_id for s in store.list_sessions()] == ["sess-carol-003", "sess-bob-002", "sess-alice-001"]
        # New writes go to our layout.
        store.add_message("sess-carol-003", ConversationMessage(id="new", role="user", content="hi"))
    finally:
        store.close()
    # PraisonAI's own files are left as they were.
    assert {name: (directory / name).read_bytes() for name in before} == before
    reopened = _open(directory)
    try:
        assert [m.id for m in reopened.get_messages("sess-carol-003")][-1] == "new"
    finally:
        reopened.close()


def test_a_conversion_that_dies_half_way_commits_nothing(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = json_store.convert_praisonai_session
    calls: list[Path] = []

    def dies_on_the_second(path: Path, *args: object) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(json_store, "convert_praisonai_session", dies_on_the_second)
    with pytest.raises(StoreError):
        _open(directory)
    assert not (directory / "format.json").exists()
    monkeypatch.setattr(json_store, "convert_praisonai_session", real)
    store = _open(directory)
    try:
        assert len(store.list_sessions()) == 3
        assert len(store.get_messages("sess-bob-002")) == 30
    finally:
        store.close()


def test_a_corrupt_praisonai_file_is_refused_with_its_name(directory: Path) -> None:
    (directory / "sess-bob-002.json").write_text("{not json")
    with pytest.raises(StoreError, match=r"sess-bob-002\.json"):
        _open(directory)
    assert not (directory / "format.json").exists()


def test_an_id_praisonai_stored_twice_is_kept_once(directory: Path) -> None:
    """PraisonAI's add_message appends without checking ids; the first of the two is kept."""
    path = directory / "sess-carol-003.json"
    data = json.loads(path.read_text())
    data["messages"].append({**data["messages"][0], "content": "a second copy", "created_at": 1e10})
    path.write_text(json.dumps(data))
    store = _open(directory)
    try:
        messages = store.get_messages("sess-carol-003")
        assert [m.id for m in messages] == [m["id"] for m in data["messages"][:3]]
        assert messages[0].content == data["messages"][0]["content"]
    finally:
        store.close()


def test_a_converted_directory_is_current_and_orders_by_new_writes(directory: Path) -> None:
    store = _open(directory)
    try:
        assert json.loads((directory / "format.json").read_text())["version"] == 2
        oldest = store.list_sessions()[-1].session_id
        store.add_message(oldest, ConversationMessage(id="new", role="user", content="hi"))
        assert store.list_sessions()[0].session_id == oldest
    finally:
        store.close()
    reopened = _open(directory)
    try:
        assert reopened.list_sessions()[0].session_id == oldest
        assert [m.id for m in reopened.get_messages(oldest)][-1] == "new"
    finally:
        reopened.close()
