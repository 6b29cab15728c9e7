"""A temporary index with another chunk size, built from the documents of an existing index (no source files
needed: the stored documents are already cleaned) or from a corpus folder, so eval can measure chunking."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from index.encoders import Encoder

Progress = Callable[[str, int, int], None]


def rechunked_index(
    target: Path,
    encoder: Encoder,
    chunk_size: int,
    *,
    source_index: Path | None = None,
    corpus: Sequence[Path] = (),
    chunk_overlap: int = 0,
    hnsw_threshold: int = 50_000,
    progress: Progress | None = None,
) -> int:
    """Build an index in `target` from `corpus` (files/folders, ingested afresh) or else from the documents of
    `source_index`, chunked to `chunk_size` characters; returns the number of chunks. Raises ValueError with
    the reason when nothing could be indexed."""
    from index.store import PolicyIndex, index_chunks, update_index
    from ingest.chunk import chunk_document

    if corpus:
        report = update_index(target, list(corpus), encoder, chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                              hnsw_threshold=hnsw_threshold, rebuild=True, progress=progress)
        if not report.chunks_total:
            reasons = "; ".join(f"{name}: {why}" for name, why in report.failed) or "no supported files"
            raise ValueError(f"nothing to index in {', '.join(map(str, corpus))} ({reasons})")
        return report.chunks_total
    if source_index is None:
        raise ValueError("give the index to re-chunk or a corpus")
    documents = list(PolicyIndex.load(source_index, encoder).documents.values())
    chunks = [c for d in documents for c in chunk_document(d, max_chars=chunk_size, overlap=chunk_overlap)]
    if not chunks:
        raise ValueError(f"the index in {source_index} holds no text to re-chunk")
    index_chunks(target, documents, chunks, encoder, chunker={"chunk_size": chunk_size, "chunk_overlap": chunk_overlap},
                 hnsw_threshold=hnsw_threshold, progress=progress)
    return len(chunks)
