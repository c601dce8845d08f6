"""Files of the embedded stores: whole-or-nothing writes, and the lock that keeps a second store out.

:func:`write_atomically` puts new contents in a temporary file beside the
target (``.tmp-<random hex>``: a fixed-length name, whatever the target's),
fsyncs it, renames it over the target and fsyncs the directory, so the target
always holds either the old or the new contents, never a torn mix. With
``create=True`` the new file is hard-linked into place instead, which fails
(``FileExistsError``) rather than replace an existing file.

:func:`lock_exclusively` and :func:`open_lock_file` take a non-blocking
exclusive ``flock``; a second store, in this process or another, gets a
:class:`~praisonai.persistence.errors.StoreError` instead of waiting. Where
there is no ``fcntl`` (Windows) nothing is locked.
"""

from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path

from .errors import StoreError

__all__ = ["fsync_directory", "lock_exclusively", "open_lock_file", "write_all", "write_atomically"]

# Errors of os.link on file systems without hard links.
_NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV)


def fsync_directory(directory: Path) -> None:
    """Make the renames in ``directory`` durable; best effort (some file systems cannot fsync a directory)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_atomically(
    path: Path, data: str | bytes, *, durable: bool = True, create: bool = False, sync_directory: bool = True
) -> None:
    """Put ``data`` (text is written as UTF-8) at ``path``, whole or not at all.

    ``durable=False`` skips the fsyncs: still atomic, but the write may be lost
    on power loss. ``sync_directory=False`` skips only the directory's fsync: the
    new contents are whole when they land, but a power loss may still find the old
    ones. ``create=True`` raises ``FileExistsError`` if ``path`` exists.
    """
    content = data.encode("utf-8") if isinstance(data, str) else data
    temporary = path.with_name(f".tmp-{uuid.uuid4().hex}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        try:
            write_all(descriptor, content)
            if durable:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if create:
            _link_new(temporary, path)
            temporary.unlink(missing_ok=True)  # the link's other name (gone if it was renamed instead)
        else:
            os.replace(temporary, path)  # nothing left to remove
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if durable and sync_directory:
        fsync_directory(path.parent)


def write_all(descriptor: int, data: bytes) -> None:
    """Write all of ``data`` to the open file ``descriptor`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _link_new(temporary: Path, target: Path) -> None:
    try:
        os.link(temporary, target)  # atomic, and never replaces an existing file
    except FileExistsError:
        raise
    except OSError as error:
        # Some file systems have no hard links; the caller's exclusive lock still keeps writers apart.
        if error.errno not in _NO_HARD_LINKS:
            raise
        if target.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from error
        os.replace(temporary, target)


def lock_exclusively(descriptor: int, busy: str, backend: str | None = None) -> None:
    """``flock`` the open file ``descriptor`` exclusively without waiting; ``StoreError(busy)`` if it is taken.

    The lock belongs to the open file: closing ``descriptor`` releases it, and
    a second ``open`` of the same file, even in this process, cannot take it.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one store per file is the caller's duty
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise StoreError(busy, backend=backend) from None


def open_lock_file(path: Path, busy: str, backend: str | None = None) -> int:
    """Open (creating) the lock file ``path`` and lock it (:func:`lock_exclusively`); the descriptor to close."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        lock_exclusively(descriptor, busy, backend)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor
