"""Every conversation backend against a sequential reference (issue 15): one seeded workload of
random calls over three sessions (messages with colliding and equal timestamps, batches, reads
with ``limit``/``before``/``after``, deletes of some, none or all messages, sessions deleted
and created again), run on the backend while a plain Python model of the contract (design.md)
answers the same calls; every answer must be the model's, and an error the same class."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.errors import AlreadyExistsError, NotFoundError, PersistenceError

from .conftest import Figures, Opener, sync_view

pytestmark = pytest.mark.reliability

BACKENDS = [
    "sqlite",
    "async_sqlite",
    "json",
    "turso",
    "surrealdb",
    "postgres",
    "async_postgres",
    "mysql",
    "async_mysql",
]
CALLS = 120
SESSIONS = ["s1", "s2", "s/3"]
TIMES = [1.0, 2.0, 2.0, 3.5, 0.0]  # equal timestamps keep insertion order; 0.0 is a bound, not "unset"


class Reference:
    """The contract's semantics, sequentially: sessions, and each session's messages in order."""

    def __init__(self) -> None:
        self.sessions: dict[str, list[tuple[float, int, ConversationMessage]]] = {}
        self.order = 0

    def create_session(self, session_id: str) -> None:
        if session_id in self.sessions:
            raise AlreadyExistsError(session_id)
        self.sessions[session_id] = []

    def delete_session(self, session_id: str) -> bool:
        return self.sessions.pop(session_id, None) is not None

    def exists(self, session_id: str) -> bool:
        return session_id in self.sessions

    def add_messages(self, session_id: str, messages: list[ConversationMessage]) -> None:
        if session_id not in self.sessions:
            raise NotFoundError(session_id)
        taken = {message.id for _, _, message in self.sessions[session_id]}  # ids are per session
        if any(message.id in taken for message in messages) or len({m.id for m in messages}) < len(messages):
            raise AlreadyExistsError(session_id)
        for message in messages:
            self.order += 1
            self.sessions[session_id].append((message.created_at, self.order, message))

    def get_messages(self, session_id: str, limit: int | None, before: float | None, after: float | None) -> list[str]:
        found = sorted(self.sessions.get(session_id, []), key=lambda entry: (entry[0], entry[1]))
        found = [e for e in found if (before is None or e[0] < before) and (after is None or e[0] > after)]
        if limit is not None:
            found = found[-limit:] if limit else []
        return [message.id for _, _, message in found]

    def delete_messages(self, session_id: str, ids: list[str] | None) -> int:
        stored = self.sessions.get(session_id, [])
        keep = [entry for entry in stored if ids is not None and entry[2].id not in ids]
        if session_id in self.sessions:
            self.sessions[session_id] = keep
        return len(stored) - len(keep)


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except (AlreadyExistsError, NotFoundError) as error:
        return "error", type(error).__name__


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_conversation_backend_answers_as_the_reference(
    backend: str, open_conversation: Callable[[str], Opener], figures: Figures
) -> None:
    store = sync_view(open_conversation(backend)())
    reference = Reference()
    rng = random.Random(15)
    next_id = 0
    try:
        for session_id in SESSIONS:
            store.create_session(ConversationSession(session_id=session_id))
            reference.create_session(session_id)
        for step in range(CALLS):
            session_id = rng.choice(SESSIONS)
            action = rng.random()
            if action < 0.06:
                got = _outcome(lambda: store.create_session(ConversationSession(session_id=session_id)) and None)
                expected = _outcome(lambda: reference.create_session(session_id))
            elif action < 0.10:
                got = _outcome(lambda: store.delete_session(session_id))
                expected = _outcome(lambda: reference.delete_session(session_id))
            elif action < 0.55:
                batch = []
                for _ in range(rng.choice([1, 1, 3])):
                    next_id += 1
                    reuse = next_id > 3 and rng.random() < 0.1  # an id already stored somewhere
                    message_id = f"m{rng.randint(1, next_id - 1) if reuse else next_id}"
                    batch.append(
                        ConversationMessage(
                            id=message_id, role="user", content=f"{message_id}@{step}", created_at=rng.choice(TIMES)
                        )
                    )
                got = _outcome(lambda: store.add_messages(session_id, batch) and None)
                expected = _outcome(lambda: reference.add_messages(session_id, batch))
            elif action < 0.85:
                limit = rng.choice([None, None, 0, 1, 2, 10**6])
                before = rng.choice([None, None, 2.0, 0.0, 3.5])
                after = rng.choice([None, None, 1.0, 0.0])
                got = _outcome(
                    lambda: [m.id for m in store.get_messages(session_id, limit=limit, before=before, after=after)]
                )
                expected = _outcome(lambda: reference.get_messages(session_id, limit, before, after))
                if got == ("ok", []) and not reference.exists(session_id):
                    continue  # a missing session may read as empty
            elif action < 0.95:
                stored = [m.id for _, _, m in reference.sessions.get(session_id, [])]
                ids = rng.choice([None, [], [*rng.sample(stored, min(len(stored), 2)), "absent"]])
                got = _outcome(lambda: store.delete_messages(session_id, ids))
                expected = _outcome(lambda: reference.delete_messages(session_id, ids))
                if got[0] == "error" and not reference.exists(session_id):
                    continue  # deleting from a missing session: nothing to delete either way
            else:
                got = ("ok", store.get_session(session_id) is not None)
                expected = ("ok", reference.exists(session_id))
            assert got == expected, (step, session_id, action)
        for session_id in SESSIONS:
            assert [m.id for m in store.get_messages(session_id)] == reference.get_messages(
                session_id, None, None, None
            )
    except PersistenceError as error:
        raise AssertionError(f"{backend}: unexpected {type(error).__name__}: {error}") from error
    finally:
        store.close()
    figures.record("conversation_differential", backend, calls=CALLS)
