"""Secrets kept out of drivers' log records.

Some drivers log what they send at DEBUG level, headers included: botocore logs the
``X-Amz-Security-Token`` header of every request it signs. A store that hands such a
driver a secret registers it here with the names of the driver's loggers; the records
of those loggers then carry ``***`` in its place, whatever handlers the application
has. Registrations are counted, so stores sharing a secret can come and go.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

__all__ = ["redact_secrets", "release_secrets"]

_MASK = "***"
_MIN_LENGTH = 4  # shorter values would mask ordinary text


class _Redactor(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._forms: tuple[str, ...] = ()
        self._attached: set[str] = set()

    def add(self, loggers: Iterable[str], secrets: tuple[str, ...]) -> None:
        with self._lock:
            for name in loggers:
                if name not in self._attached:
                    logging.getLogger(name).addFilter(self)
                    self._attached.add(name)
            for secret in secrets:
                self._counts[secret] = self._counts.get(secret, 0) + 1
            self._refresh()

    def remove(self, secrets: tuple[str, ...]) -> None:
        with self._lock:
            for secret in secrets:
                count = self._counts.get(secret, 0) - 1
                if count > 0:
                    self._counts[secret] = count
                else:
                    self._counts.pop(secret, None)
            self._refresh()

    def _refresh(self) -> None:
        forms: set[str] = set()
        for secret in self._counts:
            # As text, and as a driver shows it inside the repr of bytes (b'...').
            forms.update((secret, repr(secret.encode("utf-8", "surrogatepass"))[2:-1]))
        self._forms = tuple(sorted(forms, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        forms = self._forms
        if not forms:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        masked = message
        for form in forms:
            if form in masked:
                masked = masked.replace(form, _MASK)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_REDACTOR = _Redactor()


def redact_secrets(loggers: Iterable[str], secrets: Iterable[str | None]) -> tuple[str, ...]:
    """Mask ``secrets`` in every record of ``loggers`` from now on; returns what to pass to :func:`release_secrets`."""
    values = tuple(secret for secret in secrets if secret is not None and len(secret) >= _MIN_LENGTH)
    _REDACTOR.add(loggers, values)
    return values


def release_secrets(secrets: tuple[str, ...]) -> None:
    """Undo one :func:`redact_secrets` (the loggers keep the filter; it masks nothing once no secret is left)."""
    _REDACTOR.remove(secrets)
