"""Knowledge configs of frameworks: langchain and llamaindex (wrapping their vector stores), lightrag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from pydantic import Field, PlainSerializer, field_validator, model_validator
from typing_extensions import Self

from ..._fields import Text
from ..._keywords import Ignored, Keyword, refuse_given
from ..._paths import data_dir
from ..base import Distance
from ..filters import FilterNode
from . import KnowledgeConfig

__all__ = ["LangChainKnowledgeConfig", "LightRagKnowledgeConfig", "LlamaIndexKnowledgeConfig"]


def _built_by_caller(store_keyword: str) -> Ignored:
    # PraisonAI could import and build the store from a class path; the store must embed as ours requires.
    return Ignored(
        f"build the store and pass it as {store_keyword}=",
        refuse_given(f"cannot build the store from a class path; build it and pass it as {store_keyword}="),
    )


class _FrameworkSettings(KnowledgeConfig):
    """What the framework adapters share: the wrapped store and how to read its scores and filters."""

    _required_methods: ClassVar[tuple[str, ...]] = ()
    _framework: ClassVar[str] = ""

    vector_store: Any
    """The framework's vector store object to wrap (it is used, never copied)."""
    distance: Distance = "cosine"
    """The distance the wrapped store ranks by; the adapter's collections all use it."""
    score_transform: Callable[[float], float] | None = None
    """Turns the store's raw score into the portable score (higher is closer); default: the raw score,
    which is right for the framework's in-memory store."""
    filter_translator: Callable[[FilterNode], Any] | None = None
    """Turns a parsed portable filter into the store's native filter. Default: exact filtering for the
    framework's in-memory store; for other stores, filters raise UnsupportedFilterError until one is given."""

    @field_validator("vector_store")
    @classmethod
    def _looks_like_a_vector_store(cls, value: Any) -> Any:
        missing = [name for name in cls._required_methods if not callable(getattr(value, name, None))]
        if value is None or missing:
            raise ValueError(
                f"expected a {cls._framework} vector store object; {type(value).__name__} lacks "
                f"{', '.join(missing) or 'everything'}"
            )
        return value


class LangChainKnowledgeConfig(_FrameworkSettings):
    """Wraps a LangChain ``VectorStore`` (for example ``langchain_core.vectorstores.InMemoryVectorStore``).

    The store must embed through :class:`praisonai.persistence.knowledge.langchain.PrecomputedEmbeddings`
    (or offer ``add_embeddings``), so that the caller's embeddings are stored as given.
    """

    backend: ClassVar[str] = "langchain"
    _required_methods: ClassVar[tuple[str, ...]] = (
        "add_documents",
        "delete",
        "get_by_ids",
        "similarity_search_with_score_by_vector",
    )
    _framework: ClassVar[str] = "LangChain"
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "vectorstore": "vector_store",
        "vectorstore_cls": _built_by_caller("vectorstore"),
        "vectorstore_kwargs": _built_by_caller("vectorstore"),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("vectorstore", "vectorstore_cls", "vectorstore_kwargs")


class LlamaIndexKnowledgeConfig(_FrameworkSettings):
    """Wraps a LlamaIndex vector store (for example ``llama_index.core.vector_stores.SimpleVectorStore``)."""

    backend: ClassVar[str] = "llamaindex"
    _required_methods: ClassVar[tuple[str, ...]] = ("add", "delete_nodes", "query")
    _framework: ClassVar[str] = "LlamaIndex"
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "vector_store_cls": _built_by_caller("vector_store"),
        "vector_store_kwargs": _built_by_caller("vector_store"),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("vector_store", "vector_store_cls", "vector_store_kwargs")


_MODEL_NAME = Ignored(
    "a model name does not call a model (PraisonAI 4.7.19 ignores it too); pass llm_model_func / embedding_func"
)


def _json_safe(options: dict[str, Any]) -> dict[str, Any]:
    # Options may hold any object (storage classes, functions); JSON shows their repr.
    return {
        key: value if isinstance(value, str | int | float | bool | None) else repr(value)
        for key, value in options.items()
    }


def _default_lightrag_dir() -> str:
    return str(data_dir() / "lightrag")


class LightRagKnowledgeConfig(KnowledgeConfig):
    """LightRAG (lightrag-hku) on its default local storage: one LightRAG workspace per collection.

    Nothing is downloaded: the tokenizer defaults to a built-in code-point tokenizer, the LLM to
    one that extracts nothing (pass ``llm_model_func`` to build LightRAG's knowledge graph).
    """

    backend: ClassVar[str] = "lightrag"
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "llm_model": _MODEL_NAME,
        "embedding_model": _MODEL_NAME,
    }
    other_keywords: ClassVar[str | None] = "lightrag_options"
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("working_dir", "llm_model", "embedding_model")

    working_dir: Text = Field(default_factory=_default_lightrag_dir, min_length=1)
    """Directory of LightRAG's files and of the collection catalogue."""
    llm_model_func: Callable[..., Any] | None = None
    """LightRAG's ``llm_model_func`` (async). Default: an extractor that finds no entities, so LightRAG
    works as a chunk vector store and nothing calls a model."""
    embedding_func: Callable[..., Any] | None = None
    """Async ``(texts: list[str]) -> array`` for texts that are not a whole document's content (chunks of
    long documents, entity descriptions, text queries). Documents that fit one chunk use their own embedding."""
    tokenizer: Any = None
    """A ``lightrag.utils.Tokenizer`` (or an object with ``encode``/``decode``). Default: one token per
    code point, which needs no download (LightRAG's default tiktoken tokenizer downloads its vocabulary)."""
    chunk_token_size: int = Field(default=1200, ge=16)
    chunk_overlap_token_size: int = Field(default=100, ge=0)
    lightrag_options: Annotated[dict[str, Any], PlainSerializer(_json_safe, when_used="json")] = Field(
        default_factory=dict
    )
    """Further keyword arguments for ``LightRAG(...)`` (storage classes, ``addon_params``, ...). Keywords this
    config does not know land here too, as PraisonAI passes them on (names like ``api_key`` are refused)."""

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Self:
        if self.chunk_overlap_token_size >= self.chunk_token_size:
            raise ValueError("chunk_overlap_token_size must be smaller than chunk_token_size")
        reserved = {"working_dir", "workspace", "embedding_func", "llm_model_func", "tokenizer"}
        clash = sorted(reserved & set(self.lightrag_options))
        if clash:
            raise ValueError(f"lightrag_options must not set {', '.join(clash)}: they are fields of this config")
        return self
