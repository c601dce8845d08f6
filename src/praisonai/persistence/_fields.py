"""Field types the built-in configs share, each written once.

``Text`` (no NUL character), ``FilePath``, ``HostName``, ``Port`` (1-65535), ``Seconds``
(positive, at most an hour) and ``LongSeconds`` (at most a day), ``KeyPrefix``
(a key-value store's key prefix), ``Identifier`` (a SQL name) and
``TablePrefix``; :func:`matching` builds their pattern checks and
:func:`needs` the "set only with" rules; :func:`libpq_seconds` turns ``Seconds``
into the whole seconds libpq takes. Secrets are
pydantic's ``SecretStr``; URL flags and numbers are converted by
``_urlform.flag`` and ``_urlform.number``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from .url import URL

__all__ = [
    "FilePath",
    "HostName",
    "Identifier",
    "KeyPrefix",
    "TablePrefix",
    "LongSeconds",
    "Port",
    "Seconds",
    "Text",
    "https_url",
    "libpq_seconds",
    "matching",
    "needs",
    "no_nul",
]


def matching(pattern: str, message: str) -> Callable[[str], str]:
    """A field validator: the value must match ``pattern`` (a regular expression), else ``message``."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(message)
        return value

    return check


def needs(field: str, other: str, message: str) -> Any:
    """A validator for a config class body: ``field`` may be set only when ``other`` (declared before it) is."""

    def check(cls: type, value: Any, info: ValidationInfo) -> Any:
        if value is not None and other in info.data and info.data[other] is None:
            raise ValueError(message)
        return value

    return field_validator(field)(classmethod(check))


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _path(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return no_nul(value)


_identifier = matching(
    r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", "must be a letter or _ followed by up to 62 letters, digits or _"
)
_prefix = matching(r"^[A-Za-z0-9_]{0,32}$", "must be at most 32 letters, digits or _")
_host = matching(r"^[A-Za-z0-9.:\[\]_-]{1,253}$", "must be a host name or address")


def https_url(value: str | None, *, credentials: str = "credentials as their own fields") -> str | None:
    """An ``http(s)://`` URL with a host and no credentials (a REST endpoint); ``credentials`` says where they go."""
    if value is None:
        return None
    parsed = URL.parse(value)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError("expected an http:// or https:// URL with a host")
    if parsed.username is not None or parsed.password is not None:
        raise ValueError(f"pass {credentials}, not inside the url")
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]
"""A SQL identifier we may interpolate: letters, digits and underscores."""
TablePrefix = Annotated[str, AfterValidator(_prefix)]
"""A table-name prefix: up to 32 letters, digits and underscores."""
Text = Annotated[str, AfterValidator(no_nul)]
"""Text without a NUL character (drivers cut or refuse it)."""
FilePath = Annotated[str, AfterValidator(_path)]
"""A local file or directory: not empty, no NUL character."""
HostName = Annotated[str, AfterValidator(_host)]
"""A host name or address: letters, digits, ``.``, ``:``, ``[]``, ``_`` and ``-``."""
Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=3600)]


def libpq_seconds(seconds: float) -> int:
    """``connect_timeout`` for libpq, which counts whole seconds and refuses less than 2: rounded up,
    so that a connection never waits less than asked (2.4 s waits 3)."""
    return max(2, math.ceil(seconds))


"""A timeout: positive, at most an hour."""
LongSeconds = Annotated[float, Field(gt=0, le=86400)]
"""A long wait: positive, at most a day."""
KeyPrefix = Annotated[str, Field(max_length=256), AfterValidator(no_nul)]
"""Prepended to every key the store writes; keys() lists only keys under it."""
