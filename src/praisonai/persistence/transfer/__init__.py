"""Copy conversations, knowledge or state between any two stores, or to and from JSON Lines.

The engine behind ``praisonai-persistence migrate``, ``export`` and ``import``
(argument parsing lives in :mod:`praisonai.persistence.cli`); its public names
are also importable from :mod:`praisonai.persistence.migrate`::

    from praisonai.persistence.migrate import migrate
    from praisonai.persistence.registry import CONVERSATION_STORES

    report = migrate(
        "conversation",
        CONVERSATION_STORES.create("sqlite", path="chat.db"),
        CONVERSATION_STORES.create("postgres", url="postgresql://app@db/chat"),
    )
    assert report.verification is not None and report.verification.ok

It works through the public contracts only, so any two backends work,
plugins included; async stores are driven on a private event loop
(:mod:`._sync_view`). The stores given to a function are closed when it returns.

Guarantees:

- **Streaming**: items move in batches of ``batch_size``; memory does not grow
  with the number of sessions, messages or documents. (State keys are listed
  at once: the contract's ``keys()`` has no cursor; values still move in batches.)
- **Exact**: sessions keep their ids and both timestamps, messages their ids,
  timestamps and order (equal timestamps included), documents their ids,
  embeddings and metadata, state keys their values and remaining TTLs.
- **Idempotent and resumable**: what the target already holds is compared and
  skipped, so running a copy again (after it was killed, say) copies only what
  is missing. What the target holds *differently* is a conflict, handled by
  ``on_conflict``: ``"fail"`` (raise :class:`ConflictError`), ``"skip"`` (keep
  the target's) or ``"overwrite"``.
- **Verified**: at the end, counts are compared item by item (messages per
  session, documents per collection, live keys and hash fields).

The optional extras :class:`~praisonai.persistence.conversation.base.ConversationTransfer`
and :class:`~praisonai.persistence.knowledge.base.KnowledgeTransfer` make copies
faster and exact where the contract alone cannot: see ``docs/cli.md``.

Collections PraisonAI 4.7 wrote to chroma, lancedb or qdrant are a source through
:func:`open_praisonai_knowledge` (:mod:`.praisonai`; on the command line
``--from praisonai-qdrant:PATH``).

Modules: :mod:`.operations` (the three functions, written once over the
per-kind interface of :mod:`._kind`), one module per kind
(:mod:`.conversation`, :mod:`.knowledge`, :mod:`.state`: reading, writing and
verification, comparing records as :mod:`._compare` does), :mod:`.jsonl` (the
file format) and :mod:`.report`.
"""

from __future__ import annotations

from ..errors import ConflictError, InvalidExportError, TransferError, UnsupportedTransferError
from .conversation import DEFAULT_BATCH_SIZE, iter_message_batches, iter_sessions
from .jsonl import FORMAT, FORMAT_VERSION
from .operations import export_jsonl, import_jsonl, migrate
from .praisonai import open_praisonai_knowledge
from .report import OnConflict, Progress, ProgressCallback, TransferKind, TransferReport, Verification

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "FORMAT",
    "FORMAT_VERSION",
    "ConflictError",
    "InvalidExportError",
    "OnConflict",
    "Progress",
    "ProgressCallback",
    "TransferError",
    "TransferKind",
    "TransferReport",
    "UnsupportedTransferError",
    "Verification",
    "export_jsonl",
    "import_jsonl",
    "iter_message_batches",
    "iter_sessions",
    "migrate",
    "open_praisonai_knowledge",
]
