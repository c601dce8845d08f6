"""Backends as named on the command line (``BACKEND[:URL]`` plus ``key=value`` options), and opening them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import UsageError

if TYPE_CHECKING:
    from ..registry import StoreRegistry


class Endpoint(NamedTuple):
    """A backend name with its URL and options, as given on the command line."""

    backend: str
    url: str | None
    options: dict[str, Any]

    def describe(self) -> str:
        from ..url import mask_secrets_in_text

        return self.backend + (f" at {mask_secrets_in_text(self.url)}" if self.url else "")

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of the registry's ``create`` and ``validate``."""
        return {**self.options, **({"url": self.url} if self.url is not None else {})}


def registry_of(kind: str) -> StoreRegistry[Any]:
    from ..registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES

    registries: dict[str, StoreRegistry[Any]] = {
        "conversation": CONVERSATION_STORES,
        "knowledge": KNOWLEDGE_STORES,
        "state": STATE_STORES,
    }
    return registries[kind]


def parse_options(pairs: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """``key=value`` gives the string value (configs convert it); ``key:=json`` a JSON value."""
    options: dict[str, Any] = {}
    for pair in pairs or ():
        key, separator, value = pair.partition("=")
        if not separator or not key or key == ":":
            raise UsageError(f"{flag} takes key=value (or key:=<JSON>), not {pair!r}")
        if key.endswith(":"):
            key = key[:-1]
            try:
                options[key] = json.loads(value)
            except ValueError as error:
                raise UsageError(f"{flag} {key}:= needs a JSON value ({error})") from None
        else:
            options[key] = value
    return options


def parse_endpoint(text: str, options: dict[str, Any], flag: str) -> Endpoint:
    """``BACKEND``, ``BACKEND:URL``, or a URL whose scheme is the backend (``sqlite:///chat.db``)."""
    backend, separator, rest = text.partition(":")
    if not backend:
        raise UsageError(f"{flag} needs BACKEND or BACKEND:URL, not {text!r}")
    url: str | None = None
    if separator:
        url = text if rest.startswith("//") else rest
    return Endpoint(backend, url or None, options)


# Config fields naming the local file or directory a store keeps its data in.
LOCAL_DATA_FIELDS = ("path", "snapshot_path", "uri", "chdb_path")


def missing_local_data(kind: str, endpoint: Endpoint) -> str | None:
    """The local file or directory ``endpoint``'s data lives in, when it does not exist; else None.

    Opening a local store creates its file, so a mistyped ``--from`` would export an empty
    store and report success: a source is checked before it is opened.
    """
    config = registry_of(kind).validate(endpoint.backend, **endpoint.arguments())
    return next((str(path) for path in local_data_paths(config) if not path.exists()), None)


def local_data_paths(config: Any) -> list[Path]:
    """The local files or directories a validated config keeps its data in (none for a server or ``:memory:``)."""
    paths: list[Path] = []
    for name in LOCAL_DATA_FIELDS:
        value = getattr(config, name, None)
        if isinstance(value, str) and value != ":memory:" and "://" not in value and not value.startswith("file:"):
            paths.append(Path(value).expanduser())
    return paths


PRAISONAI_SOURCE = "praisonai-"
"""``praisonai-chroma:PATH`` (lancedb, qdrant; or a server URL): what PraisonAI 4.7 wrote, as a knowledge source."""


def open_store(kind: str, endpoint: Endpoint, *, source: bool = False) -> Any:
    """Open ``endpoint``'s store; a ``source`` whose local data does not exist is a :class:`UsageError`."""
    if endpoint.backend.startswith(PRAISONAI_SOURCE):
        from ..transfer.praisonai import open_praisonai_knowledge

        options = dict(endpoint.options)
        location = endpoint.url or options.pop("path", None)
        if kind != "knowledge" or not location:
            raise UsageError(
                f"{endpoint.backend} is a knowledge source and takes a folder or URL: {endpoint.backend}:PATH"
            )
        return open_praisonai_knowledge(endpoint.backend.removeprefix(PRAISONAI_SOURCE), location, **options)
    if source:
        missing = missing_local_data(kind, endpoint)
        if missing is not None:
            raise UsageError(f"the source {endpoint.describe()} has no data: {missing!r} does not exist")
    return registry_of(kind).create(endpoint.backend, **endpoint.arguments())


def close_quietly(store: Any) -> None:
    from ..transfer._sync_view import SyncStores

    stores = SyncStores()
    stores.adopt(store, "close")
    stores.close()
