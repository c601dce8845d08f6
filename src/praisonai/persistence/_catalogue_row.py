"""The shape of one row of the catalogue of built-in backends, and the row makers.

The rows themselves live in ``_catalogue_<kind>.py``, one module per kind;
``_catalogue.py`` joins them into the one table. Importing this module imports
nothing but ``_typing_lite``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _typing_lite.py)
if TYPE_CHECKING:
    from functools import partial
    from typing import Literal, NamedTuple, TypeAlias

    Kind: TypeAlias = Literal["conversation", "knowledge", "state", "embedder"]
    Tier: TypeAlias = Literal["server", "embedded", "vendor-emulator", "emulator", "wire", "fake"]
else:
    from _functools import partial  # functools' own C partial, without importing functools at start-up

    from ._typing_lite import NamedTuple

P = "praisonai.persistence"  # the package that config and adapter paths start with


class BuiltinBackend(NamedTuple):
    """One built-in backend: where its config and adapter live and what it needs."""

    name: str
    kind: Kind
    config: str  # "module:Class" of its pydantic config model
    adapter: str  # "module:Class" of its store
    summary: str
    tier: Tier
    tested_with: str  # what the test suite runs it against
    aliases: tuple[str, ...] = ()
    extra: str | None = None  # pip extra; None when the standard library suffices
    requirements: tuple[str, ...] = ()  # what the extra installs
    drivers: tuple[str, ...] = ()  # modules the adapter imports
    is_async: bool = False


def row_maker(kind: Kind) -> partial[BuiltinBackend]:
    """The row maker of one kind, so that a row states only its own facts."""
    return partial(BuiltinBackend, kind=kind)
