"""The one table of built-in backends.

It feeds the registries, ``docs/backends.md``, the command-line listing, the
``[project.optional-dependencies]`` of ``pyproject.toml`` and the typed backend
names of ``_names.py``; ``tests/test_catalogue.py`` fails when any of them
drifts. Importing this module imports nothing but the modules of its rows.

The rows live by kind in ``_catalogue_conversation.py``, ``_catalogue_knowledge.py``,
``_catalogue_state.py`` and ``_catalogue_embedder.py`` (the shape of a row in
``_catalogue_row.py``); the asyncio forms of the knowledge backends are derived
here, from ``_NATIVE_ASYNC_KNOWLEDGE`` below. Regenerate the docs table, the
pyproject extras and the names after editing (``_generated.py`` renders them)::

    python -m praisonai.persistence._catalogue --write
"""

from __future__ import annotations

import sys

from ._catalogue_conversation import CONVERSATION
from ._catalogue_embedder import EMBEDDER
from ._catalogue_knowledge import KNOWLEDGE
from ._catalogue_row import BuiltinBackend
from ._catalogue_row import P as _P
from ._catalogue_state import STATE

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _typing_lite.py)
if TYPE_CHECKING:
    from ._catalogue_row import Kind, Tier

__all__ = [
    "BUILTINS",
    "BY_KIND_AND_NAME",
    "KINDS",
    "SPEED_EXTRAS",
    "TIER_MEANINGS",
    "BuiltinBackend",
    "Kind",
    "Tier",
    "has_async_twin",
]


def __getattr__(name: str) -> object:
    # Kind and Tier are built with typing on first use (the config models import them), not at import.
    if name in ("Kind", "Tier"):
        from typing import Literal

        value = (
            Literal["conversation", "knowledge", "state", "embedder"]
            if name == "Kind"
            else Literal["server", "embedded", "vendor-emulator", "emulator", "wire", "fake"]
        )
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


KINDS: tuple[Kind, ...] = ("conversation", "knowledge", "state", "embedder")

TIER_MEANINGS: dict[Tier, str] = {
    "server": "a real server of the engine on loopback",
    "embedded": "the vendor's own in-process engine",
    "vendor-emulator": "the vendor's own local engine or emulator of the service, on loopback",
    "emulator": "a third-party emulator or reimplementation of the service, on loopback",
    "wire": "a stand-in of the service's wire API (HTTP, gRPC), written from its reference, driven by the vendor's SDK",
    "fake": "a client-level fake of the vendor's SDK objects; the SDK's requests are not exercised",
}

# Extras that no backend needs but some use when installed: name -> what it installs.
# numpy: exact knowledge search by matrix product in the memory store (knowledge/_layers/matrix.py).
SPEED_EXTRAS: dict[str, tuple[str, ...]] = {"numpy": ("numpy>=1.26",)}

# The asyncio form of every knowledge backend: ``async_<name>`` (alias ``<name>_async``), its
# config the sync one's under that name. Native where the driver has an async client and the
# store is written for it (name -> adapter, summary); else the sync store in worker threads.
_NATIVE_ASYNC_KNOWLEDGE: dict[str, tuple[str, str]] = {
    "chroma": (
        f"{_P}.knowledge.chroma:AsyncChromaKnowledgeStore",
        "Chroma through chromadb's AsyncHttpClient (a server; an embedded directory: the sync client in "
        "worker threads); the chroma store's steps",
    ),
    "pinecone": (
        f"{_P}.knowledge.pinecone:AsyncPineconeKnowledgeStore",
        "Pinecone through the SDK's asyncio client (PineconeAsyncio, IndexAsyncio); the pinecone store's steps",
    ),
    "qdrant": (
        f"{_P}.knowledge.qdrant:AsyncQdrantKnowledgeStore",
        "Qdrant through qdrant-client's AsyncQdrantClient (local mode or a server); the qdrant store's steps",
    ),
    "upstash_vector": (
        f"{_P}.knowledge.upstash_vector:AsyncUpstashVectorKnowledgeStore",
        "Upstash Vector through upstash-vector's AsyncIndex; the upstash_vector store's steps",
    ),
    "pgvector": (
        f"{_P}.knowledge.pgvector:AsyncPgvectorKnowledgeStore",
        "PostgreSQL + pgvector through psycopg's AsyncConnection (a pool per event loop); the pgvector store's steps",
    ),
    "redis": (
        f"{_P}.knowledge.redis:AsyncRedisVectorKnowledgeStore",
        "Redis with the search module through redis.asyncio (a client per event loop); the redis store's steps",
    ),
    "valkey": (
        f"{_P}.knowledge.valkey_vector:AsyncValkeyVectorKnowledgeStore",
        "Valkey with valkey-search through redis.asyncio: the async_redis store under Valkey's name",
    ),
    "lancedb": (
        f"{_P}.knowledge.lancedb:AsyncLanceDbKnowledgeStore",
        "LanceDB through its async API (lancedb.connect_async), in the caller's event loop; the lancedb store's steps",
    ),
    "mongodb_vector": (
        f"{_P}.knowledge.mongodb_vector:AsyncMongoVectorKnowledgeStore",
        "MongoDB Atlas Vector Search through pymongo's AsyncMongoClient; the mongodb_vector store's steps",
    ),
    "weaviate": (
        f"{_P}.knowledge.weaviate:AsyncWeaviateKnowledgeStore",
        "Weaviate through weaviate-client's WeaviateAsyncClient (REST + grpc.aio); the weaviate store's steps",
    ),
}


def _async_knowledge(sync: BuiltinBackend) -> BuiltinBackend:
    config_class = sync.config.rpartition(":")[2]
    native = _NATIVE_ASYNC_KNOWLEDGE.get(sync.name)
    if native is None:
        adapter = f"{_P}.knowledge.offload:OffloadedBuiltinStore"
        summary = f"{sync.name} for asyncio: its sync store run in worker threads (knowledge/offload.py)"
        tested_with = (
            f"as {sync.name} (its sync store); the async contract suite runs the thread offload "
            "over memory (and a JSON file)"
        )
    else:
        adapter, summary = native
        tested_with = f"{sync.tested_with}; the async contract suite too"
    return sync._replace(
        name=f"async_{sync.name}",
        config=f"{_P}.knowledge.configs.asynchronous:Async{config_class}",
        adapter=adapter,
        summary=summary,
        tested_with=tested_with,
        aliases=(f"{sync.name}_async",),
        is_async=True,
    )


BUILTINS: tuple[BuiltinBackend, ...] = tuple(
    sorted(
        CONVERSATION + KNOWLEDGE + tuple(map(_async_knowledge, KNOWLEDGE)) + STATE + EMBEDDER,
        key=lambda backend: (KINDS.index(backend.kind), backend.name),
    )
)

BY_KIND_AND_NAME: dict[tuple[Kind, str], BuiltinBackend] = {(b.kind, b.name): b for b in BUILTINS}


def has_async_twin(name: str) -> bool:
    """Whether conversation backend ``name`` has an asyncio twin, ``async_<name>`` (PraisonAI's ``mode=``)."""
    return ("conversation", name) in BY_KIND_AND_NAME and ("conversation", f"async_{name}") in BY_KIND_AND_NAME


if __name__ == "__main__":
    from ._generated import write

    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m praisonai.persistence._catalogue --write  (run from the repository root)")
    write(".")
