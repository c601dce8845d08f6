"""Maximal marginal relevance (MMR): search results that are relevant and not alike.

Written once for every knowledge store: :func:`search_mmr` asks the store's
``search`` for ``fetch_k`` candidates, reads their embeddings with ``get`` when
the search results lack them, and picks ``limit`` of them with
:func:`maximal_marginal_relevance`, in pure Python. So the same data gives the
same results on every backend (as far as their searches return the same
candidates), and any store, a plugin's included, gets it::

    from praisonai.persistence.knowledge.mmr import search_mmr
    results = search_mmr(store, "docs", query_vector, limit=5, fetch_k=20, lambda_mult=0.5)

A knowledge store created with an embedder has it as a method
(``store.search_mmr(...)`` and ``store.search_mmr_text(...)``). Async stores:
``await search_mmr_async(store, ...)``, the same steps (:func:`search_mmr_call`)
with the store's calls awaited.

Each step picks the candidate with the highest
``lambda_mult * sim(query, d) - (1 - lambda_mult) * max(sim(d, s) for s picked)``,
``sim`` being cosine similarity whatever the collection's distance (as in
LangChain). ``lambda_mult=1`` is plain relevance order, ``0`` maximal diversity.
Ties go to the higher relevance, then to the smaller id, so the order never
depends on the order the engine returned the candidates in. Sums are exact
(``math.fsum``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Coroutine, Sequence
from operator import mul
from typing import Any, Concatenate, ParamSpec, TypeVar

from .._sansio import Call, Operation, call_on, call_on_async, drive, drive_async
from ..errors import InvalidInputError
from .base import AsyncKnowledgeStore, Filter, KnowledgeDocument, KnowledgeStore

__all__ = [
    "check_mmr_args",
    "maximal_marginal_relevance",
    "search_mmr",
    "search_mmr_async",
    "search_mmr_call",
    "search_mmr_operation",
]

P = ParamSpec("P")
R = TypeVar("R")


def _cosine(a: Sequence[float], b: Sequence[float], norm_a: float, norm_b: float) -> float:
    if not norm_a or not norm_b:
        return 0.0
    return math.fsum(map(mul, a, b)) / (norm_a * norm_b)


def _norm(vector: Sequence[float]) -> float:
    return math.sqrt(math.fsum(map(mul, vector, vector)))


def maximal_marginal_relevance(
    query_embedding: Sequence[float],
    embeddings: Sequence[Sequence[float]],
    ids: Sequence[str],
    limit: int = 5,
    lambda_mult: float = 0.5,
) -> list[int]:
    """Indexes into ``embeddings`` of the ``limit`` picks, in the order picked.

    ``ids`` (one per embedding) break exact ties. Every embedding must have
    the query's dimension.
    """
    if len(ids) != len(embeddings):
        raise ValueError(f"{len(ids)} ids for {len(embeddings)} embeddings")
    query_norm = _norm(query_embedding)
    norms = [_norm(vector) for vector in embeddings]
    relevance = [
        _cosine(query_embedding, vector, query_norm, norm) for vector, norm in zip(embeddings, norms, strict=True)
    ]
    redundancy = [-math.inf] * len(embeddings)  # highest similarity to a picked candidate
    remaining = set(range(len(embeddings)))
    picked: list[int] = []
    while remaining and len(picked) < limit:

        def rank(index: int) -> tuple[float, float, str]:
            penalty = redundancy[index] if picked else 0.0
            value = lambda_mult * relevance[index] - (1.0 - lambda_mult) * penalty
            return (-value, -relevance[index], ids[index])

        best = min(remaining, key=rank)
        picked.append(best)
        remaining.discard(best)
        for index in remaining:
            similar = _cosine(embeddings[best], embeddings[index], norms[best], norms[index])
            redundancy[index] = max(redundancy[index], similar)
    return picked


def _positive_int(value: object, name: str, backend: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be an int >= 1, got {value!r}", backend=backend)
    return value


def check_mmr_args(limit: object, fetch_k: object, lambda_mult: object, backend: str) -> tuple[int, int, float]:
    """The arguments of an MMR search, checked: ``1 <= limit <= fetch_k``, ``0 <= lambda_mult <= 1``."""
    checked_limit = _positive_int(limit, "limit", backend)
    checked_fetch_k = _positive_int(fetch_k, "fetch_k", backend)
    if checked_fetch_k < checked_limit:
        raise InvalidInputError(f"fetch_k ({fetch_k}) must be >= limit ({limit})", backend=backend)
    if isinstance(lambda_mult, bool) or not isinstance(lambda_mult, (int, float)) or not 0.0 <= lambda_mult <= 1.0:
        raise InvalidInputError(f"lambda_mult must be a number from 0 to 1, got {lambda_mult!r}", backend=backend)
    return checked_limit, checked_fetch_k, float(lambda_mult)


def search_mmr_call(
    store: object,
    collection: str,
    query_embedding: Sequence[float],
    limit: int = 5,
    fetch_k: int = 20,
    lambda_mult: float = 0.5,
    filters: Filter | None = None,
) -> Operation[Call, list[KnowledgeDocument]]:
    """The MMR picks among ``store``'s ``fetch_k`` best matches, in the order picked.

    Each result is the document as ``search`` returned it (its ``score`` the
    store's), with its embedding.
    """
    backend = str(getattr(store, "backend", type(store).__name__))
    return search_mmr_operation(collection, query_embedding, limit, fetch_k, lambda_mult, filters, backend)


def _on_store(
    operation: Callable[Concatenate[Any, P], Operation[Call, R]], name: str
) -> Callable[Concatenate[KnowledgeStore, P], R]:
    def run(store: KnowledgeStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return drive(operation(store, *args, **kwargs), call_on(store))

    run.__name__ = run.__qualname__ = name
    run.__doc__ = operation.__doc__
    return run


def _on_async_store(
    operation: Callable[Concatenate[Any, P], Operation[Call, R]], name: str
) -> Callable[Concatenate[AsyncKnowledgeStore, P], Coroutine[Any, Any, R]]:
    async def run(store: AsyncKnowledgeStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await drive_async(operation(store, *args, **kwargs), call_on_async(store))

    run.__name__ = run.__qualname__ = name
    run.__doc__ = f"{operation.__doc__}\n\n    On an :class:`AsyncKnowledgeStore`: the same picks for the same data."
    return run


search_mmr = _on_store(search_mmr_call, "search_mmr")
"""``search_mmr(store, collection, query_embedding, limit=5, fetch_k=20, lambda_mult=0.5, filters=None)``:
the steps of :func:`search_mmr_call` on a :class:`KnowledgeStore`."""
search_mmr_async = _on_async_store(search_mmr_call, "search_mmr_async")
"""``await search_mmr_async(store, ...)``: the same on an :class:`AsyncKnowledgeStore`."""


def search_mmr_operation(
    collection: str,
    query_embedding: Sequence[float],
    limit: int,
    fetch_k: int,
    lambda_mult: float,
    filters: Filter | None,
    backend: str,
) -> Operation[Call, list[KnowledgeDocument]]:
    """The steps of an MMR search, as :class:`Call` requests of the store's ``search`` and ``get``."""
    limit, fetch_k, lambda_mult = check_mmr_args(limit, fetch_k, lambda_mult, backend)
    candidates: list[KnowledgeDocument] = yield Call("search", (collection, query_embedding, fetch_k, filters))
    missing = [document.id for document in candidates if document.embedding is None]
    found: list[KnowledgeDocument] = (yield Call("get", (collection, missing))) if missing else []
    stored = {document.id: document.embedding for document in found}
    complete: list[KnowledgeDocument] = []
    for document in candidates:
        if document.embedding is None:
            embedding = stored.get(document.id)
            if embedding is None:
                continue  # deleted between the search and the get
            document = dataclasses.replace(document, embedding=list(embedding))
        complete.append(document)
    picks = maximal_marginal_relevance(
        list(query_embedding),
        [document.embedding or [] for document in complete],
        [document.id for document in complete],
        limit,
        lambda_mult,
    )
    return [complete[index] for index in picks]
