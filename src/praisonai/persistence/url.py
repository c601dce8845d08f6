"""Connection URLs as immutable values: parsed once, rendered with the password hidden.

>>> url = URL.parse("postgresql://app:s3cret@db.example:6432/chat?sslmode=require")
>>> url.host, url.port, url.database, url.query_dict()["sslmode"]
('db.example', 6432, 'chat', 'require')
>>> str(url)
'postgresql://app:***@db.example:6432/chat?sslmode=require'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

__all__ = ["URL", "has_secret", "mask_secrets_in_text"]

_MASK = "***"
# scheme://user:password@ -- the password part of any URL inside free text, also without a scheme
# ("://u:p@h" is still a password) and up to the last "@" of the URL (as urlsplit reads "u:p@ss@h").
_URL_PASSWORD = re.compile(r"(?P<head>(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//[^\s:/@]*:)(?P<password>[^\s'\"]+)(?P<at>@)")
# token=..., api_key=..., password=... in query strings and option dumps.
_SECRET_PARAM = re.compile(
    r"(?P<key>(?:password|passwd|pwd|secret|token|api_key|apikey|auth_token|access_key|secret_key)[\"']?\s*[=:]\s*[\"']?)"
    r"(?P<value>[^\s&\"',;)}]+)",
    re.IGNORECASE,
)


def has_secret(text: str) -> bool:
    """Whether ``text`` holds what :func:`mask_secrets_in_text` would hide: a URL password, ``token=...``."""
    if "@" not in text and "=" not in text and ":" not in text:
        return False  # both patterns need one of these: most config values are decided without a regex
    return _URL_PASSWORD.search(text) is not None or _SECRET_PARAM.search(text) is not None


def mask_secrets_in_text(text: str) -> str:
    """Hide URL passwords and ``token=...``-style values inside free text."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{_MASK}{m['at']}", text)
    return _SECRET_PARAM.sub(lambda m: f"{m['key']}{_MASK}", text)


@dataclass(frozen=True, slots=True)
class URL:
    """A parsed connection URL. ``str()`` and ``repr()`` never show the password."""

    scheme: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    database: str | None = None
    query: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> URL:
        """Parse ``scheme://user:password@host:port/database?key=value``.

        Raises ``ValueError`` (without echoing the password) when the text is not a URL.
        """
        if not isinstance(text, str):
            raise ValueError(f"a URL must be a string, not {type(text).__name__}")
        if "://" not in text:
            raise ValueError(f"not a URL (expected scheme://...): {mask_secrets_in_text(text)!r}")
        parts = urlsplit(text)
        if not parts.scheme:
            raise ValueError(f"URL has no scheme: {mask_secrets_in_text(text)!r}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"URL port is not a number in 0-65535: {mask_secrets_in_text(text)!r}") from None
        path = unquote(parts.path)
        # scheme:///relative and scheme:////absolute, as SQLAlchemy spells file paths.
        database = path[1:] if path.startswith("/") else path
        return cls(
            scheme=parts.scheme.lower(),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            host=parts.hostname or None,
            port=port,
            database=database or None,
            query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
        )

    def query_dict(self) -> dict[str, str]:
        """The query parameters; the last one wins when a key repeats."""
        return dict(self.query)

    def with_password(self, password: str | None) -> URL:
        return replace(self, password=password)

    def render(self, *, hide_password: bool = True) -> str:
        """The URL as text; the password is shown only with ``hide_password=False``."""
        netloc = ""
        if self.username is not None:
            netloc += quote(self.username, safe="")
            if self.password is not None:
                netloc += ":" + (_MASK if hide_password else quote(self.password, safe=""))
            netloc += "@"
        if self.host is not None:
            netloc += f"[{self.host}]" if ":" in self.host else self.host
        if self.port is not None:
            netloc += f":{self.port}"
        text = f"{self.scheme}://{netloc}"
        if self.database is not None:
            text += "/" + quote(self.database, safe="/:")
        if self.query:
            query = urlencode(self.query)
            text += "?" + (mask_secrets_in_text(query) if hide_password else query)
        return text

    def __str__(self) -> str:
        return self.render()
