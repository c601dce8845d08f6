"""Exit statuses of ``praisonai-persistence``, and the error classes each one stands for."""

from __future__ import annotations

from ..errors import (
    BackendNotFoundError,
    ConfigError,
    ConflictError,
    InvalidExportError,
    MissingDriverError,
    PluginLoadError,
    RoundTripError,
    UnsupportedTransferError,
    UsageError,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_DRIVER = 4
EXIT_UNREACHABLE = 5
EXIT_VERIFICATION = 6
EXIT_CONFLICT = 7
EXIT_UNSUPPORTED = 8
EXIT_INTERRUPTED = 130


def exit_status(error: BaseException) -> int:
    """The exit status that tells what kind of failure ``error`` is (see :mod:`praisonai.persistence.cli`)."""
    if isinstance(error, UsageError | BackendNotFoundError | InvalidExportError):
        return EXIT_USAGE
    if isinstance(error, ConfigError):
        return EXIT_CONFIG
    if isinstance(error, MissingDriverError | PluginLoadError):
        return EXIT_DRIVER
    if isinstance(error, ConnectionError | TimeoutError):  # BackendUnavailableError is a ConnectionError
        return EXIT_UNREACHABLE
    if isinstance(error, RoundTripError):
        return EXIT_VERIFICATION
    if isinstance(error, ConflictError):
        return EXIT_CONFLICT
    if isinstance(error, UnsupportedTransferError):
        return EXIT_UNSUPPORTED
    return EXIT_FAILURE
