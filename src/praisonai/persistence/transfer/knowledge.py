"""Copying knowledge: collections with their documents (ids, embeddings, metadata).

The contract alone cannot list a collection's documents or tell its dimension,
so a source must have the
:class:`~praisonai.persistence.knowledge.base.KnowledgeTransfer` extras
(``describe_collection``, ``iter_documents``); any store can be a target. In a
file, a collection is a ``collection`` record, its ``document`` records and a
``collection_end`` record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..errors import AlreadyExistsError, UnsupportedTransferError
from ..knowledge.base import CollectionInfo, KnowledgeDocument, KnowledgeStore
from ._compare import differing
from ._kind import GroupedTransfer, GroupReference, Reading, Run, StoreWriter, capability, store_name
from .jsonl import Groups

__all__ = ["KNOWLEDGE"]

Part = tuple[CollectionInfo, Iterator[list[KnowledgeDocument]]]


def _reader(store: KnowledgeStore) -> tuple[Callable[[str], CollectionInfo], Callable[..., Any]]:
    describe = capability(store, "describe_collection")
    iterate = capability(store, "iter_documents")
    lacking = [name for name, member in (("describe_collection", describe), ("iter_documents", iterate)) if not member]
    if lacking:
        raise UnsupportedTransferError(
            f"knowledge backend {store_name(store)!r} cannot be read in full: it lacks {' and '.join(lacking)} "
            "(the KnowledgeTransfer extras; the contract alone cannot list documents or a collection's dimension)"
        )
    return describe, iterate


def _same_vector(a: list[float] | None, b: list[float] | None) -> bool:
    if a is None or b is None:
        return a is b
    # Engines that keep float32 (pgvector, most vector databases) round the last digits.
    return len(a) == len(b) and all(abs(x - y) <= 1e-6 + 1e-5 * abs(x) for x, y in zip(a, b, strict=True))


def _same_document(a: KnowledgeDocument, b: KnowledgeDocument) -> bool:
    return _same_vector(a.embedding, b.embedding) and not differing(a, b, ("content",), ("metadata",))


class _KnowledgeWriter(StoreWriter[KnowledgeStore]):
    def __init__(self, target: KnowledgeStore, run: Run) -> None:
        super().__init__(target, run)
        self.describe = capability(target, "describe_collection")

    def write(self, part: Part) -> None:
        info, batches = part
        fresh = self._create(info)
        if fresh is None:
            return
        for batch in batches:
            self._write_documents(info.name, batch, fresh)

    def _create(self, info: CollectionInfo) -> bool | None:
        target = self.target
        if not target.collection_exists(info.name):
            target.create_collection(info.name, info.dimension, info.distance, info.metadata)
            self.report.add("copied", "collections")
            return True
        differences: list[str] = []
        if self.describe is not None:
            existing: CollectionInfo = self.describe(info.name)
            differences = differing(existing, info, ("dimension", "distance"), ("metadata",))

        def replace() -> None:
            target.delete_collection(info.name)
            target.create_collection(info.name, info.dimension, info.distance, info.metadata)

        return self._settle("collections", f"collection {info.name!r}", differences, replace)

    def _write_documents(self, collection: str, batch: list[KnowledgeDocument], fresh: bool) -> None:
        if not batch:
            return
        for document in batch:
            document.score = None
        if fresh:
            try:
                self.target.insert(collection, batch)
            except AlreadyExistsError:
                pass  # an id repeated in the source file: compare below
            else:
                self.report.add("copied", "documents", len(batch))
                return
        present = {document.id: document for document in self.target.get(collection, [d.id for d in batch])}
        missing: list[KnowledgeDocument] = []
        replace: list[KnowledgeDocument] = []
        for document, differs in self._to_write(
            "documents", batch, present, _same_document, f"collection {collection!r}"
        ):
            (replace if differs else missing).append(document)
        if missing:
            self.target.insert(collection, missing)
            self.report.add("copied", "documents", len(missing))
        if replace:
            self.target.upsert(collection, replace)
            self.report.add("copied", "documents", len(replace))


class KnowledgeKind(GroupedTransfer[KnowledgeStore, CollectionInfo, KnowledgeDocument]):
    name = "knowledge"
    units = ("collections", "documents")
    probe = "count"
    copy_unit = "documents"
    verify_unit = "collections"
    groups = Groups(head="collection", item="document", end="collection_end", key="name", count="documents")
    record_types = groups.record_types

    def check_source(self, source: KnowledgeStore) -> None:
        _reader(source)

    def read(self, source: KnowledgeStore, run: Run) -> Reading[Part, GroupReference]:
        describe, iterate = _reader(source)
        names = source.list_collections()
        total = sum(source.count(name) for name in names)
        parts = ((describe(name), run.ticking(iterate(name, run.batch_size))) for name in names)
        return Reading(total, parts, lambda: (len(names), ((name, source.count(name), None) for name in names)))

    def writer(self, target: KnowledgeStore, run: Run) -> Callable[[Part], None]:
        return _KnowledgeWriter(target, run).write

    def has_group(self, store: KnowledgeStore, name: str) -> bool:
        return store.collection_exists(name)

    def item_count(self, store: KnowledgeStore, name: str, batch_size: int) -> int:
        return store.count(name)

    def group_name(self, head: CollectionInfo) -> str:
        return head.name

    def head_record(self, head: CollectionInfo) -> dict[str, Any]:
        return {"type": "collection", **head._asdict()}

    def parse_head(self, record: dict[str, Any]) -> CollectionInfo:
        return CollectionInfo(record["name"], int(record["dimension"]), record["distance"], record["metadata"])

    def item_payload(self, item: KnowledgeDocument) -> dict[str, Any]:
        payload = item.to_dict()
        del payload["score"]
        return payload

    def parse_item(self, payload: Any) -> KnowledgeDocument:
        return KnowledgeDocument.from_dict(payload)


KNOWLEDGE = KnowledgeKind()
