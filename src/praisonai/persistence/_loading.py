"""Lazy imports: adapters by dotted path, drivers with errors that say what to install."""

from __future__ import annotations

import importlib
import sys

from .errors import DriverImportError, MissingDriverError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _typing_lite.py)
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

__all__ = ["driver_installed", "import_driver", "load_object"]


def load_object(path: str) -> Any:
    """Import ``"package.module:Name"`` and return ``Name``."""
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute)


def driver_installed(module: str) -> bool:
    """Whether ``module`` can be found, without importing it."""
    if module in sys.modules:
        return True
    import importlib.util  # here: it imports contextlib and functools, which the registry's import avoids

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        # find_spec imports parent packages; a broken parent counts as absent.
        return False


def import_driver(module: str, *, backend: str, extra: str | None) -> ModuleType:
    """Import a backend's driver, telling "not installed" apart from "fails to import"."""
    loaded = sys.modules.get(module)
    if loaded is not None:
        return loaded
    install = f'pip install "praisonai-persistence[{extra}]"' if extra else f"pip install {module}"
    try:
        return importlib.import_module(module)
    except Exception as error:
        # Not installed: the module itself, or a package it is in, is missing (not one of its own imports).
        missing = (error.name or module) if isinstance(error, ModuleNotFoundError) else None
        if missing is not None and (module == missing or module.startswith(missing + ".")):
            raise MissingDriverError(
                f"backend {backend!r} needs {module!r}, which is not installed; run: {install}",
                backend=backend,
                driver=module,
                extra=extra,
            ) from error
        raise DriverImportError(
            f"backend {backend!r}: {module!r} is installed but failed to import "
            f"({type(error).__name__}: {error}); reinstall with: {install}",
            backend=backend,
            driver=module,
            extra=extra,
        ) from error
