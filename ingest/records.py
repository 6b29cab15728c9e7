"""Records produced by ingest: a cleaned `Document` and the `Chunk`s cut from it."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Document:
    """One cleaned source file with its metadata; `text` is NFKC-normalised simplified Chinese."""

    id: str  # stable id derived from the source path (see `document_id`)
    source: str  # file name as ingested, e.g. "003_0bb6f145e860c0a7.txt"
    path: str  # absolute path at ingest time
    text: str  # cleaned text; chunk offsets point into this string
    content_hash: str  # sha256 of the raw file bytes
    title: str = ""
    date: str | None = None  # ISO "YYYY-MM-DD" when found
    speaker: str | None = None
    kind: str | None = None  # 讲话 / 实施方案 / 新闻报道 / ...
    meta: dict[str, str] = field(default_factory=dict)  # anything else the loader kept (category, tags...)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a `Document`; `text == document.text[start:end]`."""

    id: str  # f"{doc_id}:{ordinal}"
    doc_id: str
    text: str
    start: int
    end: int
    section: tuple[str, ...] = ()  # heading path, outermost first


def document_id(source_path: str) -> str:
    """Stable id of a document: short hash of its normalised source path."""
    return hashlib.sha1(source_path.encode("utf-8")).hexdigest()[:16]


def content_hash(data: bytes) -> str:
    """Hash of a file's raw bytes, used to skip unchanged files on re-ingest."""
    return hashlib.sha256(data).hexdigest()
