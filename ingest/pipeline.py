"""From a path to a `Document`: load_raw -> clean_text -> extract_metadata.

Every failure, including an unexpected one inside a library, surfaces as `IngestError` naming the file, so a
batch ingest can report and skip one bad file. `file_hash` streams the bytes so the index can skip unchanged
files without loading them; it equals `Document.content_hash` for the same bytes.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.clean import clean_text
from ingest.loaders import IngestError, load_raw
from ingest.metadata import extract_metadata
from ingest.records import Document, document_id


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks (same value as `Document.content_hash`)."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise IngestError(Path(path).name, f"cannot read file ({exc.strerror or exc})") from exc
    return digest.hexdigest()


def load_document(path: Path, max_bytes: int = 20_000_000) -> Document:
    """Load, clean and describe one file as a `Document`; raises `IngestError` naming the file."""
    path = Path(path)
    try:
        raw = load_raw(path, max_bytes=max_bytes)
        text, meta = clean_text(raw)
        if not text.strip():
            raise IngestError(path.name, "no text left after cleaning")
        found = extract_metadata(text, meta, raw.source)
    except IngestError:
        raise
    except Exception as exc:  # a parser bug on one odd file must not stop a whole batch
        raise IngestError(path.name, f"{type(exc).__name__}: {exc}") from exc
    used = {"title", "date"}
    return Document(
        id=document_id(str(path.resolve())),
        source=path.name,
        path=str(path.resolve()),
        text=text,
        content_hash=raw.raw_hash,
        title=found["title"] or "",
        date=found["date"],
        speaker=found["speaker"],
        kind=found["kind"],
        meta={key: value for key, value in meta.items() if key not in used and value},
    )
