"""The redis stores' quick batch checks (``get_many``/``set_many`` keys and values) against the
thorough ones: the same stored keys and JSON texts for ordinary batches, and for any doubtful item
the thorough path, so the same error (type and message) as checking item by item."""

from __future__ import annotations

from typing import Any

import pytest

from praisonai.persistence._values import dump_json
from praisonai.persistence.state._redis_commands import RedisCommandsStateStore


class _Keys(RedisCommandsStateStore):
    backend = "redis"
    _client = None

    def _get_pipelined(self, keys: list[str]) -> list[str | None]:
        raise NotImplementedError

    def _set_atomically(self, items: list[tuple[str, str]], px: int | None) -> None:
        raise NotImplementedError

    def _scan_page(self, cursor: int, match: str) -> tuple[int, list[str]]:
        raise NotImplementedError

    def _shutdown(self) -> None:
        raise NotImplementedError


class _Text(str):
    pass


ODD_KEYS: list[Any] = ["", "k" * 1025, "a\x00b", "a\ud800", 5, _Text("k"), None]
ODD_VALUES: list[Any] = [{1: "a"}, float("nan"), [float("inf")], {"a": {1, 2}}, 10**5000, object()]


def _outcome(run: Any) -> Any:
    try:
        return run()
    except Exception as error:
        return (type(error), str(error))


@pytest.mark.parametrize("odd", [*ODD_KEYS, "k" * 1024, "ключ"], ids=repr)
def test_get_many_keys_are_checked_as_one_by_one(odd: Any) -> None:
    store = _Keys("p:")
    keys = ["a", odd, "b", "a"]
    quick = _outcome(lambda: store._stored_keys(keys))
    thorough = _outcome(lambda: {key: store._stored(key) for key in keys})
    assert quick == thorough


@pytest.mark.parametrize(
    "odd", [*ODD_VALUES, None, "é", [1, (2, 3)], {"deep": [[[]]]}], ids=lambda value: type(value).__name__
)
@pytest.mark.parametrize("odd_key", [None, "", 5], ids=repr)
def test_set_many_items_are_checked_as_one_by_one(odd: Any, odd_key: Any) -> None:
    store = _Keys("p:")
    items: dict[Any, Any] = {"a": {"x": 1}, "b": odd, "c": [1.5, None]}
    if odd_key is not None:
        items[odd_key] = 1

    def quick() -> Any:
        encoded = store._quick_encoded(items)
        return [(store._stored(key), dump_json(value)) for key, value in items.items()] if encoded is None else encoded

    assert _outcome(quick) == _outcome(lambda: [(store._stored(key), dump_json(value)) for key, value in items.items()])
    if odd_key is None and odd in (None, "é"):
        assert store._quick_encoded(items) is not None  # ordinary items take the quick path
