"""Exceptions raised by praisonai-persistence.

Every error is a :class:`PersistenceError` and also the builtin exception that
callers already catch, so ``except ValueError`` keeps working::

    PersistenceError
    ├── BackendNotFoundError        (ValueError)       unknown backend name or alias
    ├── RegistrationError           (ValueError)       invalid name, or a name/alias already taken
    ├── ConfigError                 (ValueError)       config failed validation; lists every bad field
    ├── MissingDriverError          (ImportError)      the backend's driver is not installed
    │   └── DriverImportError                          the driver is installed but failed to import
    ├── PluginLoadError             (ImportError)      an entry-point plugin failed to load
    ├── ContractError               (TypeError)        a factory returned an object off the store contract
    ├── StoreError                                     raised by a store while it runs
    │   ├── InvalidInputError       (ValueError)       bad id, oversized or malformed argument
    │   │   ├── UnsupportedFilterError                 a filter the backend cannot express
    │   │   └── NotJSONSerializableError (TypeError)   a value that is not plain JSON (NaN, inf, a set...)
    │   ├── WrongTypeError          (TypeError)        a hash operation on a plain key, or the reverse
    │   ├── AlreadyExistsError      (ValueError)       create of an existing session, message, document
    │   ├── NotFoundError           (KeyError)         the session, collection or key does not exist
    │   ├── StoreClosedError        (RuntimeError)     a call on a store after close()
    │   ├── EngineError                                the engine failed in a way no other class describes
    │   └── BackendUnavailableError (ConnectionError)  the server cannot be reached; a retry may succeed
    ├── TransferError                                  a copy, export or import could not proceed
    │   ├── ConflictError           (ValueError)       the target holds a different item under that id
    │   ├── UnsupportedTransferError (TypeError)       a store lacks what the copy needs
    │   └── InvalidExportError      (ValueError)       a JSON Lines file is not a complete export
    ├── RoundTripError                                 ``check``: the backend answered, but not with what was written
    └── UsageError                  (ValueError)       a command-line mistake found after parsing

Messages name the backend and the field; secrets never appear in them. A store
raises every error through its call guard (``_guard.py``), which stamps the
backend's name on a :class:`StoreError` raised without one and turns any other
exception of its engine into one of the classes above, the original chained.
"""

from __future__ import annotations

from collections.abc import Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _typing_lite.py)
if TYPE_CHECKING:
    from typing import NamedTuple
else:
    from ._typing_lite import NamedTuple

__all__ = [
    "AlreadyExistsError",
    "BackendNotFoundError",
    "BackendUnavailableError",
    "ConfigError",
    "ConflictError",
    "ContractError",
    "DriverImportError",
    "EngineError",
    "FieldError",
    "InvalidExportError",
    "InvalidInputError",
    "MissingDriverError",
    "NotFoundError",
    "NotJSONSerializableError",
    "PersistenceError",
    "PluginLoadError",
    "RegistrationError",
    "RoundTripError",
    "StoreClosedError",
    "StoreError",
    "TransferError",
    "UnsupportedFilterError",
    "UnsupportedTransferError",
    "UsageError",
    "WrongTypeError",
]


class PersistenceError(Exception):
    """Base class of every error raised by praisonai-persistence."""


class BackendNotFoundError(PersistenceError, ValueError):
    """No backend is registered under the requested name or alias."""

    def __init__(self, message: str, *, name: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.suggestion = suggestion


class RegistrationError(PersistenceError, ValueError):
    """A name is invalid, or it (or an alias) is already taken by another backend."""


class FieldError(NamedTuple):
    """One invalid field of a backend config."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ConfigError(PersistenceError, ValueError):
    """A backend's URL or options failed validation.

    ``errors`` holds every bad field; the message lists them all. Secret values
    are never part of the message.
    """

    def __init__(self, backend: str, errors: Sequence[FieldError], *, kind: str = "") -> None:
        self.backend = backend
        self.errors = tuple(errors)
        label = f"{kind} backend" if kind else "backend"
        count = len(self.errors)
        lines = "\n".join(f"  {error}" for error in self.errors)
        noun = "error" if count == 1 else "errors"
        super().__init__(f"invalid configuration for {label} {backend!r} ({count} {noun}):\n{lines}")


class MissingDriverError(PersistenceError, ImportError):
    """The driver a backend needs is not installed."""

    def __init__(self, message: str, *, backend: str, driver: str, extra: str | None) -> None:
        super().__init__(message, name=driver)
        self.backend = backend
        self.driver = driver
        self.extra = extra


class DriverImportError(MissingDriverError):
    """The driver is installed but raised while being imported (the cause is chained)."""


class PluginLoadError(PersistenceError, ImportError):
    """An entry-point plugin could not be loaded; the original error is chained."""

    def __init__(self, message: str, *, backend: str, distribution: str | None) -> None:
        super().__init__(message)
        self.backend = backend
        self.distribution = distribution


class ContractError(PersistenceError, TypeError):
    """A factory returned an object that does not satisfy the registry's store protocol."""

    def __init__(self, message: str, *, backend: str, missing: Sequence[str]) -> None:
        super().__init__(message)
        self.backend = backend
        self.missing = tuple(missing)


class StoreError(PersistenceError):
    """Raised by a store while it runs. ``backend`` names the backend that raised it.

    Code below a store may raise it without ``backend``; the store's call guard
    stamps the name before the error leaves the store (``str()`` then reads
    ``[backend] message``).
    """

    def __init__(self, message: str, *, backend: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.backend = backend

    def __str__(self) -> str:
        return f"[{self.backend}] {self.message}" if self.backend else self.message


class InvalidInputError(StoreError, ValueError):
    """An argument is malformed: an empty or oversized id, a bad limit, a bad pattern."""


class UnsupportedFilterError(InvalidInputError):
    """A knowledge filter uses an operator the backend cannot express. Filters are never dropped."""


class NotJSONSerializableError(InvalidInputError, TypeError):
    """A value is not plain JSON (dict with str keys, list, str, int, float, bool, None).

    An :class:`InvalidInputError` (the caller's value is refused, nothing is stored) and, as
    before, a ``TypeError``."""


class WrongTypeError(StoreError, TypeError):
    """A hash operation was used on a plain key, or a plain read on a hash key."""


class AlreadyExistsError(StoreError, ValueError):
    """The session, message, collection or document already exists; nothing was overwritten."""


class NotFoundError(StoreError, KeyError):
    """The session, collection or key does not exist."""

    # KeyError would quote the message.
    __str__ = StoreError.__str__


class StoreClosedError(StoreError, RuntimeError):
    """A store method was called after ``close()``."""


class EngineError(StoreError):
    """The engine (driver or server) failed in a way that no more specific class describes.

    The driver's exception is chained as ``__cause__``; its text is in the message, secrets masked.
    """


class BackendUnavailableError(StoreError, ConnectionError):
    """The backend's server cannot be reached; the store reconnects on a later call."""


# -- transfers and the command line -------------------------------------------------------


class TransferError(PersistenceError):
    """A copy, export or import could not proceed."""


class ConflictError(TransferError, ValueError):
    """The target holds a different item under an id or key being copied (``on_conflict="fail"``)."""


class UnsupportedTransferError(TransferError, TypeError):
    """A store lacks what the copy needs (a knowledge source without ``iter_documents``)."""


class InvalidExportError(TransferError, ValueError):
    """A JSON Lines file is not a complete export of the expected kind; nothing was imported."""


class RoundTripError(PersistenceError):
    """``check``: the backend answered, but not with what was written."""


class UsageError(PersistenceError, ValueError):
    """A command-line mistake found after parsing (the command exits with status 2)."""
