"""The knowledge config of SurrealDB vectors (embedded or a server); its URL forms are in ``_surreal.py``."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ..._fields import TablePrefix
from ..._keywords import EMBEDDING_DIM, SURREAL_KEYWORDS, Keyword
from ..._paths import data_dir
from ..._surreal import SurrealName, SurrealSettings
from . import KnowledgeConfig

__all__ = ["SurrealVectorKnowledgeConfig"]


def _default_knowledge_surrealkv_url() -> str:
    return "surrealkv://" + str(data_dir() / "knowledge.surrealkv")


class SurrealVectorKnowledgeConfig(SurrealSettings, KnowledgeConfig):
    """SurrealDB vectors: the SDK's embedded engine (``mem://``, ``surrealkv://``) or a server (``ws://``)."""

    backend: ClassVar[str] = "surrealdb_vector"
    _example_directory: ClassVar[str] = "/var/lib/app/knowledge"
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"embedding_dim": EMBEDDING_DIM}
    praisonai_keywords: ClassVar[tuple[str, ...]] = (*SURREAL_KEYWORDS, "embedding_dim")

    url: str = Field(default_factory=_default_knowledge_surrealkv_url)
    """``mem://``, ``surrealkv:///abs/dir`` (or ``surrealkv://relative/dir``, ``surrealkv+versioned://``,
    ``file://``), ``ws[s]://host:8000/rpc``, ``http[s]://host:8000``. Default: a SurrealKV directory
    under ``$PRAISONAI_DATA_DIR``."""
    database: SurrealName = "knowledge"
    table_prefix: TablePrefix = "praison_kb_"
