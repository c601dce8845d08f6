"""The copy engine (praisonai.persistence.transfer, as imported from praisonai.persistence.migrate), in process: exactness, idempotence, conflicts, files.

The command line that drives it is tested as a user runs it in tests/test_cli.py.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from praisonai.persistence.conversation.base import (
    AsyncConversationTransfer,
    ConversationMessage,
    ConversationSession,
    ConversationStore,
    ConversationTransfer,
)
from praisonai.persistence.errors import AlreadyExistsError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore, KnowledgeTransfer
from praisonai.persistence.migrate import (
    ConflictError,
    InvalidExportError,
    Progress,
    UnsupportedTransferError,
    export_jsonl,
    import_jsonl,
    iter_message_batches,
    migrate,
)
from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES


class ContractOnly:
    """A store seen through its contract alone: the optional transfer extras are hidden."""

    HIDDEN = frozenset({"iter_messages", "restore_session", "describe_collection", "iter_documents"})

    def __init__(self, store: Any) -> None:
        self._inner = store

    def __getattr__(self, name: str) -> Any:
        if name in self.HIDDEN:
            raise AttributeError(name)
        return getattr(self._inner, name)


class Crashing:
    """Lets ``allowed`` message batches through, then fails like a process dying mid-copy."""

    def __init__(self, store: Any, allowed: int) -> None:
        self._inner = store
        self.allowed = allowed

    def add_messages(self, session_id: str, messages: Any) -> Any:
        if self.allowed <= 0:
            raise KeyboardInterrupt("simulated crash")
        self.allowed -= 1
        return self._inner.add_messages(session_id, messages)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def sqlite(path: Path) -> ConversationStore:
    return CONVERSATION_STORES.create("sqlite", path=str(path), durable=False)


def json_store(path: Path) -> ConversationStore:
    return CONVERSATION_STORES.create("json", path=str(path), durable=False)


def fill(store: ConversationStore, sessions: int, messages: int, *, group: int = 3, prefix: str = "s") -> None:
    """Sessions with messages in groups of ``group`` sharing one timestamp (0.0 included)."""
    for number in range(sessions):
        session_id = f"{prefix}{number}"
        store.create_session(
            ConversationSession(
                session_id=session_id,
                user_id=f"user{number % 3}",
                agent_id="agent",
                name=f"chat {number}",
                state={"step": number, "flags": [True, None]},
                metadata={"topic": "tests", "n": number},
                created_at=1_000.0 + number,
                updated_at=2_000.5 + number,
            )
        )
        store.add_messages(
            session_id,
            [
                ConversationMessage(
                    id=f"{session_id}-m{index}",
                    role="user" if index % 2 else "assistant",
                    content=f"message {index} of {session_id} ✓",
                    tool_calls=[{"name": "f", "arguments": {"x": index}}] if index % 5 == 0 else None,
                    tool_call_id="call-1" if index % 7 == 0 else None,
                    metadata={"index": index} if index % 2 else None,
                    created_at=float(index // group),
                )
                for index in range(messages)
            ],
        )
        restore = getattr(store, "restore_session", None)
        if restore is not None:  # adding messages bumped updated_at; put the chosen one back
            restore(_with_updated(store.get_session(session_id), 2_000.5 + number))


def _with_updated(session: ConversationSession | None, updated_at: float) -> ConversationSession:
    assert session is not None
    session.updated_at = updated_at
    return session


def dump(store: ConversationStore) -> list[Any]:
    """Everything a store holds, in a comparable form (messages in their stored order)."""
    out: list[Any] = []
    for session in sorted(store.list_sessions(limit=10_000), key=lambda s: s.session_id):
        data = session.to_dict()
        out.append(data)
        out.append([message.to_dict() for message in store.get_messages(session.session_id)])
    return out


def without_updated_at(snapshot: list[Any]) -> list[Any]:
    return [
        {k: v for k, v in item.items() if k != "updated_at"} if isinstance(item, dict) else item for item in snapshot
    ]


# -- reading messages in batches ------------------------------------------------------------------------------------


def check_batches(store: Any, session_id: str, batch_size: int, expected: list[str]) -> None:
    batches = list(iter_message_batches(store, session_id, batch_size))
    assert [message.id for batch in batches for message in batch] == expected
    assert all(batch for batch in batches)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    groups=st.lists(st.integers(min_value=1, max_value=25), min_size=0, max_size=12),
    batch_size=st.integers(min_value=1, max_value=30),
    shuffle_seed=st.integers(min_value=0, max_value=3),
)
def test_batches_are_exact_with_equal_timestamps_through_the_contract_alone(
    groups: list[int], batch_size: int, shuffle_seed: int
) -> None:
    # Groups of equal timestamps, inserted with time going back and forth: order is (created_at, insertion).
    with CONVERSATION_STORES.create("sqlite", path=":memory:") as store:
        store.create_session(ConversationSession(session_id="s"))
        stamps = [float((index * (shuffle_seed + 1)) % (len(groups) or 1)) for index in range(len(groups))]
        messages = [
            ConversationMessage(id=f"g{group}-{member}", role="user", content="x", created_at=stamps[group])
            for group, size in enumerate(groups)
            for member in range(size)
        ]
        store.add_messages("s", messages)
        expected = [message.id for message in store.get_messages("s")]
        check_batches(ContractOnly(store), "s", batch_size, expected)  # the two-pass fallback
        check_batches(store, "s", batch_size, expected)  # the keyset query of the SQL stores
        for batch in iter_message_batches(store, "s", batch_size):
            assert len(batch) <= batch_size  # the keyset query never exceeds the batch size


def test_fallback_batches_hold_whole_groups_and_stay_near_the_batch_size(tmp_path: Path) -> None:
    with json_store(tmp_path / "j") as store:
        store.create_session(ConversationSession(session_id="s"))
        sizes = [1, 40, 2, 3, 1, 1, 17]  # one group larger than a batch
        store.add_messages(
            "s",
            [
                ConversationMessage(id=f"{group}.{member}", role="user", content="x", created_at=float(group))
                for group, size in enumerate(sizes)
                for member in range(size)
            ],
        )
        batches = list(iter_message_batches(store, "s", 10))
        assert [m.id for batch in batches for m in batch] == [m.id for m in store.get_messages("s")]
        for batch in batches:
            stamps = {m.created_at for m in batch}
            assert len(batch) <= 10 + max(sizes)
            for other in batches:
                if other is not batch:
                    assert not stamps & {m.created_at for m in other}  # a timestamp never spans two batches


def test_sql_stores_offer_the_transfer_extras(tmp_path: Path) -> None:
    with sqlite(tmp_path / "a.db") as store:
        assert isinstance(store, ConversationTransfer)
        store.create_session(ConversationSession(session_id="s", created_at=1.0, updated_at=2.0))
        store.add_message("s", ConversationMessage(role="user", content="hi", created_at=5.0))
        assert store.get_session("s").updated_at > 2.0  # type: ignore[union-attr]
        store.restore_session(ConversationSession(session_id="s", name="n", created_at=1.5, updated_at=2.0))
        restored = store.get_session("s")
        assert restored is not None
        assert (restored.name, restored.created_at, restored.updated_at) == ("n", 1.5, 2.0)
        assert len(store.get_messages("s")) == 1  # messages untouched
        store.restore_session(ConversationSession(session_id="new", created_at=3.0, updated_at=4.0))
        assert store.get_session("new") is not None

    async def run() -> None:
        store = CONVERSATION_STORES.create("async_sqlite", path=str(tmp_path / "b.db"))
        assert isinstance(store, AsyncConversationTransfer)
        async with store:
            await store.create_session(ConversationSession(session_id="s"))
            await store.add_messages(
                "s", [ConversationMessage(id=str(i), role="user", content="x", created_at=1.0) for i in range(7)]
            )
            batches = [[m.id for m in batch] async for batch in store.iter_messages("s", 3)]
            assert batches == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
            await store.restore_session(ConversationSession(session_id="s", created_at=1.0, updated_at=9.0))
            session = await store.get_session("s")
            assert session is not None and session.updated_at == 9.0

    asyncio.run(run())


# -- conversation migrations -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_kind", "target_kind"),
    [("sqlite", "json"), ("json", "async_sqlite"), ("async_sqlite", "sqlite"), ("sqlite", "contract-only sqlite")],
)
def test_migrate_conversations_exactly(tmp_path: Path, source_kind: str, target_kind: str) -> None:
    def open_store(kind: str, name: str) -> Any:
        if kind == "sqlite":
            return sqlite(tmp_path / f"{name}.db")
        if kind == "contract-only sqlite":
            return ContractOnly(sqlite(tmp_path / f"{name}.db"))
        if kind == "json":
            return json_store(tmp_path / name)
        return CONVERSATION_STORES.create("async_sqlite", path=str(tmp_path / f"{name}.db"))

    with sqlite(tmp_path / "seed.db") as seed:
        fill(seed, sessions=7, messages=23, group=4)
        expected = dump(seed)
    if source_kind == "sqlite":
        source_path = "seed"
    else:  # put the seed into the source backend first
        migrate("conversation", sqlite(tmp_path / "seed.db"), open_store(source_kind, "source"))
        source_path = "source"
    seen: list[Progress] = []
    report = migrate(
        "conversation",
        open_store(source_kind, source_path),
        open_store(target_kind, "target"),
        batch_size=5,
        progress=seen.append,
    )
    assert report.copied == {"sessions": 7, "messages": 7 * 23}
    assert report.verification is not None and report.verification.ok
    assert report.verification.checked == {"sessions": 7, "messages": 7 * 23}
    assert seen[-1].finished and seen[-1].phase == "verify"
    assert any(p.phase == "copy" and p.finished and p.counts == {"sessions": 7, "messages": 161} for p in seen)
    reader = sqlite(tmp_path / "target.db") if target_kind != "json" else json_store(tmp_path / "target")
    with reader:
        copied = dump(reader)
    timestamps_kept = target_kind in ("sqlite", "async_sqlite") and source_kind in ("sqlite", "async_sqlite")
    if timestamps_kept:
        assert copied == expected
    else:  # json cannot restore updated_at (noted in the report); everything else is exact
        assert without_updated_at(copied) == without_updated_at(expected)
    lacks_restore = target_kind in ("json", "contract-only sqlite")
    assert any("cannot restore session timestamps" in note for note in report.notes) == lacks_restore


def test_running_twice_copies_nothing_twice(tmp_path: Path) -> None:
    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=4, messages=10)
    first = migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"))
    assert first.copied == {"sessions": 4, "messages": 40}
    second = migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"))
    assert second.copied == {}
    # Even complete sessions have their messages compared (one may differ): all counted as skipped.
    assert second.skipped == {"sessions": 4, "messages": 40}
    third = migrate("conversation", sqlite(tmp_path / "a.db"), json_store(tmp_path / "j"))
    fourth = migrate("conversation", sqlite(tmp_path / "a.db"), json_store(tmp_path / "j"))
    assert third.copied == {"sessions": 4, "messages": 40}
    assert fourth.copied == {} and fourth.skipped == {"sessions": 4, "messages": 40}
    with sqlite(tmp_path / "a.db") as a, sqlite(tmp_path / "b.db") as b:
        assert dump(a) == dump(b)


@pytest.mark.parametrize("target_kind", ["sqlite", "json"])
@pytest.mark.parametrize("batches_before_the_crash", [7, 8])  # 8: right after the second session was created
def test_an_interrupted_migration_resumes_without_duplicates(
    tmp_path: Path, target_kind: str, batches_before_the_crash: int
) -> None:
    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=5, messages=30, group=2)
        expected = dump(seed)

    def target() -> Any:
        return sqlite(tmp_path / "b.db") if target_kind == "sqlite" else json_store(tmp_path / "b")

    with pytest.raises(KeyboardInterrupt):
        migrate(
            "conversation",
            sqlite(tmp_path / "a.db"),
            Crashing(target(), allowed=batches_before_the_crash),
            batch_size=4,
        )
    with target() as partial:
        held = sum(len(partial.get_messages(s.session_id)) for s in partial.list_sessions())
    assert 0 < held < 150
    report = migrate("conversation", sqlite(tmp_path / "a.db"), target(), batch_size=4)
    assert report.copied.get("messages", 0) == 150 - held
    assert report.verification is not None and report.verification.ok
    with target() as done:
        result = dump(done)
    if target_kind == "sqlite":
        assert result == expected
    else:
        assert without_updated_at(result) == without_updated_at(expected)


def test_resuming_a_session_copies_only_its_missing_messages(tmp_path: Path) -> None:
    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=1, messages=12, group=1)
        session, messages = seed.get_session("s0"), seed.get_messages("s0")
    with sqlite(tmp_path / "b.db") as target:  # as a copy left it: the session and a few of its messages
        assert session is not None
        target.create_session(session)
        for message in messages[:5]:
            target.add_message("s0", message)
    report = migrate("conversation", sqlite(tmp_path / "a.db"), ContractOnly(sqlite(tmp_path / "b.db")), batch_size=4)
    assert (report.copied, report.skipped) == ({"messages": 7}, {"sessions": 1, "messages": 5})
    with sqlite(tmp_path / "a.db") as a, sqlite(tmp_path / "b.db") as b:
        assert without_updated_at(dump(a)) == without_updated_at(dump(b))


def test_a_target_with_foreign_messages_in_the_same_span_is_filled_one_by_one(tmp_path: Path) -> None:
    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=1, messages=6, group=6)  # six messages sharing one timestamp
        session, messages = seed.get_session("s0"), seed.get_messages("s0")
    with sqlite(tmp_path / "b.db") as target:
        assert session is not None
        target.create_session(session)
        target.add_messages("s0", [*messages[:2], ConversationMessage(id="foreign", role="user", created_at=0.0)])
    report = migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"))
    assert report.copied == {"messages": 4}
    assert report.skipped == {"sessions": 1, "messages": 2}
    assert report.verification is not None
    assert report.verification.mismatches == ["session 's0': 6 messages expected, 7 found"]


def test_conflicting_session_and_message(tmp_path: Path) -> None:
    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=2, messages=4)
    migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"))
    with sqlite(tmp_path / "b.db") as target:
        session = target.get_session("s1")
        assert session is not None
        session.name = "renamed in the target"
        target.restore_session(session)
    with pytest.raises(ConflictError, match=r"'s1'.*name"):
        migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"))
    kept = migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"), on_conflict="skip")
    assert kept.conflicts == {"sessions": 1}
    with sqlite(tmp_path / "b.db") as target:
        assert target.get_session("s1").name == "renamed in the target"  # type: ignore[union-attr]
    replaced = migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"), on_conflict="overwrite")
    assert replaced.copied == {"sessions": 1, "messages": 4}
    with sqlite(tmp_path / "a.db") as a, sqlite(tmp_path / "b.db") as b:
        assert dump(a) == dump(b)

    # A message that differs under the same id.
    with json_store(tmp_path / "j") as target:
        target.create_session(ConversationSession.from_dict(sqlite(tmp_path / "a.db").get_session("s0").to_dict()))  # type: ignore[union-attr]
        original = sqlite(tmp_path / "a.db").get_messages("s0")[1]
        original.content = "changed"
        target.add_message("s0", original)
    with pytest.raises(ConflictError, match="message 's0-m1'"):
        migrate("conversation", sqlite(tmp_path / "a.db"), json_store(tmp_path / "j"))
    report = migrate("conversation", sqlite(tmp_path / "a.db"), json_store(tmp_path / "j"), on_conflict="overwrite")
    assert report.conflicts == {"messages": 1}
    with json_store(tmp_path / "j") as target:
        assert [m.content for m in target.get_messages("s0")][1] == "message 1 of s0 ✓"


class Mangling:
    """A target that changes what it is given, as a broken backend would: the copy cannot see it."""

    def __init__(self, store: Any) -> None:
        self._inner = store

    def add_messages(self, session_id: str, messages: Any) -> Any:
        batch = [ConversationMessage.from_dict(message.to_dict()) for message in messages]
        batch[0].content += " (mangled)"
        return self._inner.add_messages(session_id, batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_message_that_differs_in_a_complete_session_is_a_conflict(tmp_path: Path) -> None:
    # The issue's case: the session's updated_at matches the source's, so the copy used to skip
    # it whole, never comparing its messages (and the CLI promises exit 7 for a conflict).
    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=2, messages=4)
    migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"))
    with sqlite(tmp_path / "a.db") as source, sqlite(tmp_path / "b.db") as target:
        changed = target.get_messages("s1")[2]
        changed.content = "changed in the target"
        target.delete_messages("s1", [changed.id])
        target.add_message("s1", changed)
        target.restore_session(source.get_session("s1"))  # type: ignore[arg-type]
        assert target.get_session("s1") == source.get_session("s1")
    with pytest.raises(ConflictError, match="message 's1-m2' of session 's1' differs"):
        migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"))
    kept = migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"), on_conflict="skip")
    assert kept.conflicts == {"messages": 1} and kept.skipped == {"sessions": 2, "messages": 7}
    assert kept.verification is not None and kept.verification.ok  # kept on purpose: counts only
    fixed = migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"), on_conflict="overwrite")
    assert fixed.copied == {"messages": 1}
    assert fixed.verification is not None and fixed.verification.ok
    with sqlite(tmp_path / "a.db") as a, sqlite(tmp_path / "b.db") as b:
        assert without_updated_at(dump(a)) == without_updated_at(dump(b))


def test_verification_compares_content_not_counts_alone(tmp_path: Path) -> None:
    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=2, messages=3)
    report = migrate("conversation", sqlite(tmp_path / "a.db"), Mangling(sqlite(tmp_path / "b.db")))
    assert report.verification is not None and not report.verification.ok
    assert report.verification.mismatches == [
        "session 's1': messages differ in content from the source's",
        "session 's0': messages differ in content from the source's",
    ]
    path = tmp_path / "export.jsonl"
    export_jsonl("conversation", sqlite(tmp_path / "a.db"), path)
    imported = import_jsonl("conversation", path, Mangling(sqlite(tmp_path / "c.db")))
    assert imported.verification is not None and imported.verification.mismatch_count == 2


def test_state_verification_compares_values(tmp_path: Path) -> None:
    source = STATE_STORES.create("memory")
    source.set("k", {"a": 1})
    source.hset("h", "f", 1)

    class ChangingState:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def set_many(self, items: Any, ttl: Any = None) -> Any:
            return self._inner.set_many(dict.fromkeys(items, "changed"), ttl=ttl)

        def set(self, key: str, value: Any, ttl: Any = None) -> Any:
            return self._inner.set(key, "changed", ttl=ttl)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    report = migrate("state", source, ChangingState(STATE_STORES.create("memory")))
    assert report.verification is not None
    assert report.verification.mismatches == ["key 'k' differs in content from the source's"]


def test_verification_reports_a_target_that_holds_more(tmp_path: Path) -> None:
    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=2, messages=3)
    with sqlite(tmp_path / "b.db") as target:
        fill(target, sessions=1, messages=3)
        target.add_message("s0", ConversationMessage(id="extra", role="user", content="only here", created_at=99.0))
        target.restore_session(_with_updated(target.get_session("s0"), 2_000.5))
    report = migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"))
    assert report.verification is not None and not report.verification.ok
    assert report.verification.mismatches == ["session 's0': 3 messages expected, 4 found"]


def test_async_stores_cannot_be_driven_from_a_running_loop(tmp_path: Path) -> None:
    async def run() -> None:
        source = CONVERSATION_STORES.create("async_sqlite", path=str(tmp_path / "a.db"))
        target = CONVERSATION_STORES.create("async_sqlite", path=str(tmp_path / "b.db"))
        with pytest.raises(RuntimeError, match="synchronous code"):
            migrate("conversation", source, target)
        await source.close()
        await target.close()
        # The documented way: a worker thread.
        source = CONVERSATION_STORES.create("async_sqlite", path=str(tmp_path / "a.db"))
        target = CONVERSATION_STORES.create("async_sqlite", path=str(tmp_path / "b.db"))
        report = await asyncio.to_thread(migrate, "conversation", source, target)
        assert report.verification is not None and report.verification.ok

    asyncio.run(run())


def test_bad_arguments_are_refused_before_anything_is_read(tmp_path: Path) -> None:
    for kwargs, message in [
        ({"batch_size": 0}, "batch_size"),
        ({"on_conflict": "merge"}, "on_conflict"),
    ]:
        with pytest.raises(ValueError, match=message):
            migrate("conversation", sqlite(tmp_path / "a.db"), sqlite(tmp_path / "b.db"), **kwargs)
    with pytest.raises(ValueError, match="kind"):
        migrate("sessions", None, None)  # type: ignore[arg-type]


# -- knowledge ------------------------------------------------------------------------------------------------------


def fill_knowledge(store: KnowledgeStore, collections: dict[str, int]) -> None:
    for name, count in collections.items():
        store.create_collection(name, 3, "euclidean" if name.startswith("e") else "cosine", {"owner": name})
        store.insert(
            name,
            [
                KnowledgeDocument(
                    id=f"{name}-{index}",
                    content=f"document {index}",
                    embedding=[index / 7, 1.0 - index / 11, 0.125],
                    metadata={"index": index, "tags": ["a", "b"]} if index % 2 else None,
                    created_at=500.0 + index,
                )
                for index in range(count)
            ],
        )


def test_migrate_knowledge_exactly_and_idempotently(tmp_path: Path) -> None:
    source = tmp_path / "k.json"
    with KNOWLEDGE_STORES.create("memory", path=str(source)) as store:
        fill_knowledge(store, {"docs": 25, "empty": 0, "e_vectors": 3})
    report = migrate(
        "knowledge",
        KNOWLEDGE_STORES.create("memory", path=str(source)),
        KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "k2.json")),
        batch_size=4,
    )
    assert report.copied == {"collections": 3, "documents": 28}
    assert report.verification is not None and report.verification.ok
    again = migrate(
        "knowledge",
        KNOWLEDGE_STORES.create("memory", path=str(source)),
        KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "k2.json")),
    )
    assert again.copied == {} and again.skipped == {"collections": 3, "documents": 28}
    with (
        KNOWLEDGE_STORES.create("memory", path=str(source)) as a,
        KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "k2.json")) as b,
    ):
        assert isinstance(a, KnowledgeTransfer)
        for name in a.list_collections():
            assert a.describe_collection(name) == b.describe_collection(name)  # type: ignore[attr-defined]
            ids = [f"{name}-{i}" for i in range(30)]
            assert [d.to_dict() for d in a.get(name, ids)] == [d.to_dict() for d in b.get(name, ids)]


def test_knowledge_conflicts_and_a_source_that_cannot_be_listed(tmp_path: Path) -> None:
    with KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "a.json")) as store:
        fill_knowledge(store, {"docs": 3})
    with KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "b.json")) as store:
        store.create_collection("docs", 3, "cosine", {"owner": "docs"})
        store.insert("docs", [KnowledgeDocument(id="docs-1", content="other", embedding=[0.0, 0.0, 1.0])])
        store.create_collection("wrong", 4)

    def both() -> tuple[Any, Any]:
        return (
            KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "a.json")),
            KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "b.json")),
        )

    with pytest.raises(ConflictError, match="document 'docs-1'"):
        migrate("knowledge", *both())
    report = migrate("knowledge", *both(), on_conflict="overwrite")
    assert report.conflicts == {"documents": 1}
    with KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "b.json")) as store:
        assert store.get("docs", ["docs-1"])[0].content == "document 1"
    with KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "a.json")) as store:
        store.create_collection("wrong", 3)
    with pytest.raises(ConflictError, match=r"'wrong'.*dimension"):
        migrate("knowledge", *both())
    source, target = both()
    with pytest.raises(UnsupportedTransferError, match="iter_documents"):
        migrate("knowledge", ContractOnly(source), target)


# -- state ----------------------------------------------------------------------------------------------------------


def test_migrate_state_with_ttls_hashes_and_nulls(tmp_path: Path) -> None:
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "a.json")) as store:
        store.set("plain", {"n": 1, "s": "123"})
        store.set("null", None)
        store.set("short", "soon", ttl=300)
        store.hset("user:1", "name", "ada")
        store.hset("user:1", "langs", ["en", "fr"])
        store.expire("user:1", 600)
        store.set("gone", 1, ttl=0.05)
        for index in range(30):
            store.set(f"n:{index}", index)
    time.sleep(0.1)
    report = migrate(
        "state",
        STATE_STORES.create("memory", snapshot_path=str(tmp_path / "a.json")),
        STATE_STORES.create("memory", snapshot_path=str(tmp_path / "b.json")),
        batch_size=7,
    )
    assert report.copied == {"keys": 34}
    assert report.verification is not None and report.verification.ok
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "b.json")) as store:
        assert store.get("plain") == {"n": 1, "s": "123"}
        assert store.exists("null") and store.get("null") is None
        assert store.hgetall("user:1") == {"name": "ada", "langs": ["en", "fr"]}
        assert 598 <= (store.ttl("user:1") or 0) <= 600
        assert 298 <= (store.ttl("short") or 0) <= 300
        assert store.ttl("plain") is None
        assert not store.exists("gone")
        store.hdel("user:1", "langs")  # as if a copy stopped half way through the hash
    again = migrate(
        "state",
        STATE_STORES.create("memory", snapshot_path=str(tmp_path / "a.json")),
        STATE_STORES.create("memory", snapshot_path=str(tmp_path / "b.json")),
    )
    assert again.copied == {"keys": 1} and again.skipped == {"keys": 33} and again.conflicts == {}
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "b.json")) as store:
        store.set("plain", "changed")
    with pytest.raises(ConflictError, match="'plain'"):
        migrate(
            "state",
            STATE_STORES.create("memory", snapshot_path=str(tmp_path / "a.json")),
            STATE_STORES.create("memory", snapshot_path=str(tmp_path / "b.json")),
        )


# -- JSON Lines -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["backup.jsonl", "backup.jsonl.gz"])
def test_export_and_import_round_trip(tmp_path: Path, name: str) -> None:
    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=3, messages=11, group=5)
        fill(seed, sessions=1, messages=0, prefix="empty")
        expected = dump(seed)
    path = tmp_path / name
    report = export_jsonl("conversation", sqlite(tmp_path / "a.db"), path, batch_size=4)
    assert report.copied == {"sessions": 4, "messages": 33}
    assert report.verification is not None and report.verification.ok
    assert not list(tmp_path.glob("*.partial"))
    text = gzip.decompress(path.read_bytes()).decode() if name.endswith(".gz") else path.read_text()
    records = [json.loads(line) for line in text.splitlines()]
    assert records[0]["format"] == "praisonai-persistence" and records[0]["kind"] == "conversation"
    assert records[-1] == {"type": "end", "sessions": 4, "messages": 33}
    assert "✓" in text  # UTF-8, not escapes
    first = import_jsonl("conversation", path, sqlite(tmp_path / "b.db"), batch_size=3)
    assert first.copied == {"sessions": 4, "messages": 33}
    assert first.verification is not None and first.verification.ok
    second = import_jsonl("conversation", path, sqlite(tmp_path / "b.db"))
    assert second.copied == {}
    with sqlite(tmp_path / "b.db") as restored:
        assert dump(restored) == expected


def test_export_and_import_knowledge_and_state(tmp_path: Path) -> None:
    with KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "k.json")) as store:
        fill_knowledge(store, {"docs": 5})
    export_jsonl("knowledge", KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "k.json")), tmp_path / "k.jsonl")
    report = import_jsonl("knowledge", tmp_path / "k.jsonl", KNOWLEDGE_STORES.create("memory"))
    assert report.copied == {"collections": 1, "documents": 5}
    assert report.verification is not None and report.verification.ok

    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "s.json")) as store:
        store.set("k", [1, "2"], ttl=100)
        store.hset("h", "f", {"x": None})
    export_jsonl("state", STATE_STORES.create("memory", snapshot_path=str(tmp_path / "s.json")), tmp_path / "s.jsonl")
    lines = (tmp_path / "s.jsonl").read_text().splitlines()
    value = json.loads(lines[2])
    assert value["key"] == "k" and value["value"] == [1, "2"] and value["expires_at"] > time.time() + 98
    # A backup restored after a key's expiry must not bring the key back.
    value["expires_at"] = time.time() - 1
    lines[2] = json.dumps(value)
    (tmp_path / "s.jsonl").write_text("\n".join(lines) + "\n")
    report = import_jsonl(
        "state", tmp_path / "s.jsonl", STATE_STORES.create("memory", snapshot_path=str(tmp_path / "t.json"))
    )
    assert report.copied == {"keys": 1} and report.expired == 1
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "t.json")) as store:
        assert store.keys() == ["h"] and store.hgetall("h") == {"f": {"x": None}}


def write_lines(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


HEADER = {"format": "praisonai-persistence", "version": 1, "kind": "conversation"}
SESSION = {"type": "session", "session": {"session_id": "s", "created_at": 1.0, "updated_at": 2.0}}
MESSAGE = {"type": "message", "message": {"id": "m", "session_id": "s", "role": "user", "content": "x"}}


@pytest.mark.parametrize(
    ("records", "problem"),
    [
        ([], "is empty"),
        (["not json"], "not JSON"),
        ([{"format": "other"}], "no header"),
        ([{**HEADER, "version": 9}], "version 9"),
        ([{**HEADER, "kind": "state"}], "holds 'state' data"),
        ([HEADER, SESSION, MESSAGE, {"type": "session_end", "session_id": "s", "messages": 1}], "truncated"),
        ([HEADER, SESSION, MESSAGE, {"type": "session_end", "session_id": "s", "messages": 2}], "declares 2"),
        ([HEADER, MESSAGE], "outside a session"),
        ([HEADER, SESSION, {"type": "value", "key": "k"}], "unexpected record type 'value'"),
        ([HEADER, SESSION, {"type": "message", "message": 3}], "malformed message"),
        (
            [HEADER, SESSION, MESSAGE, {"type": "session_end", "session_id": "s", "messages": 1}, {"type": "end"}],
            "end record declares",
        ),
    ],
)
def test_invalid_files_are_refused_before_anything_is_written(tmp_path: Path, records: list[Any], problem: str) -> None:
    path = write_lines(tmp_path / "bad.jsonl", records)
    with pytest.raises(InvalidExportError, match=problem):
        import_jsonl("conversation", path, sqlite(tmp_path / "t.db"))
    with sqlite(tmp_path / "t.db") as target:
        assert target.list_sessions() == []


def test_a_failed_export_leaves_no_file(tmp_path: Path) -> None:
    class Failing:
        def __init__(self, store: Any) -> None:
            self._inner = store

        def get_messages(self, *args: Any, **kwargs: Any) -> Any:
            raise AlreadyExistsError("simulated failure", backend="test")

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=1, messages=3)
    with pytest.raises(AlreadyExistsError):
        export_jsonl("conversation", ContractOnly(Failing(sqlite(tmp_path / "a.db"))), tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()
    assert not list(tmp_path.glob(".out.jsonl*"))


# -- a plugin that only satisfies the contract -----------------------------------------------------------------------


class DictConversations(ConversationStore):
    """A minimal third-party store: only the contract's abstract methods, no extras."""

    def __init__(self) -> None:
        self.sessions: dict[str, ConversationSession] = {}
        self.messages: dict[str, list[ConversationMessage]] = {}

    def create_session(self, session: ConversationSession) -> ConversationSession:
        if session.session_id in self.sessions:
            raise AlreadyExistsError("exists", backend="dict")
        self.sessions[session.session_id] = ConversationSession.from_dict(session.to_dict())
        self.messages[session.session_id] = []
        return session

    def get_session(self, session_id: str) -> ConversationSession | None:
        found = self.sessions.get(session_id)
        return None if found is None else ConversationSession.from_dict(found.to_dict())

    def update_session(self, session: ConversationSession) -> ConversationSession:
        session.updated_at = time.time()
        self.sessions[session.session_id] = ConversationSession.from_dict(session.to_dict())
        return session

    def delete_session(self, session_id: str) -> bool:
        self.messages.pop(session_id, None)
        return self.sessions.pop(session_id, None) is not None

    def list_sessions(
        self, user_id: str | None = None, agent_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[ConversationSession]:
        ordered = sorted(self.sessions.values(), key=lambda s: (-s.updated_at, s.session_id))
        return [ConversationSession.from_dict(s.to_dict()) for s in ordered[offset : offset + limit]]

    def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage:
        if any(m.id == message.id for m in self.messages[session_id]):
            raise AlreadyExistsError("exists", backend="dict")
        message.session_id = session_id
        self.messages[session_id].append(ConversationMessage.from_dict(message.to_dict()))
        self.sessions[session_id].updated_at = time.time()
        return message

    def get_messages(
        self, session_id: str, limit: int | None = None, before: float | None = None, after: float | None = None
    ) -> list[ConversationMessage]:
        found = [
            m
            for m in sorted(self.messages.get(session_id, []), key=lambda m: m.created_at)
            if (before is None or m.created_at < before) and (after is None or m.created_at > after)
        ]
        if limit is not None:
            found = found[-limit:] if limit else []
        return [ConversationMessage.from_dict(m.to_dict()) for m in found]

    def delete_messages(self, session_id: str, message_ids: Any = None) -> int:
        before = len(self.messages[session_id])
        self.messages[session_id] = [
            m for m in self.messages[session_id] if message_ids is not None and m.id not in message_ids
        ]
        return before - len(self.messages[session_id])

    def close(self) -> None:
        pass


def test_a_contract_only_plugin_round_trips(tmp_path: Path) -> None:
    with sqlite(tmp_path / "a.db") as seed:
        fill(seed, sessions=3, messages=17, group=6)
        expected = dump(seed)
    plugin = DictConversations()
    report = migrate("conversation", sqlite(tmp_path / "a.db"), plugin, batch_size=4)
    assert report.verification is not None and report.verification.ok
    back = migrate("conversation", plugin, sqlite(tmp_path / "b.db"), batch_size=5)
    assert back.copied == {"sessions": 3, "messages": 51}
    with sqlite(tmp_path / "b.db") as restored:
        assert without_updated_at(dump(restored)) == without_updated_at(expected)


def test_unpaired_surrogates_survive_a_file_and_other_text_stays_readable(tmp_path: Path) -> None:
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "a.json")) as store:
        store.set("odd", "a\ud800b")
        store.set("plain", "café ✓")
    export_jsonl("state", STATE_STORES.create("memory", snapshot_path=str(tmp_path / "a.json")), tmp_path / "s.jsonl")
    raw = (tmp_path / "s.jsonl").read_bytes()
    assert "café ✓".encode() in raw and b"\\ud800" in raw
    import_jsonl("state", tmp_path / "s.jsonl", STATE_STORES.create("memory", snapshot_path=str(tmp_path / "b.json")))
    with STATE_STORES.create("memory", snapshot_path=str(tmp_path / "b.json")) as store:
        assert store.get("odd") == "a\ud800b" and store.get("plain") == "café ✓"
