"""What the SurrealDB stores share: their settings, and one embedded engine per directory in a process.

:class:`SurrealSettings` is the base of the ``surrealdb`` conversation config
and the ``surrealdb_vector`` knowledge config: the URL forms, credentials, and
namespace and database names. It imports no driver, so the registry can
validate a config before the adapter is imported.

:func:`open_engine` gives every store of this process on one SurrealKV
directory, conversation and knowledge stores alike, the same SDK connection
(reference-counted, closed with the last store). SurrealKV has no lock of its
own: a second engine on the directory, in this process or another, would
silently diverge from the first. So the directory's ``<dir>.lock`` is held
(``flock``) while it is open, and another process is refused with a
:class:`~praisonai.persistence.errors.StoreError`. ``mem://`` engines and
server connections belong to one store each.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, field_validator

from ._config import StoreConfig, TablePrefix, secret_value
from ._fields import matching, needs
from ._files import open_lock_file
from ._paths import data_dir
from ._urlform import UrlForm, UrlSpec
from .errors import BackendUnavailableError, StoreError
from .url import URL

__all__ = ["SurrealEngine", "SurrealName", "SurrealSettings", "embedded_url", "open_engine", "release_engine"]

EMBEDDED_SCHEMES = ("mem", "memory", "surrealkv", "surrealkv+versioned", "file")
REMOTE_SCHEMES = ("ws", "wss", "http", "https")
_ON_DISK_SCHEMES = ("surrealkv", "surrealkv+versioned", "file")
_surreal_name = matching(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,63}$", "must be 1 to 64 letters, digits, '_' or '-'")


SurrealName = Annotated[str, AfterValidator(_surreal_name)]
"""A SurrealDB namespace or database name: 1 to 64 letters, digits, ``_`` or ``-``."""


def embedded_url(name: str) -> Any:
    """A config's ``url`` field that defaults to the SurrealKV directory ``name`` under ``$PRAISONAI_DATA_DIR``."""
    return Field(default_factory=lambda: "surrealkv://" + str(data_dir() / name))


class SurrealSettings(StoreConfig):
    """SurrealDB: the SDK's embedded engine (``mem://``, ``surrealkv://``) or a server (``ws://``, ``http://``)."""

    _example_directory: ClassVar[str] = "/var/lib/app/data"
    # Embedded URLs are kept as given; any other scheme too, for the url validator to name the accepted ones.
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(schemes=EMBEDDED_SCHEMES, verbatim="url"),
        UrlForm(
            schemes=REMOTE_SCHEMES,
            username="username",
            credential="password",
            query={"ns": "namespace", "namespace": "namespace", "db": "database", "database": "database"},
            other_params=True,
            keep="url",
        ),
        bare="url",
        bare_prefix="surrealkv://",
        fallback=UrlForm(schemes=(), verbatim="url"),
    )

    url: str
    """``mem://``, ``surrealkv:///abs/dir`` (or ``surrealkv://relative/dir``, ``surrealkv+versioned://``,
    ``file://``), ``ws[s]://host:8000/rpc``, ``http[s]://host:8000``."""
    namespace: SurrealName = "praisonai"
    database: SurrealName
    username: str | None = None
    """Server user (with ``password``); ``ws://user:password@host`` in the URL is accepted too."""
    password: SecretStr | None = None
    token: SecretStr | None = None
    """A JWT to authenticate with instead of username and password."""
    table_prefix: TablePrefix

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme, separator, rest = value.partition("://")
        scheme = scheme.lower()
        if not separator or scheme not in (*EMBEDDED_SCHEMES, *REMOTE_SCHEMES):
            raise ValueError(
                "expected mem://, surrealkv://<dir>, surrealkv+versioned://<dir>, file://<dir>, ws[s]://host "
                "or http[s]://host"
            )
        if "\x00" in value:
            raise ValueError("must not contain a NUL character")
        if scheme in _ON_DISK_SCHEMES and not rest.strip("/"):
            raise ValueError(f"{scheme}:// needs a directory, e.g. {scheme}://{cls._example_directory}")
        if scheme in REMOTE_SCHEMES:
            parsed = URL.parse(value)
            if not parsed.host:
                raise ValueError(f"{scheme}:// URL has no host")
            if parsed.username is not None or parsed.password is not None:
                raise ValueError("pass credentials as username/password, not inside the stored url")
        return value

    @field_validator("username", "password", "token")
    @classmethod
    def _credentials_need_server(cls, value: Any, info: ValidationInfo) -> Any:
        url = info.data.get("url")
        if value is not None and url is not None and url.partition("://")[0].lower() in EMBEDDED_SCHEMES:
            raise ValueError("the embedded engine has no users; credentials are for ws:// and http:// servers")
        return value

    @field_validator("token")
    @classmethod
    def _token_or_password(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and (info.data.get("username") is not None or info.data.get("password") is not None):
            raise ValueError("give either token or username and password, not both")
        return value

    _password_needs_user = needs("password", "username", "a password needs a username")

    @property
    def is_embedded(self) -> bool:
        return self.url.partition("://")[0].lower() in EMBEDDED_SCHEMES

    @property
    def directory(self) -> str | None:
        """The on-disk directory of an embedded SurrealKV engine; None for ``mem://`` and servers."""
        scheme, _, rest = self.url.partition("://")
        if scheme.lower() in _ON_DISK_SCHEMES:
            return rest.split("?", 1)[0]
        return None


# -- engines --------------------------------------------------------------------------------------------------------


class SurrealEngine:
    """One SDK connection, its lock, and (for a SurrealKV directory) the process lock on the directory."""

    def __init__(self, connect: Callable[[], Any], key: str | None, lock_fd: int | None) -> None:
        self._connect = connect
        self.connection = connect()
        self.key = key
        self.lock_fd = lock_fd
        self.lock = threading.Lock()
        self.users = 1
        self.using: tuple[str, str] | None = None  # the namespace and database the connection is on
        self.broken = False  # a server connection that failed; reopened on the next call

    def query_raw(self, config: SurrealSettings, backend: str | None, surrealql: str, variables: dict[str, Any]) -> Any:
        """The SDK's raw response to ``surrealql``, run on ``config``'s namespace and database.

        ``backend`` (None under a store's call guard, which stamps it) names the backend in errors.
        """
        wanted = (config.namespace, config.database)
        with self.lock:
            if self.broken:
                self.connection = self._connect()
                self.broken, self.using = False, None
            try:
                if self.using != wanted:
                    self.connection.use(*wanted)
                    self.using = wanted
                return self.connection.query_raw(surrealql, variables)
            except OSError as error:
                self.broken = True
                with contextlib.suppress(Exception):
                    self.connection.close()
                raise _unreachable(config, backend, error) from error

    def close(self) -> None:
        try:
            with contextlib.suppress(NotImplementedError):  # HTTP connections have nothing to close
                self.connection.close()
        finally:
            if self.lock_fd is not None:
                os.close(self.lock_fd)  # releases the flock
                self.lock_fd = None


_SHARED: dict[str, SurrealEngine] = {}
_SHARED_LOCK = threading.Lock()


def open_engine(config: SurrealSettings, driver: Any, backend: str | None = None) -> SurrealEngine:
    """An engine for ``config``: the one this process has open on its directory, or a new one.

    Give it back with :func:`release_engine`.
    """

    def connect() -> Any:
        return _connect(config, driver, backend)

    directory = config.directory
    if directory is None:
        return SurrealEngine(connect, None, None)
    key = os.path.realpath(os.path.expanduser(directory))
    with _SHARED_LOCK:
        engine = _SHARED.get(key)
        if engine is not None:
            engine.users += 1
            return engine
        lock_fd = _lock_directory(key, backend)
        try:
            engine = SurrealEngine(connect, key, lock_fd)
        except BaseException:
            os.close(lock_fd)
            raise
        _SHARED[key] = engine
        return engine


def release_engine(engine: SurrealEngine) -> None:
    """One store is done with ``engine``; the last one closes it (and unlocks its directory)."""
    with _SHARED_LOCK:
        engine.users -= 1
        if engine.users > 0:
            return
        if engine.key is not None:
            _SHARED.pop(engine.key, None)
    with engine.lock:
        engine.close()


def _lock_directory(directory: str, backend: str | None) -> int:
    if sys.platform == "win32":
        raise StoreError("the embedded SurrealKV engine needs POSIX file locks here", backend=backend)
    Path(directory).parent.mkdir(parents=True, exist_ok=True)
    return open_lock_file(
        Path(directory + ".lock"),
        f"another process has {directory} open, so it is in use: the embedded engine serves one process at a "
        "time (run a SurrealDB server and connect with ws:// to share the data)",
        backend,
    )


def _connect(config: SurrealSettings, driver: Any, backend: str | None) -> Any:
    url = config.url
    if config.directory is not None:
        # The SDK takes the path after the scheme as is; expand ~ the way every other backend does.
        scheme, _, rest = url.partition("://")
        url = f"{scheme}://{os.path.expanduser(rest)}"
    connection = driver.Surreal(url)
    try:
        if config.username is not None:
            connection.signin({"username": config.username, "password": secret_value(config.password) or ""})
        elif config.token is not None:
            connection.authenticate(secret_value(config.token))
    except BaseException as error:
        with contextlib.suppress(Exception):
            connection.close()
        if isinstance(error, OSError):
            raise _unreachable(config, backend, error) from error
        raise
    return connection


def _unreachable(config: SurrealSettings, backend: str | None, error: OSError) -> BackendUnavailableError:
    return BackendUnavailableError(
        f"cannot reach the SurrealDB server at {config.url}: {type(error).__name__}", backend=backend
    )
