"""Base of every built-in backend's pydantic config model.

A config is validated from a URL and keyword options before its adapter module
or driver is imported; every bad field is reported at once in a
:class:`ConfigError`, with secrets (``SecretStr`` fields) masked.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, model_validator
from typing_extensions import Self

from ._catalogue import BY_KIND_AND_NAME, Kind
from ._fields import Identifier, TablePrefix
from ._loading import load_object
from ._urlform import UrlSpec
from .errors import ConfigError, FieldError
from .url import has_secret, mask_secrets_in_text

__all__ = ["Identifier", "StoreConfig", "TablePrefix", "build_store"]

_SECRET_NAME = re.compile(r"password|passwd|secret|token|api_key|apikey|credential|private_key|access_key")


class StoreConfig(BaseModel):
    """Validated settings of one built-in backend. Immutable; ``repr`` masks secrets."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True, validate_default=True)

    backend: ClassVar[str]
    kind: ClassVar[Kind]
    is_store_config: ClassVar[bool] = True
    url_spec: ClassVar[UrlSpec | None] = None
    """The URL forms the backend accepts (see ``_urlform.py``); None: it takes no URL."""
    keyword_aliases: ClassVar[Mapping[str, str]] = {}
    """Other names accepted for fields as keyword options (``schema`` -> ``schema_name``)."""

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
        """Validate a URL plus keyword options (options win over URL parts)."""
        options = options or {}
        data: dict[str, Any] = {}
        problems: list[FieldError] = []
        if url is not None and not isinstance(url, str):  # from callers without type checking
            problems.append(FieldError("url", f"must be a str, not {type(url).__name__}"))  # type: ignore[unreachable]
        elif url is not None:
            try:
                data.update(cls.url_fields(url))
            except (ValueError, TypeError) as error:
                problems.append(FieldError("url", mask_secrets_in_text(str(error))))
        known = cls.model_fields
        aliases = cls.keyword_aliases
        for name, value in options.items():
            if name in known:
                data[name] = value
            elif name in aliases:
                field = aliases[name]
                if field in options:
                    problems.append(FieldError(name, f"is another name of {field!r}; give only one of them"))
                else:
                    data[field] = value
            else:
                close = difflib.get_close_matches(name, [*known, *aliases, "url"], n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(FieldError(name, f"unknown option{hint}; valid options: {', '.join(sorted(known))}"))
        try:
            config = cls.model_validate(data)
        except ValidationError as error:
            problems.extend(cls._field_errors(error, data))
            config = None
        if problems or config is None:
            raise ConfigError(cls.backend, problems, kind=cls.kind)
        return config

    @classmethod
    def _field_errors(cls, error: ValidationError, data: Mapping[str, Any]) -> list[FieldError]:
        out = []
        for item in error.errors(include_url=False):
            loc = ".".join(str(part) for part in item["loc"]) or "config"
            message = item["msg"]
            top = str(item["loc"][0]) if item["loc"] else ""
            if top and not cls._is_secret(top) and top in data:
                shown = repr(data[top])
                message += f" (got {shown[:80]}{'...' if len(shown) > 80 else ''})"
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


def build_store(config: StoreConfig) -> Any:
    backend = BY_KIND_AND_NAME[(config.kind, config.backend)]
    adapter = load_object(backend.adapter)
    return adapter(config)


def secret_value(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()
