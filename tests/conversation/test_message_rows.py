"""The quick row checks (``message_row``, ``message_rows``) against the thorough one, case by case.

The quick paths vouch for ordinary messages without a call per field (a batch column by column);
anything else must reach the thorough check. So for every case, valid or not, alone or in a batch,
the rows, the error (type and message) and the messages' ``session_id`` afterwards are those of
``_checked_message_row`` applied one message after another.
"""

from __future__ import annotations

import copy
import enum
from typing import Any

import pytest

from praisonai.persistence.conversation._sql_operations import ConversationOperations
from praisonai.persistence.conversation._sql_statements import SQLITE, ConversationStatements
from praisonai.persistence.conversation.base import ConversationMessage

SESSION = "session-1"


class _Text(str):
    pass


class _Number(enum.IntEnum):
    ONE = 1


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def _message(**fields: Any) -> ConversationMessage:
    base: dict[str, Any] = {"id": "m-1", "role": "user", "content": "hello", "created_at": 1_700_000_000.5}
    base.update(fields)
    return ConversationMessage(**base)


CASES: dict[str, ConversationMessage | object] = {
    "plain": _message(),
    "metadata": _message(metadata={"model": "gpt", "tokens": 3, "nested": [1, 2.5, None, True, {"a": "b"}]}),
    "tool calls": _message(role="assistant", tool_calls=[{"id": "c1", "type": "function"}], tool_call_id="c0"),
    "unicode": _message(id="idé", role="rôle", content="héllo 🌍", metadata={"k": "v\u2028"}),
    "own session": _message(session_id=SESSION),
    "int created_at": _message(created_at=1_700_000_000),
    "other session": _message(session_id="session-2"),
    "empty id": _message(id=""),
    "long id": _message(id="x" * 256),
    "longest id": _message(id="x" * 255),
    "nul id": _message(id="a\x00b"),
    "surrogate id": _message(id="a\ud800"),
    "int id": _message(id=7),
    "str subclass id": _message(id=_Text("m-1")),
    "empty role": _message(role=""),
    "nul role": _message(role="\x00"),
    "bytes content": _message(content=b"hello"),
    "surrogate content": _message(content="ok \udfff"),
    "nul content": _message(content="a\x00b"),
    "nan created_at": _message(created_at=float("nan")),
    "inf created_at": _message(created_at=float("inf")),
    "bool created_at": _message(created_at=True),
    "str created_at": _message(created_at="now"),
    "int metadata key": _message(metadata={1: "a"}),
    "nan in metadata": _message(metadata={"a": [float("nan")]}),
    "set in metadata": _message(metadata={"a": {1}}),
    "enum in metadata": _message(metadata={"a": _Number.ONE}),
    "huge int in metadata": _message(metadata={"a": 10**5000}),
    "deep metadata": _message(metadata={"a": _deep(199)}),
    "too deep metadata": _message(metadata={"a": _deep(200)}),
    "tuple tool_calls": _message(tool_calls=({"id": "c"},)),
    "bad tool_calls": _message(tool_calls=[object()]),
    "empty tool_call_id": _message(tool_call_id=""),
    "int tool_call_id": _message(tool_call_id=5),
    "not a message": {"id": "m-1"},
}


def _outcome(run: Any, messages: list[Any]) -> tuple[Any, list[Any]]:
    try:
        result: Any = run(messages)
    except Exception as error:
        result = (type(error), str(error))
    return result, [getattr(message, "session_id", None) for message in messages]


def _thorough(ops: ConversationOperations) -> Any:
    return lambda messages: [ops._checked_message_row(SESSION, message) for message in messages]


@pytest.mark.parametrize("name", list(CASES))
def test_one_message_gives_what_the_thorough_check_gives(name: str) -> None:
    ops = ConversationOperations(ConversationStatements(SQLITE, "t_"))
    quick = _outcome(lambda messages: ops.message_row(SESSION, messages[0]), [copy.deepcopy(CASES[name])])
    thorough = _outcome(lambda messages: _thorough(ops)(messages)[0], [copy.deepcopy(CASES[name])])
    assert quick == thorough


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("position", [0, 2])
def test_a_batch_gives_what_the_thorough_check_gives(name: str, position: int) -> None:
    """The case among ordinary messages (first or in the middle): same rows, or the same first error."""
    ops = ConversationOperations(ConversationStatements(SQLITE, "t_"))

    def batch() -> list[Any]:
        items: list[Any] = [_message(id=f"m-{index}", metadata={"i": index}) for index in range(4)]
        items[position] = copy.deepcopy(CASES[name])
        return items

    assert _outcome(lambda messages: ops.message_rows(SESSION, messages), batch()) == _outcome(_thorough(ops), batch())


def test_an_ordinary_batch_is_encoded_as_the_thorough_check_encodes_it() -> None:
    ops = ConversationOperations(ConversationStatements(SQLITE, "t_"))
    messages = [CASES[name] for name in ("plain", "metadata", "tool calls", "unicode", "own session")]
    quick = ops.message_rows(SESSION, copy.deepcopy(messages))  # type: ignore[arg-type]
    assert quick == _thorough(ops)(copy.deepcopy(messages))
    assert quick[1][6] == '{"model":"gpt","tokens":3,"nested":[1,2.5,null,true,{"a":"b"}]}'
