"""The copy engine's public names, where they have always been importable from.

The engine itself is the :mod:`praisonai.persistence.transfer` package (see
its docstring for the guarantees); this module re-exports its public names::

    from praisonai.persistence.migrate import export_jsonl, import_jsonl, migrate
"""

from __future__ import annotations

from . import transfer
from .transfer import *  # noqa: F403  # every name of transfer.__all__

__all__ = transfer.__all__
