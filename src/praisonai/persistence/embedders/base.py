"""The embedder contract: text in, vectors of one fixed dimension out.

Embedders are the fourth plugin kind, beside the three kinds of stores: the
registry :data:`~praisonai.persistence.registry.EMBEDDERS`, the entry-point
group ``praisonai.embedders``. A knowledge store created with an embedder
(``KNOWLEDGE_STORES.create(..., embedder=...)``) embeds the documents it is
given without vectors and searches by text.

``Embedder`` and its asyncio twin ``AsyncEmbedder`` are runtime-checkable
Protocols; subclass one explicitly to inherit ``embed_query`` and the context
manager. Semantics every embedder keeps (checked by
:class:`praisonai.persistence.testing.EmbedderContract`):

- ``dimension`` is a positive int, fixed for the embedder's life, and every
  vector it returns has exactly that many finite floats;
- ``embed(texts)`` returns one vector per text, in the order given (an empty
  sequence gives an empty list), and the same text gives the same vector;
- ``embed_query(text)`` is the vector of one text (models that embed queries
  differently from documents override it);
- a text that is not a ``str`` raises
  :class:`~praisonai.persistence.errors.InvalidInputError`; a service that
  cannot be reached raises :class:`~praisonai.persistence.errors.BackendUnavailableError`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .._closing import AsyncClosing, Closing

__all__ = ["AsyncEmbedder", "Embedder", "Vector"]

Vector = list[float]


@runtime_checkable
class Embedder(Closing, Protocol):
    """A synchronous text embedder."""

    @property
    @abstractmethod
    def dimension(self) -> int:
        """How many floats each vector has."""

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> list[Vector]:
        """One vector per text, in order."""

    def embed_query(self, text: str) -> Vector:
        """The vector of one search query."""
        return self.embed([text])[0]

    @abstractmethod
    def close(self) -> None:
        """Release what the embedder holds (connections, a model); idempotent."""


@runtime_checkable
class AsyncEmbedder(AsyncClosing, Protocol):
    """The asyncio twin of :class:`Embedder`, with the same semantics."""

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @abstractmethod
    async def embed(self, texts: Sequence[str]) -> list[Vector]: ...

    async def embed_query(self, text: str) -> Vector:
        return (await self.embed([text]))[0]
