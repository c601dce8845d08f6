"""The ``praisonai-persistence`` command (also ``python -m praisonai.persistence``).

``demo`` runs conversation, knowledge and state round trips on the embedded
defaults (sqlite, memory, memory) and prints what it stored and found.
``backends`` lists every registered backend. Nothing heavy is imported until a
command needs it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _demo(directory: Path) -> int:
    from .conversation.base import ConversationMessage, ConversationSession
    from .knowledge.base import KnowledgeDocument
    from .registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES

    directory.mkdir(parents=True, exist_ok=True)
    print(f"embedded defaults under {directory}")

    with CONVERSATION_STORES.create("sqlite", path=str(directory / "conversations.db")) as conversations:
        session = conversations.upsert_session(ConversationSession(session_id="demo", user_id="ada", name="Demo chat"))
        conversations.delete_messages(session.session_id)
        for role, content in [("user", "What is 2 + 2?"), ("assistant", "4."), ("user", "Thanks!")]:
            conversations.add_message(session.session_id, ConversationMessage(role=role, content=content))
        recent = conversations.get_messages(session.session_id, limit=2)
        print(f"conversation  sqlite: stored 3 messages in session {session.session_id!r}; the last two:")
        for message in recent:
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
    return 0


def _backends(kind: str | None, as_json: bool) -> int:
    from .registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES

    rows = []
    for registry in (CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES):
        if kind is None or registry.kind == kind:
            rows.extend(registry.describe_all())
    if as_json:
        print(json.dumps([info._asdict() for info in rows], indent=2))
        return 0
    for info in rows:
        aliases = f" ({', '.join(info.aliases)})" if info.aliases else ""
        origin = info.distribution or info.source
        driver = {True: "driver ok", False: "driver missing", None: "-"}[info.driver_installed]
        extra = f"[{info.extra}]" if info.extra else "core"
        status = f"  BROKEN: {info.error}" if info.error else ""
        name = info.name + aliases
        print(f"{info.kind:<12} {name:<48} {origin:<12} {extra:<12} {driver:<15} {info.tier or '-'}{status}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="praisonai-persistence", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="round trips on the embedded defaults")
    demo.add_argument("--path", type=Path, help="directory for the demo's files (default: a temporary one)")
    listing = commands.add_parser("backends", help="list registered backends")
    listing.add_argument("--kind", choices=["conversation", "knowledge", "state"])
    listing.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.path is not None:
            return _demo(args.path)
        with tempfile.TemporaryDirectory(prefix="praisonai-demo-") as directory:
            return _demo(Path(directory))
    return _backends(args.kind, args.json)


if __name__ == "__main__":
    sys.exit(main())
