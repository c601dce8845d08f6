"""The copy engine's public names, where they have always been importable from.

The engine itself is the :mod:`praisonai.persistence.transfer` package (see
its docstring for the guarantees); this module re-exports it::

    from praisonai.persistence.migrate import export_jsonl, import_jsonl, migrate
"""

from __future__ import annotations

# Importable from here as before, though not in ``__all__``.
from .transfer import DEFAULT_BATCH_SIZE as DEFAULT_BATCH_SIZE
from .transfer import (
    FORMAT,
    FORMAT_VERSION,
    ConflictError,
    InvalidExportError,
    OnConflict,
    Progress,
    TransferError,
    TransferKind,
    TransferReport,
    UnsupportedTransferError,
    Verification,
    export_jsonl,
    import_jsonl,
    migrate,
    open_praisonai_knowledge,
)
from .transfer import ProgressCallback as ProgressCallback
from .transfer import iter_message_batches as iter_message_batches
from .transfer import iter_sessions as iter_sessions

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ConflictError",
    "InvalidExportError",
    "OnConflict",
    "Progress",
    "TransferError",
    "TransferKind",
    "TransferReport",
    "UnsupportedTransferError",
    "Verification",
    "export_jsonl",
    "import_jsonl",
    "migrate",
    "open_praisonai_knowledge",
]
