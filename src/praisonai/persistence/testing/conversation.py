"""Contract suites for conversation stores: the semantics of ``conversation/base.py``.

``ConversationStoreContract`` for sync stores, ``AsyncConversationStoreContract``
for asyncio ones: the same checks, the async suite awaiting each call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import closing
from typing import Any

import pytest

from ..conversation.base import (
    AsyncConversationStore,
    ConversationMessage,
    ConversationSession,
    ConversationStore,
)
from ..errors import AlreadyExistsError, NotFoundError
from ._support import StoreContractBase, reopener, run_async, run_in_threads

__all__ = ["AsyncConversationStoreContract", "ConversationStoreContract"]


def _session(session_id: str = "s1", **fields: Any) -> ConversationSession:
    base: dict[str, Any] = {
        "user_id": "user-1",
        "agent_id": "agent-1",
        "name": "Support chat",
        "state": {"step": 2, "flags": [True, None, 1.5], "nested": {"a": "ü"}},
        "metadata": {"source": "web", "tags": ["x", "y"]},
        "created_at": 1_700_000_000.25,
        "updated_at": 1_700_000_000.5,
    }
    base.update(fields)
    return ConversationSession(session_id=session_id, **base)


def _message(content: str, created_at: float, message_id: str | None = None, **fields: Any) -> ConversationMessage:
    message = ConversationMessage(role=fields.pop("role", "user"), content=content, created_at=created_at, **fields)
    if message_id is not None:
        message.id = message_id
    return message


def _contents(messages: list[ConversationMessage]) -> list[str]:
    return [message.content for message in messages]


SESSION_FIELDS = ("session_id", "user_id", "agent_id", "name", "state", "metadata")
BAD_IDS: tuple[object, ...] = ("", "x" * 256, "nul\x00byte", 42, None)


class ConversationStoreContract(StoreContractBase[ConversationStore]):
    """Subclass with a ``store`` fixture yielding a fresh, empty ConversationStore.

    Optionally override ``reopen`` to return a zero-argument callable that
    opens a second store on the same data (for the persistence test).
    """

    protocol = ConversationStore
    wanted = "yield a fresh ConversationStore"

    # -- sessions ---------------------------------------------------------------

    def test_session_round_trip(self, store: ConversationStore) -> None:
        created = store.create_session(_session())
        assert created.session_id == "s1"
        loaded = store.get_session("s1")
        assert loaded is not None
        for name in SESSION_FIELDS:
            assert getattr(loaded, name) == getattr(created, name), name
        assert loaded.created_at == pytest.approx(1_700_000_000.25, abs=1e-3)
        assert loaded.updated_at == pytest.approx(1_700_000_000.5, abs=1e-3)

    def test_session_with_empty_fields(self, store: ConversationStore) -> None:
        store.create_session(ConversationSession(session_id="bare"))
        loaded = store.get_session("bare")
        assert loaded is not None
        assert (loaded.user_id, loaded.agent_id, loaded.name, loaded.state, loaded.metadata) == (None,) * 5

    def test_get_missing_session_is_none(self, store: ConversationStore) -> None:
        assert store.get_session("nope") is None

    def test_create_existing_session_raises_and_keeps_original(self, store: ConversationStore) -> None:
        store.create_session(_session(name="original"))
        with pytest.raises(AlreadyExistsError):
            store.create_session(_session(name="intruder"))
        loaded = store.get_session("s1")
        assert loaded is not None and loaded.name == "original"

    def test_update_session(self, store: ConversationStore) -> None:
        store.create_session(_session())
        changed = _session(name="renamed", state={"step": 3}, metadata=None, user_id="user-2")
        updated = store.update_session(changed)
        assert updated.updated_at > 1_700_000_000.5
        loaded = store.get_session("s1")
        assert loaded is not None
        assert (loaded.name, loaded.state, loaded.metadata, loaded.user_id) == ("renamed", {"step": 3}, None, "user-2")
        assert loaded.created_at == pytest.approx(1_700_000_000.25, abs=1e-3)
        assert loaded.updated_at == pytest.approx(updated.updated_at, abs=1e-3)

    def test_update_missing_session_raises(self, store: ConversationStore) -> None:
        with pytest.raises(NotFoundError):
            store.update_session(_session("ghost"))
        assert store.get_session("ghost") is None

    def test_upsert_creates_then_updates(self, store: ConversationStore) -> None:
        first = store.upsert_session(_session(name="one"))
        assert first.name == "one"
        second = store.upsert_session(_session(name="two", created_at=5.0))
        assert second.name == "two"
        loaded = store.get_session("s1")
        assert loaded is not None and loaded.name == "two"
        assert loaded.created_at == pytest.approx(1_700_000_000.25, abs=1e-3)  # creation time is kept
        assert len(store.list_sessions()) == 1

    def test_delete_session_removes_its_messages(self, store: ConversationStore) -> None:
        store.create_session(_session("a"))
        store.create_session(_session("b"))
        store.add_message("a", _message("in a", 1.0))
        store.add_message("b", _message("in b", 1.0))
        assert store.delete_session("a") is True
        assert store.delete_session("a") is False
        assert store.get_session("a") is None
        assert store.get_messages("a") == []
        assert _contents(store.get_messages("b")) == ["in b"]
        store.create_session(_session("a"))  # the id is free again, with no old messages
        assert store.get_messages("a") == []

    def test_list_sessions_filters_orders_and_pages(self, store: ConversationStore) -> None:
        for index, (user, agent) in enumerate([("u1", "a1"), ("u1", "a2"), ("u2", "a1"), ("u1", "a1")]):
            store.create_session(_session(f"s{index}", user_id=user, agent_id=agent, updated_at=100.0 + index))
        assert [s.session_id for s in store.list_sessions()] == ["s3", "s2", "s1", "s0"]
        assert [s.session_id for s in store.list_sessions(user_id="u1")] == ["s3", "s1", "s0"]
        assert [s.session_id for s in store.list_sessions(agent_id="a1")] == ["s3", "s2", "s0"]
        assert [s.session_id for s in store.list_sessions(user_id="u1", agent_id="a1")] == ["s3", "s0"]
        assert [s.session_id for s in store.list_sessions(limit=2)] == ["s3", "s2"]
        assert [s.session_id for s in store.list_sessions(limit=2, offset=2)] == ["s1", "s0"]
        assert store.list_sessions(user_id="nobody") == []
        assert store.list_sessions(limit=0) == []

    def test_adding_a_message_bumps_updated_at(self, store: ConversationStore) -> None:
        store.create_session(_session("old", updated_at=1.0))
        store.create_session(_session("new", updated_at=2.0))
        store.add_message("old", _message("hello", 3.0))
        assert [s.session_id for s in store.list_sessions()] == ["old", "new"]

    # -- messages ---------------------------------------------------------------

    def test_message_round_trip(self, store: ConversationStore) -> None:
        store.create_session(_session())
        tool_calls = [{"id": "call-1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
        message = _message(
            "héllo 👋 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \"quotes\" 'single' \\ ; -- DROP TABLE",
            12.5,
            "m-1",
            role="assistant",
            tool_calls=tool_calls,
            tool_call_id="call-0",
            metadata={"tokens": 12, "ok": True, "none": None},
        )
        returned = store.add_message("s1", message)
        assert returned.session_id == "s1" and returned.id == "m-1"
        (loaded,) = store.get_messages("s1")
        assert loaded.to_dict() == {**message.to_dict(), "session_id": "s1"}

    def test_empty_and_large_content(self, store: ConversationStore) -> None:
        store.create_session(_session())
        big = "x" * 1_000_000
        store.add_message("s1", _message("", 1.0))
        store.add_message("s1", _message(big, 2.0))
        assert _contents(store.get_messages("s1")) == ["", big]

    def test_add_message_to_missing_session_raises(self, store: ConversationStore) -> None:
        with pytest.raises(NotFoundError):
            store.add_message("ghost", _message("lost", 1.0))
        assert store.get_messages("ghost") == []

    def test_duplicate_message_id_raises_and_keeps_original(self, store: ConversationStore) -> None:
        store.create_session(_session())
        store.add_message("s1", _message("first", 1.0, "m-1"))
        with pytest.raises(AlreadyExistsError):
            store.add_message("s1", _message("second", 2.0, "m-1"))
        assert _contents(store.get_messages("s1")) == ["first"]

    def test_same_message_id_in_two_sessions(self, store: ConversationStore) -> None:
        store.create_session(_session("a"))
        store.create_session(_session("b"))
        store.add_message("a", _message("in a", 1.0, "m-1"))
        store.add_message("b", _message("in b", 1.0, "m-1"))
        assert _contents(store.get_messages("a")) == ["in a"]
        assert _contents(store.get_messages("b")) == ["in b"]

    def test_message_for_another_session_is_refused(self, store: ConversationStore) -> None:
        store.create_session(_session("a"))
        store.create_session(_session("b"))
        with pytest.raises(ValueError, match="belongs to session"):
            store.add_message("a", _message("wrong", 1.0, session_id="b"))
        assert store.get_messages("a") == [] and store.get_messages("b") == []

    def test_messages_come_back_in_time_order(self, store: ConversationStore) -> None:
        store.create_session(_session())
        for content, created_at in [("c", 3.0), ("a", 1.0), ("d", 4.0), ("b", 2.0)]:
            store.add_message("s1", _message(content, created_at))
        assert _contents(store.get_messages("s1")) == ["a", "b", "c", "d"]

    def test_equal_timestamps_keep_insertion_order(self, store: ConversationStore) -> None:
        store.create_session(_session())
        contents = [f"m{index:02d}" for index in range(12)]
        for content in contents:
            store.add_message("s1", _message(content, 5.0))
        assert _contents(store.get_messages("s1")) == contents
        assert _contents(store.get_messages("s1", limit=3)) == contents[-3:]

    def test_limit_gives_most_recent_oldest_first(self, store: ConversationStore) -> None:
        store.create_session(_session())
        for index in range(10):
            store.add_message("s1", _message(f"m{index}", float(index)))
        assert _contents(store.get_messages("s1", limit=3)) == ["m7", "m8", "m9"]
        assert _contents(store.get_messages("s1", limit=100)) == [f"m{index}" for index in range(10)]
        assert store.get_messages("s1", limit=0) == []

    def test_before_and_after_are_exclusive_and_zero_is_a_bound(self, store: ConversationStore) -> None:
        store.create_session(_session())
        for index in range(5):
            store.add_message("s1", _message(f"m{index}", float(index)))  # created_at 0.0 .. 4.0
        assert _contents(store.get_messages("s1", before=2.0)) == ["m0", "m1"]
        assert _contents(store.get_messages("s1", after=2.0)) == ["m3", "m4"]
        assert _contents(store.get_messages("s1", after=0.0)) == ["m1", "m2", "m3", "m4"]
        assert store.get_messages("s1", before=0.0) == []
        assert _contents(store.get_messages("s1", after=0.0, before=4.0)) == ["m1", "m2", "m3"]
        assert _contents(store.get_messages("s1", after=0.0, before=4.0, limit=2)) == ["m2", "m3"]

    def test_get_messages_of_missing_session_is_empty(self, store: ConversationStore) -> None:
        assert store.get_messages("ghost") == []

    def test_add_messages_batch(self, store: ConversationStore) -> None:
        store.create_session(_session())
        batch = [_message(f"m{index}", float(index)) for index in range(50)]
        returned = store.add_messages("s1", batch)
        assert [m.id for m in returned] == [m.id for m in batch]
        assert all(m.session_id == "s1" for m in returned)
        assert _contents(store.get_messages("s1")) == [f"m{index}" for index in range(50)]
        assert store.add_messages("s1", []) == []

    def test_add_messages_with_a_duplicate_stores_none(self, store: ConversationStore) -> None:
        store.create_session(_session())
        store.add_message("s1", _message("existing", 0.0, "dup"))
        batch = [_message("new-1", 1.0), _message("clash", 2.0, "dup"), _message("new-2", 3.0)]
        with pytest.raises(AlreadyExistsError):
            store.add_messages("s1", batch)
        assert _contents(store.get_messages("s1")) == ["existing"]
        with pytest.raises(AlreadyExistsError):
            store.add_messages("s1", [_message("x", 1.0, "twice"), _message("y", 2.0, "twice")])
        assert _contents(store.get_messages("s1")) == ["existing"]

    def test_delete_messages(self, store: ConversationStore) -> None:
        store.create_session(_session("a"))
        store.create_session(_session("b"))
        for index in range(5):
            store.add_message("a", _message(f"a{index}", float(index), f"m{index}"))
        store.add_message("b", _message("b0", 0.0, "m0"))
        assert store.delete_messages("a", []) == 0
        assert len(store.get_messages("a")) == 5
        assert store.delete_messages("a", ["m1", "m3", "missing"]) == 2
        assert _contents(store.get_messages("a")) == ["a0", "a2", "a4"]
        assert store.delete_messages("a") == 3
        assert store.get_messages("a") == []
        assert _contents(store.get_messages("b")) == ["b0"]
        assert store.get_session("a") is not None

    # -- bad input ----------------------------------------------------------------

    @pytest.mark.parametrize("bad_id", BAD_IDS)
    def test_bad_session_ids_are_refused(self, store: ConversationStore, bad_id: Any) -> None:
        with pytest.raises(ValueError):
            store.create_session(ConversationSession(session_id=bad_id))
        with pytest.raises(ValueError):
            store.get_messages(bad_id)
        assert store.list_sessions() == []

    def test_non_json_state_is_refused_and_nothing_stored(self, store: ConversationStore) -> None:
        with pytest.raises(TypeError):
            store.create_session(_session(state={"when": object()}))
        assert store.get_session("s1") is None
        store.create_session(_session())
        with pytest.raises(TypeError):
            store.add_message("s1", _message("x", 1.0, metadata={1: "int key"}))
        assert store.get_messages("s1") == []

    @pytest.mark.parametrize("limit", [-1, 1.5, "3", True])
    def test_bad_limits_are_refused(self, store: ConversationStore, limit: Any) -> None:
        store.create_session(_session())
        with pytest.raises(ValueError):
            store.get_messages("s1", limit=limit)
        with pytest.raises(ValueError):
            store.list_sessions(limit=limit)

    def test_bad_message_ids_are_refused(self, store: ConversationStore) -> None:
        store.create_session(_session())
        with pytest.raises(ValueError):
            store.add_message("s1", _message("x", 1.0, "y" * 300))
        with pytest.raises(ValueError):
            store.delete_messages("s1", "not-a-list")
        assert store.get_messages("s1") == []

    # -- lifecycle ----------------------------------------------------------------

    def test_context_manager_closes(self, store: ConversationStore) -> None:
        with store as entered:
            assert entered is store
            entered.create_session(_session())
        with pytest.raises(Exception):  # noqa: B017 - any error: the store is closed
            store.get_session("s1")

    def test_concurrent_writers_lose_nothing(self, store: ConversationStore) -> None:
        sessions = ["c0", "c1"]
        for session_id in sessions:
            store.create_session(_session(session_id))
        writers, per_writer = 8, 25

        def write(writer: int) -> None:
            for index in range(per_writer):
                store.add_message(sessions[writer % 2], _message(f"w{writer}-{index:03d}", 1.0))

        assert run_in_threads(write, writers) == []
        stored = [m for session_id in sessions for m in store.get_messages(session_id)]
        assert len(stored) == writers * per_writer
        assert len({(m.session_id, m.id) for m in stored}) == writers * per_writer
        for writer in range(writers):
            mine = [m.content for m in store.get_messages(sessions[writer % 2]) if m.content.startswith(f"w{writer}-")]
            assert mine == sorted(mine)  # each writer's order is preserved

    def test_reopen_reads_what_was_written(
        self, store: ConversationStore, reopen: Callable[[], ConversationStore] | None
    ) -> None:
        open_second = reopener(reopen)
        store.create_session(_session())
        store.add_message("s1", _message("persisted", 1.0, "m-1"))
        with closing(open_second()) as second:
            loaded = second.get_session("s1")
            assert loaded is not None and loaded.name == "Support chat"
            assert [(m.id, m.content) for m in second.get_messages("s1")] == [("m-1", "persisted")]


class AsyncConversationStoreContract(StoreContractBase[AsyncConversationStore]):
    """Subclass with a synchronous ``store`` fixture returning a fresh, unconnected AsyncConversationStore."""

    protocol = AsyncConversationStore
    wanted = "return a fresh AsyncConversationStore"

    @run_async
    async def test_session_round_trip(self, store: AsyncConversationStore) -> None:
        await store.create_session(_session())
        loaded = await store.get_session("s1")
        assert loaded is not None
        for name in SESSION_FIELDS:
            assert getattr(loaded, name) == getattr(_session(), name), name
        assert await store.get_session("nope") is None

    @run_async
    async def test_create_existing_session_raises(self, store: AsyncConversationStore) -> None:
        await store.create_session(_session(name="original"))
        with pytest.raises(AlreadyExistsError):
            await store.create_session(_session(name="intruder"))
        loaded = await store.get_session("s1")
        assert loaded is not None and loaded.name == "original"

    @run_async
    async def test_update_and_upsert(self, store: AsyncConversationStore) -> None:
        with pytest.raises(NotFoundError):
            await store.update_session(_session("ghost"))
        await store.upsert_session(_session(name="one"))
        await store.upsert_session(_session(name="two"))
        await store.update_session(_session(name="three"))
        loaded = await store.get_session("s1")
        assert loaded is not None and loaded.name == "three"
        assert len(await store.list_sessions()) == 1

    @run_async
    async def test_list_sessions_filters_orders_and_pages(self, store: AsyncConversationStore) -> None:
        for index, user in enumerate(["u1", "u2", "u1"]):
            await store.create_session(_session(f"s{index}", user_id=user, updated_at=10.0 + index))
        assert [s.session_id for s in await store.list_sessions()] == ["s2", "s1", "s0"]
        assert [s.session_id for s in await store.list_sessions(user_id="u1")] == ["s2", "s0"]
        assert [s.session_id for s in await store.list_sessions(limit=1, offset=1)] == ["s1"]

    @run_async
    async def test_messages_order_limits_and_bounds(self, store: AsyncConversationStore) -> None:
        await store.create_session(_session())
        for index in reversed(range(5)):
            await store.add_message("s1", _message(f"m{index}", float(index)))
        for index in range(3):
            await store.add_message("s1", _message(f"same{index}", 9.0))
        assert _contents(await store.get_messages("s1")) == [f"m{i}" for i in range(5)] + ["same0", "same1", "same2"]
        assert _contents(await store.get_messages("s1", limit=2)) == ["same1", "same2"]
        assert _contents(await store.get_messages("s1", after=0.0, before=3.0)) == ["m1", "m2"]
        assert await store.get_messages("s1", before=0.0) == []

    @run_async
    async def test_message_round_trip_and_errors(self, store: AsyncConversationStore) -> None:
        with pytest.raises(NotFoundError):
            await store.add_message("ghost", _message("lost", 1.0))
        await store.create_session(_session())
        message = _message("👋 hi", 1.5, "m-1", role="tool", tool_call_id="c1", metadata={"n": 1})
        await store.add_message("s1", message)
        with pytest.raises(AlreadyExistsError):
            await store.add_message("s1", _message("again", 2.0, "m-1"))
        (loaded,) = await store.get_messages("s1")
        assert loaded.to_dict() == {**message.to_dict(), "session_id": "s1"}

    @run_async
    async def test_batches_and_deletes(self, store: AsyncConversationStore) -> None:
        await store.create_session(_session())
        await store.add_messages("s1", [_message(f"m{i}", float(i), f"id{i}") for i in range(10)])
        with pytest.raises(AlreadyExistsError):
            await store.add_messages("s1", [_message("new", 20.0), _message("dup", 21.0, "id3")])
        assert len(await store.get_messages("s1")) == 10
        assert await store.delete_messages("s1", []) == 0
        assert await store.delete_messages("s1", ["id0", "id1", "nope"]) == 2
        assert await store.delete_messages("s1") == 8
        assert await store.delete_session("s1") is True
        assert await store.delete_session("s1") is False

    @run_async
    async def test_bad_input_is_refused(self, store: AsyncConversationStore) -> None:
        for bad_id in BAD_IDS:
            with pytest.raises(ValueError):
                await store.create_session(ConversationSession(session_id=bad_id))  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await store.create_session(_session(state={"x": {1, 2}}))
        with pytest.raises(ValueError):
            await store.get_messages("s1", limit=-1)
        assert await store.list_sessions() == []

    @run_async
    async def test_concurrent_tasks_lose_nothing(self, store: AsyncConversationStore) -> None:
        await store.create_session(_session())
        tasks, per_task = 8, 25

        async def write(task: int) -> None:
            for index in range(per_task):
                await store.add_message("s1", _message(f"t{task}-{index:03d}", 1.0))

        await asyncio.gather(*(write(task) for task in range(tasks)))
        stored = await store.get_messages("s1")
        assert len(stored) == tasks * per_task
        assert len({m.id for m in stored}) == tasks * per_task
        for task in range(tasks):
            mine = [m.content for m in stored if m.content.startswith(f"t{task}-")]
            assert mine == sorted(mine)

    @run_async
    async def test_context_manager_closes(self, store: AsyncConversationStore) -> None:
        async with store as entered:
            assert entered is store
            await entered.create_session(_session())
        with pytest.raises(Exception):  # noqa: B017 - any error: the store is closed
            await store.get_session("s1")

    def test_reopen_reads_what_was_written(
        self, store: AsyncConversationStore, reopen: Callable[[], AsyncConversationStore] | None
    ) -> None:
        open_second = reopener(reopen)

        async def main() -> None:
            try:
                await store.create_session(_session())
                await store.add_message("s1", _message("persisted", 1.0, "m-1"))
            finally:
                await store.close()
            second = open_second()
            try:
                assert [(m.id, m.content) for m in await second.get_messages("s1")] == [("m-1", "persisted")]
            finally:
                await second.close()

        asyncio.run(main())
