"""``praisonai-persistence demo``: round trips on the embedded defaults (sqlite, memory, memory)."""

from __future__ import annotations

import json
from pathlib import Path

from ._status import EXIT_OK

__all__ = ["demo"]


def demo(directory: Path, kept: bool = True) -> int:
    """Run the demo in ``directory``; ``kept``: it is the user's (``--path``), not a temporary one."""
    from ..conversation.base import ConversationMessage, ConversationSession
    from ..knowledge.base import KnowledgeDocument
    from ..registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES

    directory.mkdir(parents=True, exist_ok=True)
    print(f"embedded defaults under {directory}")

    with CONVERSATION_STORES.create("sqlite", path=str(directory / "conversations.db")) as conversations:
        session = conversations.upsert_session(ConversationSession(session_id="demo", user_id="ada", name="Demo chat"))
        conversations.delete_messages(session.session_id)
        exchange = [("What is 2 + 2?", "4."), ("And 3 + 3?", "6.")]
        for question, answer in exchange:
            conversations.add_message(session.session_id, ConversationMessage(role="user", content=question))
            conversations.add_message(session.session_id, ConversationMessage(role="assistant", content=answer))
        stored = conversations.get_messages(session.session_id)
        print(f"conversation  sqlite: session {session.session_id!r} holds {len(stored)} messages, read back:")
        for message in stored:
            print(f"                {message.role:>9}: {message.content}")

    with KNOWLEDGE_STORES.create("memory", path=str(directory / "knowledge.json")) as knowledge:
        if knowledge.collection_exists("docs"):
            knowledge.delete_collection("docs")
        knowledge.create_collection("docs", dimension=3)
        documents = [
            ("cats", "Cats purr.", [1.0, 0.1, 0.0], "pets"),
            ("dogs", "Dogs bark.", [0.9, 0.3, 0.1], "pets"),
            ("tax", "Taxes are due.", [0.0, 0.2, 1.0], "money"),
        ]
        knowledge.insert(
            "docs",
            [
                KnowledgeDocument(id=doc_id, content=content, embedding=embedding, metadata={"topic": topic})
                for doc_id, content, embedding, topic in documents
            ],
        )
        hits = knowledge.search("docs", [1.0, 0.2, 0.0], limit=2, filters={"topic": "pets"})
        print("knowledge     memory: stored 3 documents; closest to [1.0, 0.2, 0.0] among pets:")
        for hit in hits:
            print(f"                {hit.id}: {hit.content} (score {hit.score:.3f})")

    with STATE_STORES.create("memory", snapshot_path=str(directory / "state.json")) as state:
        runs = (state.get("demo:runs") or 0) + 1
        state.set("demo:runs", runs)
        state.set("demo:last-answer", "4", ttl=3600)
        state.hset("demo:user:ada", "language", "en")
        print(f"state         memory: demo:runs = {state.get('demo:runs')}")
        answer, ttl = state.get("demo:last-answer"), state.ttl("demo:last-answer")
        print(f"                demo:last-answer = {answer!r} (ttl {ttl} s)")
        print(f"                demo:user:ada = {json.dumps(state.hgetall('demo:user:ada'))}")

    if kept:
        print(f"\nthe files are kept in {directory}; run the demo again and demo:runs counts up")
    else:
        print("\nthe files were in a temporary directory, now removed (keep them with --path DIR)")
    database = directory / "conversations.db" if kept else Path("chat.db")
    print("try next:")
    print("  praisonai-persistence backends --kind conversation     every backend, its extra, its driver")
    print(f"  praisonai-persistence check conversation sqlite --path {database}")
    print(f"  praisonai-persistence export conversation --from sqlite:{database} --output backup.jsonl")
    print("  and docs/cli.md for migrate, import and the exit statuses")
    return EXIT_OK
