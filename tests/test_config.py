"""Config validation, secrets masking, URLs and driver import errors."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from praisonai.persistence._config import Identifier, StoreConfig
from praisonai.persistence._loading import import_driver
from praisonai.persistence._urlform import Param, UrlForm, UrlSpec, flag, number
from praisonai.persistence.errors import ConfigError, DriverImportError, MissingDriverError
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.url import URL, mask_secrets_in_text


class DemoConfig(StoreConfig):
    """A config with every kind of field a server backend has."""

    backend: ClassVar[str] = "demo"
    kind: ClassVar[Any] = "state"

    host: str = "localhost"
    port: int = 5432
    user: str | None = None
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    schema_name: Identifier = "public"

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        fields: dict[str, Any] = {"host": parsed.host, "user": parsed.username, "password": parsed.password}
        if parsed.port is not None:
            fields["port"] = parsed.port
        return {key: value for key, value in fields.items() if value is not None}


SECRET = "s3cr3t-P@ss"


def test_url_fields_and_options_merge() -> None:
    config = DemoConfig.from_options(f"demo://app:{SECRET}@db.example:6432/x", {"schema_name": "chat"})
    assert (config.host, config.port, config.user, config.schema_name) == ("db.example", 6432, "app", "chat")
    assert config.password is not None and config.password.get_secret_value() == SECRET


def test_secrets_never_appear_in_repr_str_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    config = DemoConfig.from_options(f"demo://app:{SECRET}@db.example/x", {"api_key": SECRET})
    for text in (repr(config), str(config), repr(config.model_dump())):
        assert SECRET not in text
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ConfigError) as caught:
            DemoConfig.from_options(f"demo://app:{SECRET}@db.example:99999/x", {"password": 12345, "api_key": [SECRET]})
        logging.getLogger("test").error("failed: %s", caught.value)
    message = str(caught.value)
    assert SECRET not in message and "12345" not in message
    assert SECRET not in caplog.text
    assert {error.field for error in caught.value.errors} == {"url", "password", "api_key"}


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        DemoConfig.from_options(None, {"port": "many", "schema_name": "x; DROP TABLE t", "hots": "h"})
    fields = [error.field for error in caught.value.errors]
    assert sorted(fields) == ["hots", "port", "schema_name"]
    message = str(caught.value)
    assert "backend 'demo'" in message and "(3 errors)" in message
    assert "did you mean 'host'" in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        (f"postgresql://user:{SECRET}@host/db", SECRET),
        (f"error connecting with password={SECRET} and more", SECRET),
        (f"{{'api_key': '{SECRET}'}}", SECRET),
        (f"token: {SECRET}", SECRET),
    ],
)
def test_mask_secrets_in_text(text: str, hidden: str) -> None:
    assert hidden not in mask_secrets_in_text(text)


def test_url_value_object() -> None:
    url = URL.parse("PostgreSQL://us%40er:p%3Ass@[::1]:6432/my%20db?sslmode=require&token=abc")
    assert (url.scheme, url.username, url.password, url.host, url.port, url.database) == (
        "postgresql",
        "us@er",
        "p:ss",
        "::1",
        6432,
        "my db",
    )
    assert url.query_dict() == {"sslmode": "require", "token": "abc"}
    assert "p:ss" not in str(url) and "p%3Ass" not in repr(url) and "abc" not in str(url)
    assert URL.parse(url.render(hide_password=False)) == url
    for bad in ("no-scheme", "://x", "redis://host:notaport"):
        with pytest.raises(ValueError):
            URL.parse(bad)


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # import asyncpg now raises ModuleNotFoundError
    with pytest.raises(ImportError) as caught:
        CONVERSATION_STORES.create("async_postgres", url="postgresql://127.0.0.1/test")
    error = caught.value
    assert type(error) is MissingDriverError
    assert 'pip install "praisonai-persistence[postgres]"' in str(error) and "not installed" in str(error)
    assert (error.backend, error.driver, error.extra) == ("async_postgres", "asyncpg", "postgres")


def test_driver_that_fails_to_import_is_told_apart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "brokendriver").mkdir()
    (tmp_path / "brokendriver" / "__init__.py").write_text("import no_such_dependency_xyz\n")
    (tmp_path / "explodingdriver.py").write_text("raise OSError('libfoo.so: cannot open shared object file')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DriverImportError) as caught:
        import_driver("brokendriver", backend="demo", extra="demo")
    assert "installed but failed to import" in str(caught.value)
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)
    with pytest.raises(DriverImportError, match=r"libfoo\.so"):
        import_driver("explodingdriver", backend="demo", extra="demo")
    with pytest.raises(MissingDriverError) as missing:
        import_driver("definitely_not_installed_xyz", backend="demo", extra="demo")
    assert type(missing.value) is MissingDriverError


def test_a_url_without_scheme_or_with_an_at_in_the_password_is_masked() -> None:
    for text in (f"://user:{SECRET}@host/db", f"//user:{SECRET}@host", f"postgresql://user:{SECRET}@extra@host/db"):
        assert SECRET not in mask_secrets_in_text(text)
    with pytest.raises(ConfigError) as caught:
        DemoConfig.from_options(f"://app:{SECRET}@db.example/x")
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("url", [0, b"demo://h", ["demo://h"], {"url": "demo://h"}])
def test_a_url_that_is_not_a_str_is_a_config_error(url: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        DemoConfig.from_options(url)
    assert [error.field for error in caught.value.errors] == ["url"]
    assert "must be a str" in str(caught.value)


def test_a_password_inside_a_plain_field_is_refused_unseen() -> None:
    # Only SecretStr fields are masked: a URL with a password in any other field would show in repr.
    with pytest.raises(ConfigError) as caught:
        DemoConfig.from_options(None, {"host": f"gs://user:{SECRET}@bucket"})
    assert "host holds a password or token" in str(caught.value)
    assert SECRET not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        DemoConfig.from_options(None, {"host": f"mongodb://h/?tlsCertificateKeyFilePassword={SECRET}"})
    assert SECRET not in str(caught.value)
    assert DemoConfig.from_options(None, {"host": "gs://bucket/prefix"}).host == "gs://bucket/prefix"


# -- the declarative URL parser (_urlform.py) ----------------------------------------------------------------------


class DeclaredConfig(StoreConfig):
    """A config that declares its URL forms and keyword aliases instead of parsing URLs itself."""

    backend: ClassVar[str] = "declared"
    kind: ClassVar[Any] = "state"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(schemes=("demo+file",), path="path", local=True),
        UrlForm(
            schemes=("demo", "demos"),
            drivers=True,
            implies={"demo": {"tls": False}, "demos": {"tls": True, "port": 443}},
            host="host",
            port="port",
            username="user",
            credential="password",
            path="db",
            convert={"db": number("db")},
            query={"schema": "schema_name", "tls": Param("tls", flag("tls")), "charset": Param(None, str.lower)},
        ),
        bare="path",
    )
    keyword_aliases: ClassVar[dict[str, str]] = {"schema": "schema_name", "prefix": "key_prefix"}

    host: str = "localhost"
    port: int = 5432
    user: str | None = None
    password: SecretStr | None = None
    db: int = 0
    tls: bool = False
    schema_name: Identifier = "public"
    key_prefix: str = ""
    path: str | None = None


def test_declared_url_parts_fill_their_fields() -> None:
    config = DeclaredConfig.from_options(f"demo+driver://app:{SECRET}@db.example:6432/3?schema=chat&tls=YES")
    assert (config.host, config.port, config.user, config.db, config.schema_name, config.tls) == (
        "db.example",
        6432,
        "app",
        3,
        "chat",
        True,
    )
    assert config.password is not None and config.password.get_secret_value() == SECRET


def test_a_scheme_implies_fields_that_the_url_parts_override() -> None:
    assert (DeclaredConfig.from_options("demos://h").tls, DeclaredConfig.from_options("demos://h").port) == (True, 443)
    assert DeclaredConfig.from_options("demos://h:8443").port == 8443
    assert DeclaredConfig.from_options("demo://h").tls is False


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("other://h", "expected a path, demo+file://, demo:// or demos://, got scheme 'other'"),
        ("demo://h?bogus=1", "unknown URL parameter(s) bogus; accepted: charset, schema, tls"),
        ("demo://h?tls=maybe", "tls must be true or false"),
        ("demo://h/notanumber", "db must be a number"),
        ("demo+file://host/x.db", "take no host"),
        ("demo+file://", "has no path"),
    ],
)
def test_urls_outside_the_declared_forms_are_refused_under_url(url: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DeclaredConfig.from_options(url)
    assert [error.field for error in caught.value.errors] == ["url"]
    assert complaint in str(caught.value)


def test_local_paths_relative_absolute_and_bare() -> None:
    assert DeclaredConfig.from_options("demo+file:///relative.db").path == "relative.db"
    assert DeclaredConfig.from_options("demo+file:////abs/x.db").path == "/abs/x.db"
    assert DeclaredConfig.from_options(":memory:").path == ":memory:"
    assert DeclaredConfig.from_options("some/dir").path == "some/dir"


@pytest.mark.parametrize("name", ["qdrant", "chroma"])
def test_an_embedded_engine_and_its_asyncio_form_default_to_one_directory(name: str) -> None:
    from praisonai.persistence._paths import data_dir
    from praisonai.persistence.registry import KNOWLEDGE_STORES

    expected = str(data_dir() / name)
    assert KNOWLEDGE_STORES.validate(name).local_path == expected
    assert KNOWLEDGE_STORES.validate(f"async_{name}").local_path == expected


def test_keyword_aliases_fill_their_field() -> None:
    config = DeclaredConfig.from_options(None, {"schema": "chat", "prefix": "app:"})
    assert (config.schema_name, config.key_prefix) == ("chat", "app:")


def test_an_alias_given_with_its_field_is_an_error() -> None:
    with pytest.raises(ConfigError) as caught:
        DeclaredConfig.from_options(None, {"schema": "a", "schema_name": "b", "prefix": "p", "key_prefix": "q"})
    assert sorted(error.field for error in caught.value.errors) == ["prefix", "schema"]
    assert "is another name of 'schema_name'; give only one of them" in str(caught.value)


def test_an_unknown_option_may_be_close_to_an_alias() -> None:
    with pytest.raises(ConfigError, match="did you mean 'prefix'"):
        DeclaredConfig.from_options(None, {"prefx": "p"})


def test_a_config_without_a_url_spec_takes_no_url() -> None:
    class Keywords(StoreConfig):
        backend: ClassVar[str] = "keywords"
        kind: ClassVar[Any] = "state"

    with pytest.raises(ConfigError, match="does not take a URL"):
        Keywords.from_options("demo://h")
