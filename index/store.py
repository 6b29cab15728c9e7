"""The persisted index: versioned directories switched atomically, incremental updates, and loading.

Layout::

    INDEX_DIR/CURRENT                 "versions/<id>" (replaced atomically with os.replace)
    INDEX_DIR/versions/<id>/          manifest.json documents.jsonl chunks.jsonl terms.txt bm25/ dense/

An update writes a complete new version next to the current one and only then switches CURRENT, so a process
killed halfway leaves the previous index untouched. The current and the previous version are kept.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from index.crosslingual import translate_terms
from index.dense import DenseIndex
from index.encoders import Encoder
from index.lexical import DEFAULT_TOKENIZER_MODE, TOKENIZER_MODES, LexicalIndex, harvest_terms, new_segmenter
from index.lexical import tokenize as lexical_tokenize
from index.retrievers import BM25Retriever, DenseRetriever, HybridRetriever, RerankingRetriever, Retriever
from ingest.normalize import contains_cjk, normalize_text
from ingest.records import Chunk, Document

SCHEMA_VERSION = 1
CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"
KEEP_VERSIONS = 2
INGEST_HINT = "policyqa ingest data/speeches"
REBUILD_HINT = "policyqa ingest --rebuild data/speeches"

Progress = Callable[[str, int, int], None]


class PolicyIndexError(Exception):
    """Base class of the index's own errors; the message says what to do."""


class IndexNotFoundError(PolicyIndexError):
    """No index has been built in the directory yet."""


class RebuildRequiredError(PolicyIndexError, ValueError):
    """The index was built with settings (encoder, chunking, format) that the request does not match."""


class EncoderMismatchError(RebuildRequiredError):
    """The index's vectors come from another encoder than the one configured."""


@dataclass
class IngestReport:
    """What an `update_index` call did, file by file."""

    indexed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    removed: list[str] = field(default_factory=list)
    chunks_total: int = 0
    seconds: float = 0.0
    version: str | None = None  # the version written; None when nothing changed


# ----------------------------------------------------------------------------------------------- reading


def current_version_dir(index_dir: str | Path) -> Path | None:
    """The directory of the current version, or None when no index was ever switched in."""
    index_dir = Path(index_dir)
    pointer = index_dir / CURRENT_FILE
    if not pointer.is_file():
        return None
    target = index_dir / pointer.read_text(encoding="utf-8").strip()
    return target if target.is_dir() else None


def _read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _read_records(version_dir: Path) -> tuple[list[Document], list[Chunk]]:
    documents = [Document(**d) for d in _read_jsonl(version_dir / "documents.jsonl")]
    by_id = {d.id: d for d in documents}
    chunks = []
    for c in _read_jsonl(version_dir / "chunks.jsonl"):
        text = c.pop("text", None)
        if text is None:  # stored without text when it is the document's own slice (halves the file)
            text = by_id[c["doc_id"]].text[c["start"] : c["end"]]
        chunks.append(Chunk(text=text, section=tuple(c.pop("section", ())), **c))
    return documents, chunks


def _read_manifest(version_dir: Path) -> dict:
    return json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))


def _encoder_mismatch_message(index_dir: Path, manifest: dict, encoder: Encoder) -> str:
    built = manifest["encoder"]
    info = encoder.info
    return (
        f"the index in {index_dir} was built with encoder {built['name']} (dim {built['dim']}), but the configured "
        f"encoder is {info.name} (dim {info.dim}). Rebuild it with `{REBUILD_HINT}` (with your folder), or set "
        f"POLICYQA_ENCODER={built.get('spec', built['name'])} to use the index as it is."
    )


class PolicyIndex:
    """A loaded index version: documents, chunks, BM25 and FAISS indexes, and the encoder for questions."""

    def __init__(
        self,
        path: Path,
        manifest: dict,
        documents: Mapping[str, Document],
        chunks: list[Chunk],
        lexical: LexicalIndex,
        dense: DenseIndex,
        encoder: Encoder,
        terms: Sequence[str],
    ):
        self.path = path
        self.manifest = manifest
        self.documents = dict(documents)
        self.chunks = chunks
        self.lexical = lexical
        self.dense = dense
        self.encoder = encoder
        self.terms = list(terms)
        self.tokenizer_mode = manifest["bm25"]["tokenizer"]
        self._segmenter = new_segmenter(self.terms)
        self._retrievers: dict[tuple, Retriever] = {}

    @property
    def version(self) -> str:
        """The version id (its directory name)."""
        return self.path.name

    @classmethod
    def load(cls, index_dir: str | Path, encoder: Encoder) -> PolicyIndex:
        """Load the current version; raises IndexNotFoundError / EncoderMismatchError with what to do."""
        index_dir = Path(index_dir)
        version_dir = current_version_dir(index_dir)
        if version_dir is None:
            raise IndexNotFoundError(f"no index in {index_dir}: build one with `{INGEST_HINT}`")
        manifest = _read_manifest(version_dir)
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise RebuildRequiredError(
                f"the index in {index_dir} has format {manifest.get('schema_version')}, this version reads "
                f"{SCHEMA_VERSION}: rebuild it with `{REBUILD_HINT}`"
            )
        info = encoder.info
        if (manifest["encoder"]["name"], manifest["encoder"]["dim"]) != (info.name, info.dim):
            raise EncoderMismatchError(_encoder_mismatch_message(index_dir, manifest, encoder))
        documents, chunks = _read_records(version_dir)
        terms = (version_dir / "terms.txt").read_text(encoding="utf-8").split()
        return cls(
            path=version_dir,
            manifest=manifest,
            documents={d.id: d for d in documents},
            chunks=chunks,
            lexical=LexicalIndex.load(version_dir / "bm25", mmap=True),
            dense=DenseIndex.load(version_dir / "dense"),
            encoder=encoder,
            terms=terms,
        )

    def ingested_at(self, doc_id: str) -> str | None:
        """When the document's current content entered the index (ISO 8601 UTC; older indexes: the version's date)."""
        if not hasattr(self, "_ingested_at"):
            self._ingested_at = {
                meta["doc_id"]: meta.get("ingested_at") or self.manifest.get("created_at")
                for meta in self.manifest.get("documents", {}).values()
            }
        return self._ingested_at.get(doc_id)

    def tokenize(self, text: str, mode: str | None = None) -> list[str]:
        """BM25 tokens of any text, as the index sees them (normalised first; mode defaults to the index's)."""
        return lexical_tokenize(normalize_text(text), mode or self.tokenizer_mode, segmenter=self._segmenter)

    def query_tokens(self, query: str) -> list[str]:
        """BM25 tokens of a question; a question without Chinese also gets the tokens of its dictionary
        translations found in this index, so that the lexical leg can match an English question."""
        tokens = self.tokenize(query)
        if not contains_cjk(query):
            for term in self.translate(query):
                tokens += self.tokenize(term)
        return tokens

    def translate(self, question: str) -> list[str]:
        """Chinese dictionary translations of a non-Chinese question's words, only those this index contains."""
        return translate_terms(question, vocabulary=lambda term: self.lexical.doc_freq(term) > 0)

    def idf(self, token: str) -> float:
        """BM25 idf of a token in this index (high for rare and unknown tokens)."""
        return self.lexical.idf(token)

    def retriever(
        self,
        leg: str = "hybrid",
        weights: Mapping[str, float] | None = None,
        fusion_k: int = 60,
        reranker: str | Path | None = None,
        candidates: int = 20,
    ) -> Retriever:
        """A retriever over this index: leg "bm25", "dense" or "hybrid", optionally reranked by a cross-encoder."""
        key = (leg, tuple(sorted((weights or {}).items())), fusion_k, str(reranker) if reranker else None, candidates)
        if key in self._retrievers:  # keeps a loaded cross-encoder alive between calls
            return self._retrievers[key]
        bm25 = BM25Retriever(self.lexical, self.query_tokens, self.chunks, self.documents)
        dense = DenseRetriever(self.dense, self.encoder, self.chunks, self.documents)
        if leg == "bm25":
            inner: Retriever = bm25
        elif leg == "dense":
            inner = dense
        elif leg == "hybrid":
            inner = HybridRetriever(bm25, dense, weights=weights, k=fusion_k)
        else:
            raise ValueError(f"unknown retrieval leg {leg!r}: expected 'hybrid', 'bm25' or 'dense'")
        retriever = RerankingRetriever(inner, reranker, candidates) if reranker else inner
        self._retrievers[key] = retriever
        return retriever


# ----------------------------------------------------------------------------------------------- ingest hooks
# Thin wrappers over the ingest package (imported when used) so the batch logic below reads as one story.


def _find_files(paths: Iterable[Path]) -> list[Path]:
    from ingest.loaders import find_files

    return find_files(paths)


def _file_hash(path: Path) -> str:
    from ingest.pipeline import file_hash

    return file_hash(path)


def _load_document(path: Path, max_bytes: int) -> Document:
    from ingest.pipeline import load_document

    return load_document(path, max_bytes=max_bytes)


def _chunk_document(doc: Document, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    from ingest.chunk import chunk_document

    return chunk_document(doc, max_chars=chunk_size, overlap=chunk_overlap)


def _failure(fallback_source: str, exc: BaseException) -> tuple[str, str]:
    """(source, reason) for the report: ingest.loaders.IngestError names the file and says why in words;
    anything else is named by its path and exception type (UnicodeDecodeError's terse .reason is not used)."""
    if hasattr(exc, "source") and getattr(exc, "reason", None):
        return str(exc.source), str(exc.reason)
    return fallback_source, f"{type(exc).__name__}: {exc}"


# ----------------------------------------------------------------------------------------------- writing


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_records(version_dir: Path, documents: Sequence[Document], chunks: Sequence[Chunk]) -> None:
    by_id = {d.id: d for d in documents}
    _write_jsonl(version_dir / "documents.jsonl", (dataclasses.asdict(d) for d in documents))

    def chunk_row(c: Chunk) -> dict:
        row = dataclasses.asdict(c)
        row["section"] = list(c.section)
        if by_id[c.doc_id].text[c.start : c.end] == c.text:
            del row["text"]
        return row

    _write_jsonl(version_dir / "chunks.jsonl", (chunk_row(c) for c in chunks))


def _save_lexical(version_dir: Path, lexical: LexicalIndex) -> None:
    lexical.save(version_dir / "bm25")


def _save_dense(version_dir: Path, dense: DenseIndex) -> None:
    dense.save(version_dir / "dense")


def _write_manifest(version_dir: Path, manifest: dict) -> None:
    # written last: a version directory without a manifest is by definition incomplete
    (version_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _switch_current(index_dir: Path, version_id: str) -> None:
    """Point CURRENT at versions/<version_id> atomically (write a temp file, then os.replace)."""
    tmp = index_dir / f"{CURRENT_FILE}.{secrets.token_hex(4)}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(f"{VERSIONS_DIR}/{version_id}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / CURRENT_FILE)
    _fsync_dir(index_dir)


def _prune_versions(index_dir: Path, keep: Iterable[str]) -> None:
    """Remove version directories (and leftovers of interrupted runs) other than `keep`."""
    keep = set(keep)
    versions = index_dir / VERSIONS_DIR
    for child in versions.iterdir() if versions.is_dir() else ():
        if child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)
    for stale in index_dir.glob(f"{CURRENT_FILE}.*.tmp"):
        stale.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive(index_dir: Path) -> Iterator[None]:
    """Refuse a second concurrent update of the same index (the lock dies with its process)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; concurrent ingests are the user's responsibility
        yield
        return
    with (index_dir / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PolicyIndexError(f"another ingest is updating {index_dir}; wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _new_version_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def write_version(
    index_dir: str | Path,
    documents: Sequence[tuple[str, Document]],
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    encoder: Encoder,
    *,
    chunker: Mapping[str, int],
    tokenizer_mode: str = DEFAULT_TOKENIZER_MODE,
    bm25_k1: float = 1.2,
    bm25_b: float = 0.75,
    hnsw_threshold: int = 50_000,
    progress: Progress | None = None,
    keep: Iterable[str] = (),
    ingested_at: Mapping[str, str] | None = None,
) -> str:
    """Build BM25 and FAISS over `chunks` (row i embedded as vectors[i]), write them as a new version and make it
    current; `documents` are (source key, Document) in chunk order. Returns the version id.

    Versions other than the new one and `keep` are removed afterwards. The caller holds the update lock.
    `ingested_at` gives, by source key, when a document already in the index was ingested; others get now.
    """
    report_progress: Progress = progress or (lambda stage, done, total: None)
    index_dir = Path(index_dir)
    info = encoder.info
    if len(vectors) != len(chunks):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")

    # lexical: user dictionary from shipped + harvested terms, then BM25 over every chunk
    terms = harvest_terms(doc.text for _, doc in documents)
    segmenter = new_segmenter(terms)

    def token_lists():
        for i, c in enumerate(chunks, start=1):
            yield lexical_tokenize(c.text, tokenizer_mode, segmenter=segmenter)
            if i % 1000 == 0:
                report_progress("bm25", i, len(chunks))

    report_progress("bm25", 0, len(chunks))
    lexical = LexicalIndex(k1=bm25_k1, b=bm25_b).build(token_lists())  # streamed: token strings are not kept
    report_progress("bm25", len(chunks), len(chunks))

    report_progress("faiss", 0, 1)
    dense = DenseIndex().build(vectors, hnsw_threshold=hnsw_threshold)
    report_progress("faiss", 1, 1)

    # write the new version beside the current one, then switch atomically
    report_progress("write", 0, 1)
    version_id = _new_version_id()
    versions = index_dir / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    tmp_dir = versions / f"{version_id}.tmp"
    tmp_dir.mkdir()
    per_doc: dict[str, int] = {}
    for c in chunks:
        per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
    created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    ingested_at = ingested_at or {}
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "created_at": created_at,
        "encoder": {"name": info.name, "dim": info.dim, "spec": encoder.spec},
        "chunker": dict(chunker),
        "bm25": {"method": "lucene", "k1": bm25_k1, "b": bm25_b, "tokenizer": tokenizer_mode},
        "faiss": {"kind": dense.kind, "hnsw_threshold": hnsw_threshold},
        "counts": {"documents": len(documents), "chunks": len(chunks), "terms": len(terms)},
        "documents": {
            key: {
                "doc_id": doc.id,
                "content_hash": doc.content_hash,
                "source": doc.source,
                "title": doc.title,
                "chunks": per_doc.get(doc.id, 0),
                "ingested_at": ingested_at.get(key) or created_at,
            }
            for key, doc in documents
        },
    }
    _write_records(tmp_dir, [doc for _, doc in documents], chunks)
    (tmp_dir / "terms.txt").write_text("\n".join(terms) + ("\n" if terms else ""), encoding="utf-8")
    _save_lexical(tmp_dir, lexical)
    _save_dense(tmp_dir, dense)
    _write_manifest(tmp_dir, manifest)
    os.replace(tmp_dir, versions / version_id)
    _fsync_dir(versions)
    _switch_current(index_dir, version_id)
    report_progress("write", 1, 1)
    _prune_versions(index_dir, [version_id, *list(keep)[: KEEP_VERSIONS - 1]])
    return version_id


def index_chunks(
    index_dir: str | Path,
    documents: Sequence[Document],
    chunks: Sequence[Chunk],
    encoder: Encoder,
    *,
    chunker: Mapping[str, int],
    tokenizer_mode: str = DEFAULT_TOKENIZER_MODE,
    hnsw_threshold: int = 50_000,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> str:
    """Embed ready-made chunks (e.g. benchmark passages, one chunk each) and write them as the new current
    version of `index_dir`, replacing what it held; returns the version id."""
    if tokenizer_mode not in TOKENIZER_MODES:
        raise ValueError(f"unknown tokenizer mode {tokenizer_mode!r}; expected one of {TOKENIZER_MODES}")
    report_progress: Progress = progress or (lambda stage, done, total: None)
    known = {d.id for d in documents}
    orphans = [c.id for c in chunks if c.doc_id not in known]
    if orphans:
        raise ValueError(f"{len(orphans)} chunks name no given document, e.g. {orphans[0]!r}")
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    vectors = np.zeros((len(chunks), encoder.info.dim), dtype=np.float32)
    report_progress("embed", 0, len(chunks))
    for start in range(0, len(chunks), batch_size):
        batch = chunks[start : start + batch_size]
        vectors[start : start + len(batch)] = encoder.embed_passages([c.text for c in batch])
        report_progress("embed", start + len(batch), len(chunks))
    with _exclusive(index_dir):
        return write_version(
            index_dir,
            [(d.path, d) for d in documents],
            chunks,
            vectors,
            encoder,
            chunker=chunker,
            tokenizer_mode=tokenizer_mode,
            hnsw_threshold=hnsw_threshold,
            progress=report_progress,
        )


# ----------------------------------------------------------------------------------------------- updating


@dataclass
class _Entry:
    """One document of the index being assembled, with its chunks and (when reused) their vectors."""

    key: str  # resolved source path
    document: Document
    chunks: list[Chunk]
    vectors: np.ndarray | None = None  # None: to embed
    ingested_at: str | None = None  # None: ingested by this update


def _old_entries(version_dir: Path, manifest: dict) -> dict[str, _Entry]:
    documents, chunks = _read_records(version_dir)
    vectors = DenseIndex.load(version_dir / "dense").vectors
    rows: dict[str, list[int]] = {}
    for row, c in enumerate(chunks):
        rows.setdefault(c.doc_id, []).append(row)
    key_of = {meta["doc_id"]: key for key, meta in manifest["documents"].items()}
    entries = {}
    for doc in documents:
        doc_rows = rows.get(doc.id, [])
        entries[key_of[doc.id]] = _Entry(
            key=key_of[doc.id],
            document=doc,
            chunks=[chunks[r] for r in doc_rows],
            vectors=np.asarray(vectors[doc_rows], dtype=np.float32) if doc_rows else None,
            ingested_at=manifest["documents"][key_of[doc.id]].get("ingested_at") or manifest.get("created_at"),
        )
    return entries


def _match_removals(remove: Iterable[str], entries: Mapping[str, _Entry]) -> tuple[list[str], list[str]]:
    """Keys of indexed documents named by path or file name, and the names that matched nothing."""
    matched: list[str] = []
    unknown: list[str] = []
    for name in remove:
        as_path = str(Path(name).expanduser().resolve())
        keys = [
            key
            for key, e in entries.items()
            if key == as_path or key == name or Path(key).name == name or e.document.source == name
        ]
        if keys:
            matched.extend(k for k in keys if k not in matched)
        else:
            unknown.append(name)
    return matched, unknown


def _embed_entries(entries: Sequence[_Entry], encoder: Encoder, batch_size: int, progress: Progress) -> None:
    todo = [(e, i) for e in entries if e.vectors is None for i in range(len(e.chunks))]
    dim = encoder.info.dim
    for e in entries:
        if e.vectors is None:
            e.vectors = np.zeros((len(e.chunks), dim), dtype=np.float32)
    progress("embed", 0, len(todo))
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        vectors = encoder.embed_passages([e.chunks[i].text for e, i in batch])
        for (e, i), v in zip(batch, vectors):
            e.vectors[i] = v
        progress("embed", min(start + batch_size, len(todo)), len(todo))


def update_index(
    index_dir: str | Path,
    paths: Sequence[str | Path],
    encoder: Encoder,
    *,
    chunk_size: int = 300,
    chunk_overlap: int = 0,
    hnsw_threshold: int = 50_000,
    remove: Iterable[str] = (),
    rebuild: bool = False,
    progress: Progress | None = None,
    max_bytes: int = 20_000_000,
    tokenizer_mode: str = DEFAULT_TOKENIZER_MODE,
    bm25_k1: float = 1.2,
    bm25_b: float = 0.75,
    batch_size: int = 32,
) -> IngestReport:
    """Add, replace and remove files in the index, writing a new version only when something changed.

    Unchanged files (same sha256) are neither loaded nor re-embedded; BM25 and FAISS are rebuilt over all
    chunks. A file that fails is reported in `failed` and the batch goes on (a changed file that fails keeps
    its previous version in the index). `rebuild=True` starts from the given paths only, and is required to
    change the encoder or the chunking of an existing index.
    """
    started = time.perf_counter()
    if tokenizer_mode not in TOKENIZER_MODES:
        raise ValueError(f"unknown tokenizer mode {tokenizer_mode!r}; expected one of {TOKENIZER_MODES}")
    report_progress: Progress = progress or (lambda stage, done, total: None)
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    report = IngestReport()
    info = encoder.info
    chunker = {"chunk_size": chunk_size, "chunk_overlap": chunk_overlap}
    bm25_params = {"method": "lucene", "k1": bm25_k1, "b": bm25_b, "tokenizer": tokenizer_mode}

    with _exclusive(index_dir):
        previous_dir = current_version_dir(index_dir)
        old_manifest: dict | None = None
        entries: dict[str, _Entry] = {}
        if previous_dir is not None and not rebuild:
            try:
                old_manifest = _read_manifest(previous_dir)
            except (OSError, ValueError) as exc:
                raise RebuildRequiredError(
                    f"the index in {index_dir} cannot be read ({exc}); rebuild it with `{REBUILD_HINT}`"
                ) from exc
            if old_manifest.get("schema_version") != SCHEMA_VERSION:
                raise RebuildRequiredError(f"the index in {index_dir} has another format: run `{REBUILD_HINT}`")
            built = old_manifest["encoder"]
            if (built["name"], built["dim"]) != (info.name, info.dim):
                raise EncoderMismatchError(_encoder_mismatch_message(index_dir, old_manifest, encoder))
            if old_manifest["chunker"] != chunker:
                raise RebuildRequiredError(
                    f"the index in {index_dir} was chunked with {old_manifest['chunker']}, not {chunker}: "
                    f"rebuild it with `{REBUILD_HINT}` or keep the old chunk settings"
                )
            try:
                entries = _old_entries(previous_dir, old_manifest)
            except (OSError, ValueError, KeyError) as exc:
                raise RebuildRequiredError(
                    f"the index in {index_dir} cannot be read ({exc}); rebuild it with `{REBUILD_HINT}`"
                ) from exc

        # 1. find files; a missing path fails alone instead of sinking the batch
        files: dict[str, Path] = {}
        for given in paths:
            try:
                for path in _find_files([Path(given)]):
                    files.setdefault(str(Path(path).resolve()), Path(path))
            except Exception as exc:  # noqa: BLE001 - the batch boundary: report and go on
                report.failed.append(_failure(str(given), exc))

        # 2. removals first, so "remove a, add a" in one call re-adds it
        removed, unknown = _match_removals(remove, entries)
        for key in removed:
            del entries[key]
        report.removed = removed
        report.failed.extend((name, "not in the index") for name in unknown)

        # 3. load and chunk new or changed files
        for done, (key, path) in enumerate(files.items(), start=1):
            report_progress("load", done - 1, len(files))
            old = entries.get(key)
            try:
                if old is not None and _file_hash(path) == old.document.content_hash:
                    report.unchanged.append(key)
                    continue
                document = _load_document(path, max_bytes)
                chunks = _chunk_document(document, chunk_size, chunk_overlap)
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                report.failed.append(_failure(key, exc))
                continue
            entries[key] = _Entry(key, document, chunks)
            report.indexed.append(key)
        report_progress("load", len(files), len(files))

        ordered = [entries[k] for k in sorted(entries)]
        all_chunks = [c for e in ordered for c in e.chunks]
        faiss_kind = "flat" if len(all_chunks) <= hnsw_threshold else "hnsw"
        settings_changed = old_manifest is not None and (
            old_manifest["bm25"] != bm25_params or old_manifest["faiss"]["kind"] != faiss_kind
        )
        nothing_to_write = not (report.indexed or report.removed or settings_changed or rebuild) or (
            old_manifest is None and not entries
        )
        if nothing_to_write:
            report.chunks_total = len(all_chunks) if old_manifest is not None else 0
            report.seconds = time.perf_counter() - started
            return report

        # 4. vectors: reuse stored ones, embed the rest
        _embed_entries(ordered, encoder, batch_size, report_progress)
        vectors = (
            np.concatenate([e.vectors for e in ordered if len(e.chunks)])
            if all_chunks
            else np.zeros((0, info.dim), dtype=np.float32)
        )

        previous = previous_dir.name if previous_dir is not None else None
        version_id = write_version(
            index_dir,
            [(e.key, e.document) for e in ordered],
            all_chunks,
            vectors,
            encoder,
            chunker=chunker,
            tokenizer_mode=tokenizer_mode,
            bm25_k1=bm25_k1,
            bm25_b=bm25_b,
            hnsw_threshold=hnsw_threshold,
            progress=report_progress,
            keep=[previous] if previous else [],
            ingested_at={e.key: e.ingested_at for e in ordered if e.ingested_at},
        )

    report.version = version_id
    report.chunks_total = len(all_chunks)
    report.seconds = time.perf_counter() - started
    return report
