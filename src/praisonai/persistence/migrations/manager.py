"""PraisonAI 4.7.19's ``MigrationManager``: application-level migrations, versions kept in a state store.

>>> manager = MigrationManager(orchestrator)            # or a state store, or PraisonAI's db adapter
>>> manager.register_migration("1.1.0", "backfill titles", up=backfill)
>>> manager.migrate_up()
['1.0.0', '1.1.0']

The current version is the state key ``praison_schema_versions:current``
(``{"version", "applied_at"}``), as PraisonAI writes it, so a state store that
PraisonAI used carries on. ``db_adapter`` may be a state store, anything with a
``state`` store attribute (a :class:`~praisonai.persistence.orchestrator.PersistenceOrchestrator`),
or PraisonAI's adapter (``_state_store``, opened by ``_init_stores()``); without one,
nothing is recorded. Each migration's ``up``/``down`` is called with ``db_adapter``.

Table schemas are not migrated here: each conversation store upgrades its own
tables in place when it opens (see docs/migrating-from-praisonai.md).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Migration", "MigrationManager", "SchemaVersion"]

logger = logging.getLogger(__name__)

_RELEASE = re.compile(r"\d+(?:\.\d+)*")


def _version_key(version: str) -> tuple[int, ...]:
    """``"1.10.0"`` -> ``(1, 10)``: release numbers compared as numbers, trailing zeros ignored."""
    if _RELEASE.fullmatch(version) is None:
        raise ValueError(f"a schema version is dotted numbers such as '1.2.0', got {version!r}")
    parts = [int(part) for part in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@dataclass
class SchemaVersion:
    """A schema version: ``<`` compares the numbers, ``==`` the strings (as in PraisonAI)."""

    version: str
    description: str = ""
    applied_at: float | None = None

    def __lt__(self, other: SchemaVersion) -> bool:
        return _version_key(self.version) < _version_key(other.version)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SchemaVersion) and self.version == other.version

    def __hash__(self) -> int:
        return hash(self.version)


@dataclass
class Migration:
    """One migration: ``up(db_adapter)`` applies it, ``down(db_adapter)`` (optional) reverts it."""

    version: str
    description: str
    up: Callable[[Any], None]
    down: Callable[[Any], None] | None = None


class MigrationManager:
    """Registers migrations, knows which are pending and applies or reverts them in order."""

    CURRENT_VERSION = "1.0.0"
    _versions_table = "praison_schema_versions"

    def __init__(self, db_adapter: Any = None) -> None:
        self.db_adapter = db_adapter
        self._migrations: list[Migration] = []
        # PraisonAI's first version: its tables are created on first use, so there is nothing to do.
        self.register_migration("1.0.0", "Initial schema with sessions, messages, runs", _nothing, _nothing)

    @property
    def _key(self) -> str:
        return f"{self._versions_table}:current"

    def _state_store(self) -> Any:
        adapter = self.db_adapter
        if adapter is None:
            return None
        if hasattr(adapter, "_init_stores"):  # PraisonAI's database adapter
            adapter._init_stores()
            return getattr(adapter, "_state_store", None)
        if hasattr(adapter, "hgetall"):  # a state store itself
            return adapter
        return getattr(adapter, "state", None)

    def register_migration(
        self, version: str, description: str, up: Callable[[Any], None], down: Callable[[Any], None] | None = None
    ) -> None:
        """Add a migration; the list stays sorted by version."""
        _version_key(version)
        self._migrations.append(Migration(version, description, up, down))
        self._migrations.sort(key=lambda migration: _version_key(migration.version))

    def get_current_version(self) -> str | None:
        """The recorded version; None when nothing is recorded or there is no state store (a read error is logged)."""
        try:
            store = self._state_store()
            record = store.get(self._key) if store is not None else None
        except Exception as error:
            logger.warning("could not read the schema version: %s", error)
            return None
        return record.get("version") if isinstance(record, dict) else None

    def set_current_version(self, version: str) -> None:
        """Record ``version`` (now as ``applied_at``); nothing without a state store."""
        store = self._state_store()
        if store is not None:
            store.set(self._key, {"version": version, "applied_at": time.time()})

    def get_pending_migrations(self) -> list[Migration]:
        """Migrations newer than the recorded version (all of them when none is recorded)."""
        current = self.get_current_version()
        if current is None:
            return list(self._migrations)
        return [m for m in self._migrations if _version_key(m.version) > _version_key(current)]

    def migrate_up(self, target_version: str | None = None) -> list[str]:
        """Apply pending migrations up to ``target_version`` (default: all), recording each; the applied versions."""
        applied: list[str] = []
        for migration in self.get_pending_migrations():
            if target_version is not None and _version_key(migration.version) > _version_key(target_version):
                break
            logger.info("applying migration %s: %s", migration.version, migration.description)
            migration.up(self.db_adapter)
            self.set_current_version(migration.version)
            applied.append(migration.version)
        return applied

    def migrate_down(self, target_version: str) -> list[str]:
        """Revert migrations newer than ``target_version`` (newest first; those without ``down`` are skipped)."""
        current = self.get_current_version()
        if current is None:
            return []
        target, top = _version_key(target_version), _version_key(current)
        reverted: list[str] = []
        for migration in reversed(self._migrations):
            if target < _version_key(migration.version) <= top and migration.down is not None:
                logger.info("reverting migration %s", migration.version)
                migration.down(self.db_adapter)
                reverted.append(migration.version)
        self.set_current_version(target_version)
        return reverted

    def get_migration_status(self) -> dict[str, Any]:
        """Current and latest version, and what is pending."""
        pending = self.get_pending_migrations()
        versions = [migration.version for migration in self._migrations]
        return {
            "current_version": self.get_current_version(),
            "latest_version": versions[-1] if versions else None,
            "pending_count": len(pending),
            "pending_versions": [migration.version for migration in pending],
            "all_versions": versions,
        }


def _nothing(db_adapter: Any) -> None:
    """The 1.0.0 migration, both ways."""
