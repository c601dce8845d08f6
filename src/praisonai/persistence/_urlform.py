"""One parser for every backend's URL: a config declares its URL form, :meth:`UrlSpec.parse` applies it.

A declaration is a :class:`UrlSpec`: the field a plain path fills (text without
``://``), and the :class:`UrlForm` of each group of schemes. A form says which
URL part fills which field, what its scheme implies, which parameters it takes
(renamed and converted), whether its path is a local file (``scheme:///relative``
and ``scheme:////absolute``), and whether the URL itself, or just its endpoint,
is kept in a field::

    url_spec = UrlSpec(
        UrlForm(
            schemes=("redis", "rediss"),
            implies={"redis": {"ssl": False}, "rediss": {"ssl": True}},
            host="host", port="port", username="username", credential="password",
            path="db", convert={"db": number("db", "a database number")},
            query={"db": "db", "key_prefix": "key_prefix"},
        ),
    )

``server_form(*schemes, ...)`` is the usual server parts in short,
``redis_form(query)`` the form above, which both redis configs use,
``local_form(scheme, path)`` an embedded engine's directory, and
``memory_form(path, query)`` the optional file of both ``memory`` configs.

The spec is built once, with the class; parsing a URL is a few dictionary
look-ups. Errors are ``ValueError`` texts without the password; the config
reports them under the field ``url``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from types import MappingProxyType
from typing import Any

from pydantic import SecretStr

from .url import URL, mask_secrets_in_text

__all__ = [
    "Endpoint",
    "Param",
    "UrlForm",
    "UrlSpec",
    "flag",
    "local_form",
    "memory_form",
    "number",
    "redis_form",
    "server_form",
    "valkey_form",
]

Convert = Callable[[str], Any]
Hook = Callable[[URL, dict[str, Any]], None]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_TRUE = ("true", "1", "yes")
_PART_WORDS = {"host": "host", "username": "user", "port": "port", "query": "parameters"}
_FLAGS = (*_TRUE, "false", "0", "no")


def flag(name: str) -> Convert:
    """A URL flag: true/false, 1/0, yes/no, in any case."""

    def convert(value: str) -> bool:
        lowered = value.lower()
        if lowered not in _FLAGS:
            raise ValueError(f"{name} must be true or false, got {value!r:.20}")
        return lowered in _TRUE

    return convert


def number(name: str, what: str = "a number") -> Convert:
    """A whole number written in digits (a redis database number)."""

    def convert(value: str) -> int:
        if not value.isdigit():
            raise ValueError(f"{name} must be {what}, got {value!r:.20}")
        return int(value)

    return convert


@dataclass(frozen=True, slots=True)
class Param:
    """A URL parameter: the field it fills (None: checked, then dropped) and its conversion."""

    field: str | None
    convert: Convert | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A field that keeps ``scheme://host:port`` of the URL (credentials and path go to their own fields)."""

    field: str
    schemes: Mapping[str, str] = dataclass_field(default_factory=dict)
    """URL scheme -> scheme of the endpoint (default: the same)."""
    default_port: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UrlForm:
    """How the URLs of some schemes map onto a config's fields."""

    schemes: tuple[str, ...]
    drivers: bool = False
    """Also ``scheme+driver`` (``postgresql+psycopg``), read as ``scheme``."""
    implies: Mapping[str, Mapping[str, Any]] = dataclass_field(default_factory=dict)
    """Fields a scheme sets before the URL's parts (``rediss`` -> ``ssl=True``)."""
    host: str | None = None
    port: str | None = None
    username: str | None = None
    credential: str | None = None
    """The SecretStr field the URL's password fills."""
    path: str | None = None
    convert: Mapping[str, Convert] = dataclass_field(default_factory=dict)
    """Field -> conversion of its text, from the path or a parameter."""
    query: Mapping[str, str | Param] | None = None
    """Accepted parameter -> field; None: parameters are ignored."""
    local: bool = False
    """The path is a local file or directory: no host, and a path is required (unless ``empty``)."""
    local_refuses: tuple[str, ...] = ("host",)
    """With ``local``: the URL parts refused (``host``, ``username``, ``port``, ``query``)."""
    empty: Any = None
    """With ``local``: the value of an empty path (``chdb://`` -> ``:memory:``)."""
    optional_path: bool = False
    """With ``local``: an empty path leaves the field at its default."""
    rooted: bool = False
    """With ``local``: the path is absolute, as in ``file:///srv/x`` (``scheme:////srv/x`` names the same)."""
    hostless: bool | None = None
    """True: the form applies only to URLs without a host; False: only with one; None: both."""
    endpoint: Endpoint | None = None
    keep: str | None = None
    """Field that keeps the URL itself, without the credentials and parameters the form moved to fields."""
    verbatim: str | None = None
    """Field that keeps the text as given, unparsed (object-store URIs, ``mongodb://``)."""
    text: str | None = None
    """Field that keeps the text as given, once it parsed as a URL."""
    credentials: str | None = None
    """When set, a user or password in the URL is refused with this message."""
    other_params: bool = False
    """Parameters not in ``query`` stay in the ``keep`` URL instead of being refused."""
    hook: Hook | None = None
    """A last conversion of the parsed URL for what the parts above cannot say."""
    _params: Mapping[str, Param] = dataclass_field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.query is not None:
            params = {key: Param(spec) if isinstance(spec, str) else spec for key, spec in self.query.items()}
            object.__setattr__(self, "_params", MappingProxyType(params))

    def fields(self, text: str, parsed: URL, scheme: str) -> dict[str, Any]:
        if self.query is not None and not self.other_params and parsed.query:
            unknown = sorted({key for key, _ in parsed.query if key not in self._params})
            if unknown:
                accepted = ", ".join(sorted(self._params)) or "none"
                raise ValueError(f"unknown URL parameter(s) {', '.join(unknown)}; accepted: {accepted}")
        fields: dict[str, Any] = dict(self.implies.get(scheme, _EMPTY))
        if self.credentials is not None and (parsed.username or parsed.password is not None):
            raise ValueError(self.credentials)
        if self.text is not None:
            fields[self.text] = text
        if self.local:
            self._local(parsed, fields)
        else:
            self._parts(parsed, fields)
        remaining = self._query(parsed, fields)
        if self.endpoint is not None:
            end = self.endpoint
            port = parsed.port if parsed.port is not None else end.default_port
            rendered = URL(scheme=end.schemes.get(scheme, scheme), host=parsed.host, port=port)
            fields[end.field] = rendered.render()
        if self.keep is not None:
            kept = replace(
                parsed,
                username=None if self.username else parsed.username,
                password=None if self.credential else parsed.password,
                query=remaining,
            )
            fields[self.keep] = kept.render(hide_password=False)
        if self.hook is not None:
            self.hook(parsed, fields)
        return fields

    def _local(self, parsed: URL, fields: dict[str, Any]) -> None:
        scheme = parsed.scheme
        forms = (
            f"{scheme}:///absolute/path" if self.rooted else f"{scheme}:///relative/path or {scheme}:////absolute/path"
        )
        if any(getattr(parsed, part) for part in self.local_refuses):
            words = [_PART_WORDS[part] for part in self.local_refuses]
            refused = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
            raise ValueError(f"{scheme} URLs name a local path and take no {refused}: use {forms}")
        if parsed.database:
            path = "/" + parsed.database.lstrip("/") if self.rooted else parsed.database
            fields[self.path or ""] = self._converted(self.path or "", path)
        elif self.empty is not None:
            fields[self.path or ""] = self.empty
        elif not self.optional_path:
            raise ValueError(f"{scheme} URL has no path: use {forms}")

    def _parts(self, parsed: URL, fields: dict[str, Any]) -> None:
        if self.host and parsed.host:
            fields[self.host] = parsed.host
        if self.port and parsed.port is not None:
            fields[self.port] = parsed.port
        if self.username and parsed.username:
            fields[self.username] = parsed.username
        if self.credential and parsed.password is not None:
            fields[self.credential] = SecretStr(parsed.password)
        if self.path and parsed.database:
            fields[self.path] = self._converted(self.path, parsed.database)

    def _query(self, parsed: URL, fields: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        if self.query is None or not parsed.query:
            return parsed.query
        params = self._params
        others = tuple(pair for pair in parsed.query if pair[0] not in params) if self.other_params else ()
        for key, value in parsed.query_dict().items():
            param = params.get(key)
            if param is None:
                continue
            converted = param.convert(value) if param.convert is not None else value
            if param.field is not None:
                fields[param.field] = self._converted(param.field, converted) if param.convert is None else converted
        return others

    def _converted(self, name: str, value: str) -> Any:
        convert = self.convert.get(name)
        return value if convert is None else convert(value)


def server_form(*schemes: str, username: str = "user", path: str = "database", **details: Any) -> UrlForm:
    """The usual form of a server: ``scheme://user:password@host:port/path`` into ``host``, ``port``,
    ``username``, ``password`` and ``path``; ``details`` are the rest of the :class:`UrlForm`."""
    return UrlForm(
        schemes=schemes, host="host", port="port", username=username, credential="password", path=path, **details
    )


def local_form(scheme: str, path: str, **details: Any) -> UrlForm:
    """An embedded engine's directory or file, ``scheme:///relative`` or ``scheme:////absolute``, into ``path``:
    no host, user, port or parameters; ``details`` are the rest of the :class:`UrlForm`."""
    return UrlForm(
        schemes=(scheme,), path=path, local=True, local_refuses=("host", "username", "port", "query"), **details
    )


def memory_form(path: str, query: Mapping[str, str | Param], **details: Any) -> UrlForm:
    """The ``memory`` backends' ``memory://`` (nothing on disk) or ``memory:///srv/file.json`` (an
    absolute path, as in ``file:///``; ``memory:////srv/file.json`` names the same) into ``path``."""
    return UrlForm(
        schemes=("memory",),
        path=path,
        local=True,
        rooted=True,
        optional_path=True,
        local_refuses=("host", "username", "port"),
        query=query,
        **details,
    )


def redis_form(query: Mapping[str, str | Param]) -> UrlForm:
    """redis-py's URLs, ``redis://`` and ``rediss://`` (``ssl``): the path is the database number ``db``."""
    return server_form(
        "redis",
        "rediss",
        username="username",
        path="db",
        implies={"redis": {"ssl": False}, "rediss": {"ssl": True}},
        convert={"db": number("db", "a database number")},
        query=query,
    )


def valkey_form(query: Mapping[str, str | Param]) -> UrlForm:
    """Valkey's URLs: :func:`redis_form` plus ``valkey://`` and ``valkeys://`` (TLS), read the same way."""
    form = redis_form(query)
    return replace(
        form,
        schemes=(*form.schemes, "valkey", "valkeys"),
        implies={**form.implies, "valkey": {"ssl": False}, "valkeys": {"ssl": True}},
    )


class UrlSpec:
    """A config's URL forms, looked up by scheme; built once per class."""

    __slots__ = ("_bare", "_by_scheme", "_expected", "_fallback", "_hosted", "_special", "forms")

    def __init__(
        self,
        *forms: UrlForm,
        bare: str | None = None,
        bare_prefix: str = "",
        fallback: UrlForm | None = None,
        special: Callable[[str], dict[str, Any] | None] | None = None,
    ) -> None:
        """``bare``: the field a text without ``://`` fills (prefixed with ``bare_prefix``);
        ``fallback``: the form of any scheme not declared; ``special``: a conversion of texts
        the forms cannot read (a connection string, a list of hosts), None when it does not apply."""
        self.forms = forms
        self._bare = (bare, bare_prefix)
        self._fallback = fallback
        self._special = special
        self._by_scheme: dict[str, list[UrlForm]] = {}
        for form in forms:
            for scheme in form.schemes:
                self._by_scheme.setdefault(scheme, []).append(form)
        self._hosted = frozenset(scheme for form in forms if form.drivers for scheme in form.schemes)
        named = [f"{scheme}://" for scheme in dict.fromkeys(s for form in forms for s in form.schemes)]
        if bare is not None:
            named.insert(0, "a path")
        self._expected = ", ".join(named[:-1]) + " or " + named[-1] if len(named) > 1 else "".join(named)

    def parse(self, text: str) -> dict[str, Any]:
        """The fields ``text`` stands for; ``ValueError`` when it is not one of the declared forms."""
        if self._special is not None:
            special = self._special(text)
            if special is not None:
                return special
        bare, prefix = self._bare
        if bare is not None and "://" not in text:
            return {bare: prefix + text}
        scheme = text.partition("://")[0].lower()
        forms = self._by_scheme.get(scheme)
        if forms is None and "+" in scheme and scheme.split("+", 1)[0] in self._hosted:
            scheme = scheme.split("+", 1)[0]
            forms = [form for form in self._by_scheme[scheme] if form.drivers]
        if forms is None and self._fallback is not None:
            forms = [self._fallback]
        if forms is None:
            raise ValueError(f"expected {self._expected}, got scheme {mask_secrets_in_text(scheme)!r:.40}")
        if forms[0].verbatim is not None:
            return {forms[0].verbatim: text}
        parsed = URL.parse(text)
        for form in forms:
            if form.hostless is None or form.hostless is not bool(parsed.host):
                return form.fields(text, parsed, scheme)
        raise ValueError(f"expected {self._expected}, got scheme {parsed.scheme!r}")
