"""mypy sees the precise store type of every create() call, and rejects wrong config types."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from praisonai.persistence import registry
from praisonai.persistence._catalogue import BUILTINS

USAGE = Path(__file__).parent / "typing" / "usage.py"
ROOT = Path(__file__).parent.parent

EXPECTED_REVEALS = {
    "R1": "praisonai.persistence.conversation.base.ConversationStore",
    "R2": "praisonai.persistence.conversation.base.AsyncConversationStore",
    "R3": "praisonai.persistence.conversation.base.AsyncConversationStore",
    "R4": "praisonai.persistence.conversation.base.ConversationStore",
    "R5": "praisonai.persistence.conversation.base.AsyncConversationStore",
    "R6": "praisonai.persistence.conversation.base.ConversationStore | praisonai.persistence.conversation.base.AsyncConversationStore",
    "R7": "praisonai.persistence.state.base.StateStore",
    "R8": "praisonai.persistence.state.base.StateStore",
    "R9": "praisonai.persistence.knowledge.base.KnowledgeStore | praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R10": "praisonai.persistence.state.base.StateStore",
    "R11": "list[praisonai.persistence.conversation.base.ConversationMessage]",
    "R12": "praisonai.persistence.embedders.base.Embedder",
    "R13": "praisonai.persistence.embedders.base.Embedder",
    "R14": "praisonai.persistence.embedders.base.Embedder | praisonai.persistence.embedders.base.AsyncEmbedder",
    "R15": "praisonai.persistence.knowledge.text.TextKnowledgeStore",
    "R16": "praisonai.persistence.knowledge.text.TextKnowledgeStore",
    "R17": "list[praisonai.persistence.knowledge.base.KnowledgeDocument]",
    "R18": "list[praisonai.persistence.knowledge.base.KnowledgeDocument]",
    "R19": "list[praisonai.persistence.knowledge.base.KnowledgeDocument]",
    "R20": "list[list[float]]",
    "R21": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R22": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R23": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R24": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R25": "praisonai.persistence.knowledge.configs.AsyncKnowledgeConfig",
    "R26": "praisonai.persistence.knowledge.base.KnowledgeStore",
    "R29": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R30": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R31": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R32": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R33": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R40": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R34": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
    "R41": "praisonai.persistence.conversation.configs.ConversationConfig",
    "R42": "praisonai.persistence.conversation.configs.AsyncConversationConfig",
    "R43": "praisonai.persistence.state.configs.StateConfig",
    "R44": "praisonai.persistence.state.configs.AsyncStateConfig",
    "R45": "praisonai.persistence.state.base.AsyncStateStore",
    "R46": "praisonai.persistence.state.configs.StateConfig | praisonai.persistence.state.configs.AsyncStateConfig | None",
    "R28": "praisonai.persistence.knowledge.text.AsyncTextKnowledgeStore",
    "R27": "typing.Coroutine[Any, Any, list[praisonai.persistence.knowledge.base.KnowledgeDocument]]",
    "R101": "praisonai.persistence.conversation.base.ConversationStore",
    "R102": "praisonai.persistence.conversation.base.AsyncConversationStore",
    "R103": "praisonai.persistence.conversation.base.AsyncConversationStore",
    "R104": "praisonai.persistence.conversation.base.ConversationStore | praisonai.persistence.conversation.base.AsyncConversationStore",
    "R105": "praisonai.persistence.state.base.StateStore",
    "R106": "praisonai.persistence.state.base.AsyncStateStore",
    "R107": "praisonai.persistence.knowledge.base.KnowledgeStore",
    "R108": "praisonai.persistence.knowledge.base.AsyncKnowledgeStore",
}
EXPECTED_ERRORS = {"E1", "E2", "E3", "E4", "E5", "E6", "E7"}


@pytest.fixture(scope="module")
def mypy_output() -> dict[int, list[str]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(ROOT / "mypy.ini"),
            "--no-incremental",
            str(USAGE),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    by_line: dict[int, list[str]] = {}
    for line in result.stdout.splitlines():
        match = re.match(rf"{re.escape(str(USAGE.relative_to(ROOT)))}:(\d+): (.*)", line)
        if match:
            by_line.setdefault(int(match.group(1)), []).append(match.group(2))
    return by_line


def test_reveal_types(mypy_output: dict[int, list[str]]) -> None:
    lines = USAGE.read_text().splitlines()
    seen = set()
    for number, text in enumerate(lines, 1):
        tag = re.search(r"# (R\d+)$", text)
        if tag is None:
            continue
        seen.add(tag.group(1))
        notes = " ".join(mypy_output.get(number, [])).replace("builtins.", "")
        assert f'Revealed type is "{EXPECTED_REVEALS[tag.group(1)]}"' in notes, (tag.group(1), notes)
    assert seen == set(EXPECTED_REVEALS)


def test_wrong_config_types_are_type_errors(mypy_output: dict[int, list[str]]) -> None:
    lines = USAGE.read_text().splitlines()
    errors_by_tag = {}
    for number, text in enumerate(lines, 1):
        tag = re.search(r"# (E\d+):", text)
        if tag:
            errors_by_tag[tag.group(1)] = [m for m in mypy_output.get(number, []) if m.startswith("error:")]
    assert set(errors_by_tag) == EXPECTED_ERRORS
    for tag, errors in errors_by_tag.items():
        assert errors, f"{tag} should be a type error"
    only_expected = {n for n, msgs in mypy_output.items() if any(m.startswith("error:") for m in msgs)}
    tagged = {n for n, text in enumerate(lines, 1) if re.search(r"# E\d+:", text)}
    assert only_expected == tagged, "no other line of the typed usage may be an error"


def test_typed_names_match_the_catalogue() -> None:
    sync_conversation = {
        name for b in BUILTINS if b.kind == "conversation" and not b.is_async for name in (b.name, *b.aliases)
    }
    async_conversation = {
        name for b in BUILTINS if b.kind == "conversation" and b.is_async for name in (b.name, *b.aliases)
    }
    sync_state = {name for b in BUILTINS if b.kind == "state" and not b.is_async for name in (b.name, *b.aliases)}
    async_state = {name for b in BUILTINS if b.kind == "state" and b.is_async for name in (b.name, *b.aliases)}
    assert set(get_args(registry.SyncConversationName)) == sync_conversation
    assert set(get_args(registry.AsyncConversationName)) == async_conversation
    assert set(get_args(registry.SyncStateName)) == sync_state
    assert set(get_args(getattr(registry, "AsyncStateName", None)) or ()) == async_state
    knowledge = {name for b in BUILTINS if b.kind == "knowledge" and not b.is_async for name in (b.name, *b.aliases)}
    async_knowledge = {name for b in BUILTINS if b.kind == "knowledge" and b.is_async for name in (b.name, *b.aliases)}
    assert set(get_args(registry.SyncKnowledgeName)) == knowledge
    assert set(get_args(registry.AsyncKnowledgeName)) == async_knowledge
    embedders = {name for b in BUILTINS if b.kind == "embedder" for name in (b.name, *b.aliases)}
    assert set(get_args(registry.SyncEmbedderName)) == embedders
    assert not any(b.is_async for b in BUILTINS if b.kind == "embedder")  # else: an AsyncEmbedderName
