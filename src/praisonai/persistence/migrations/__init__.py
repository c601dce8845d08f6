"""PraisonAI 4.7.19's schema-version bookkeeping (see :mod:`.manager`)."""

from __future__ import annotations

from .manager import MigrationManager, SchemaVersion

__all__ = ["MigrationManager", "SchemaVersion"]
