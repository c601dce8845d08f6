"""Base of every built-in backend's pydantic config model.

A config is validated from a URL and keyword options before its adapter module
or driver is imported; every bad field is reported at once in a
:class:`ConfigError`, with secrets (``SecretStr`` fields) masked.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, model_validator
from typing_extensions import Self

from ._catalogue import BY_KIND_AND_NAME, Kind
from ._fields import Identifier, TablePrefix
from ._keywords import AsUrl, Derive, Ignored, Keyword, Rename, ServerPart, compose_servers, env_value
from ._loading import load_object
from ._urlform import UrlSpec
from .errors import ConfigError, FieldError
from .url import has_secret, mask_secrets_in_text

__all__ = ["Identifier", "KindConfig", "StoreConfig", "TablePrefix", "build_store"]

_StoreT = TypeVar("_StoreT")

_SECRET_NAME = re.compile(r"password|passwd|secret|token|api_key|apikey|credential|private_key|access_key")


class StoreConfig(BaseModel):
    """Validated settings of one built-in backend. Immutable; ``repr`` masks secrets."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True, validate_default=True)

    backend: ClassVar[str]
    kind: ClassVar[Kind]
    is_store_config: ClassVar[bool] = True
    url_spec: ClassVar[UrlSpec | None] = None
    """The URL forms the backend accepts (see ``_urlform.py``); None: it takes no URL."""
    keyword_aliases: ClassVar[Mapping[str, Keyword]] = {}
    """Other keyword names accepted: a field name (``schema`` -> ``schema_name``) or a rule (``_keywords.py``)."""
    env_defaults: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Field (or ``url``) -> environment variables read, in turn, when no argument sets it."""
    env_url_excludes: ClassVar[tuple[str, ...]] = ()
    """Keywords that choose another target than a URL: given, the environment's URL is not read."""
    env_with_url: ClassVar[tuple[str, ...]] = ()
    """Fields whose environment default is read only when there is a URL (a remote database's token)."""
    other_keywords: ClassVar[str | None] = None
    """A dict field that collects keywords of no other meaning (passed on to the engine), instead of refusing them."""
    praisonai_keywords: ClassVar[tuple[str, ...]] = ()
    """PraisonAI 4.7.19's keywords for this backend; each is a field or in ``keyword_aliases`` (see the docs table)."""

    @model_validator(mode="after")
    def _no_secret_in_plain_fields(self) -> Self:
        # Only SecretStr fields are masked; a password or token inside any other field would show in repr and logs.
        for name, value in self.__dict__.items():  # the fields' values, without a getattr per name
            if type(value) is str and has_secret(value):
                raise ValueError(
                    f"{name} holds a password or token (a URL password, or a parameter such as password=), "
                    "which would show wherever the config is printed; pass it in its own option"
                )
        return self

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        """The fields a URL stands for, by the class's ``url_spec``."""
        if cls.url_spec is None:
            raise ValueError(f"backend {cls.backend!r} does not take a URL; pass its options as keywords")
        return cls.url_spec.parse(url)

    @classmethod
    def from_options(cls, url: str | None = None, options: Mapping[str, Any] | None = None) -> Self:
        """Validate a URL plus keyword options (options win over URL parts, both over environment defaults)."""
        # PraisonAI's keywords default to None for "not given" (its code then reads the environment).
        options = {
            name: value
            for name, value in (options or {}).items()
            if value is not None or name not in cls.praisonai_keywords
        }
        problems: list[FieldError] = []
        from_env: dict[str, str] = {}  # field -> the environment variable its value came from
        url = cls._url_keyword(url, options, problems)
        if url is None and not set(cls.env_url_excludes) & set(options):
            found = env_value(cls.env_defaults.get("url", ()))
            if found is not None:
                from_env["url"], url = found
        data: dict[str, Any] = {}
        if url is not None and not isinstance(url, str):  # from callers without type checking
            problems.append(FieldError("url", f"must be a str, not {type(url).__name__}"))  # type: ignore[unreachable]
        elif url is not None:
            try:
                data.update(cls.url_fields(url))
            except (ValueError, TypeError) as error:
                note = f" (from environment variable {from_env['url']})" if "url" in from_env else ""
                problems.append(FieldError("url", mask_secrets_in_text(str(error)) + note))
        if "url" in from_env:
            from_env.update(dict.fromkeys(data, from_env["url"]))  # the fields the environment's URL gave
        given = cls._keyword_fields(options, problems, data)
        data.update(given)
        for field in given:
            from_env.pop(field, None)
        for field, names in cls.env_defaults.items():
            if field != "url" and field not in data and (url is not None or field not in cls.env_with_url):
                found = env_value(names)
                if found is not None:
                    from_env[field], data[field] = found
        try:
            config = cls.model_validate(data)
        except ValidationError as error:
            problems.extend(cls._field_errors(error, data, from_env))
            config = None
        if problems or config is None:
            raise ConfigError(cls.backend, problems, kind=cls.kind)
        return config

    @classmethod
    def _url_keyword(cls, url: str | None, options: dict[str, Any], problems: list[FieldError]) -> str | None:
        # A keyword that is the URL under another name (connection_string=) stands for url=.
        for name, keyword in cls.keyword_aliases.items():
            if isinstance(keyword, AsUrl) and name in options:
                value = options.pop(name)
                if url is not None:
                    problems.append(FieldError(name, "is another name of 'url'; give only one of them"))
                else:
                    url = value
        return url

    @classmethod
    def _keyword_fields(
        cls, options: Mapping[str, Any], problems: list[FieldError], from_url: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The fields the keyword options give, by name or through ``keyword_aliases`` (``from_url``: the URL's)."""
        known = cls.model_fields
        aliases = cls.keyword_aliases
        data: dict[str, Any] = {}
        derived: dict[str, Any] = {}
        parts: dict[str, tuple[ServerPart, Any]] = {}
        rest: dict[str, Any] = {}
        for name, value in options.items():
            keyword = aliases.get(name)
            if name in known:
                data[name] = value
            elif keyword is None:
                if cls.other_keywords is not None and not _SECRET_NAME.search(name):  # a secret would show in repr
                    rest[name] = value
                    continue
                close = difflib.get_close_matches(name, [*known, *aliases, "url"], n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(FieldError(name, f"unknown option{hint}; valid options: {', '.join(sorted(known))}"))
            elif isinstance(keyword, Ignored):
                reason = keyword.refuse(value) if keyword.refuse is not None else None
                if reason is not None:
                    problems.append(FieldError(name, f"{reason} (got {value!r:.40})"))
            elif isinstance(keyword, ServerPart):
                parts[name] = (keyword, value)
            else:
                try:
                    if isinstance(keyword, str):
                        fields: Mapping[str, Any] = {keyword: value}
                    elif isinstance(keyword, Rename):
                        fields = {keyword.field: keyword.convert(value)}
                    else:
                        assert isinstance(keyword, Derive)
                        fields = keyword.derive(value, {**from_url, **options})
                except (ValueError, TypeError) as error:
                    problems.append(FieldError(name, mask_secrets_in_text(str(error))))
                    continue
                for field in fields:
                    if field in options and field != name:
                        problems.append(FieldError(name, f"is another name of {field!r}; give only one of them"))
                derived.update(fields)
        if parts:
            try:
                composed = compose_servers(parts)
            except ValueError as error:
                problems.append(FieldError("/".join(parts), str(error)))
                composed = {}
            for field in composed:
                if field in options or field in derived or field in from_url:
                    problems.append(FieldError("/".join(parts), f"build {field!r}; give either them or {field!r}"))
            derived.update(composed)
        if cls.other_keywords is not None and rest:
            given = options.get(cls.other_keywords, {})
            derived[cls.other_keywords] = {**rest, **given} if isinstance(given, Mapping) else given
        return {**derived, **{key: value for key, value in data.items() if key not in derived}}

    @classmethod
    def _field_errors(
        cls, error: ValidationError, data: Mapping[str, Any], from_env: Mapping[str, str]
    ) -> list[FieldError]:
        out = []
        for item in error.errors(include_url=False):
            loc = ".".join(str(part) for part in item["loc"]) or "config"
            message = item["msg"]
            top = str(item["loc"][0]) if item["loc"] else ""
            if top and not cls._is_secret(top) and top in data:
                shown = repr(data[top])
                message += f" (got {shown[:80]}{'...' if len(shown) > 80 else ''})"
            if top in from_env:
                message += f" (from environment variable {from_env[top]})"
            out.append(FieldError(loc, mask_secrets_in_text(message)))
        return out

    @classmethod
    def _is_secret(cls, name: str) -> bool:
        field = cls.model_fields.get(name)
        annotation = repr(field.annotation) if field is not None else ""
        return "SecretStr" in annotation or bool(_SECRET_NAME.search(name))

    def open(self) -> Any:
        """Create the store this config describes (imports the adapter now)."""
        return build_store(self)

    def __str__(self) -> str:
        return repr(self)


# The base of one kind's configs: ``class StateConfig(KindConfig["StateStore"])`` makes mypy see
# ``open() -> StateStore``. Only type checkers see a generic: at run time the subscription is
# StoreConfig itself, whose open() already builds the store, so no parametrized pydantic model
# (a schema build each, milliseconds at import) is made. The store type may be a string, so the
# kind's package names it without importing its base module.
if TYPE_CHECKING:

    class KindConfig(StoreConfig, Generic[_StoreT]):
        def open(self) -> _StoreT:
            return cast(_StoreT, build_store(self))

else:

    class KindConfig:
        def __class_getitem__(cls, store: object) -> type[StoreConfig]:
            return StoreConfig


def build_store(config: StoreConfig) -> Any:
    backend = BY_KIND_AND_NAME[(config.kind, config.backend)]
    adapter = load_object(backend.adapter)
    return adapter(config)


def secret_value(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()
