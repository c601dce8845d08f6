"""What the MongoDB configs share: the connection URL and its credentials, written once.

The ``mongodb`` and ``async_mongodb`` state configs and the ``mongodb_vector``
knowledge config take ``mongodb://`` or ``mongodb+srv://`` URLs, which may
list several hosts (so the URL is kept whole for pymongo). A user and password
inside it move to the ``username`` and ``password`` fields, so that the stored
URL never holds the password; its path names the database.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import unquote

from pydantic import Field, SecretStr, model_validator

from ._config import StoreConfig
from ._urlform import UrlForm, UrlSpec

__all__ = ["MONGO_DATABASE", "MongoSettings"]

_MONGO_URL = re.compile(r"^(?P<scheme>mongodb(?:\+srv)?)://(?:(?P<userinfo>[^@/]*)@)?(?P<rest>[^@]*)$")
MONGO_DATABASE = r"^[^/\\. \"$*<>:|?\x00]{1,63}$"
"""A MongoDB database name."""


class MongoSettings(StoreConfig):
    """A MongoDB deployment: its URL, credentials and database."""

    url_spec: ClassVar[UrlSpec | None] = UrlSpec(UrlForm(schemes=("mongodb", "mongodb+srv"), verbatim="url"))

    url: str = "mongodb://127.0.0.1:27017"
    """``mongodb://`` or ``mongodb+srv://``; a user and password in it move to the fields below."""
    username: str | None = None
    password: SecretStr | None = None
    database: str = Field(default="praisonai", pattern=MONGO_DATABASE)

    @model_validator(mode="before")
    @classmethod
    def _move_credentials(cls, data: Any) -> Any:
        # The password must never stay in the URL, where repr() would show it.
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return data
        match = _MONGO_URL.match(data["url"])
        if match is None:
            raise ValueError("expected mongodb://host[:port][,host...]/[database][?options] or mongodb+srv://")
        data = dict(data)
        userinfo = match["userinfo"]
        if userinfo is not None:
            user, has_password, password = userinfo.partition(":")
            if user:
                data.setdefault("username", unquote(user))
            if has_password:
                data.setdefault("password", SecretStr(unquote(password)))
            data["url"] = f"{match['scheme']}://{match['rest']}"
        path = match["rest"].partition("?")[0].partition("/")[2]
        if path:
            data.setdefault("database", unquote(path))
        return data
