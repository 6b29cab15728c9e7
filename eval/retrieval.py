"""Retrieval benchmarks in the formats the field uses: BEIR (`corpus.jsonl`, `queries.jsonl`, `qrels/*.tsv`) and
the simpler `queries.jsonl` with `gold_ids`; the corpus is indexed as given (one passage = one chunk) into a cached
index, and every leg plus a plain jieba + BM25 baseline is scored the same way."""
from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.encoders import Encoder
from ingest.records import Chunk, Document

from .jsonl import read_json_objects
from .metrics import hit_at_k, mean, mrr_at_k, ndcg_at_k, percentile, recall_at_k

CUTOFFS = (1, 5, 10, 100)
SEARCH_DEPTH = 100
LEGS = ("bm25", "dense", "hybrid")
BASELINE = "baseline-jieba-bm25"
_WORD = re.compile(r"\w")  # a token with a letter, digit or CJK character (not only spaces or punctuation)
CACHE_FORMAT = 1  # bump when what is cached (passage text, document ids) changes meaning

Progress = Callable[[str, int, int], None]


class DatasetError(ValueError):
    """A benchmark file that cannot be used; the message names the file, line and field."""


@dataclass(frozen=True, slots=True)
class Passage:
    """One corpus passage of a benchmark."""

    id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class RetrievalQuery:
    """One benchmark query with its graded relevance judgements (passage id -> grade > 0)."""

    id: str
    text: str
    relevant: dict[str, float]


@dataclass(slots=True)
class RetrievalSet:
    """A loaded benchmark: passages, judged queries, and the files it came from."""

    name: str
    corpus_path: Path
    passages: list[Passage]
    queries: list[RetrievalQuery]
    files: list[Path]
    notes: list[str] = field(default_factory=list)  # e.g. queries skipped for having no judgements


# ----------------------------------------------------------------------------------------------- loading


def _jsonl(path: Path) -> list[tuple[int, dict]]:
    return read_json_objects(path, DatasetError)


def _field(path: Path, no: int, raw: dict, names: Sequence[str], *, required: bool = True) -> str:
    for name in names:
        value = raw.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value)
    if required:
        raise DatasetError(f"{path}:{no}: field {' or '.join(repr(n) for n in names)} is missing or empty")
    return ""


def read_corpus(path: Path) -> list[Passage]:
    """Passages of a BEIR-style corpus.jsonl (`_id` or `id`, optional `title`, `text`)."""
    passages, seen = [], set()
    for no, raw in _jsonl(path):
        pid = _field(path, no, raw, ("_id", "id"))
        if pid in seen:
            raise DatasetError(f"{path}:{no}: passage id {pid!r} appears twice")
        seen.add(pid)
        passages.append(Passage(pid, _field(path, no, raw, ("title",), required=False),
                                _field(path, no, raw, ("text", "contents"))))
    if not passages:
        raise DatasetError(f"{path}: no passages")
    return passages


def read_qrels(paths: Sequence[Path]) -> dict[str, dict[str, float]]:
    """BEIR qrels (tab-separated query-id, corpus-id, score; an optional header line) merged over `paths`."""
    qrels: dict[str, dict[str, float]] = {}
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except OSError as exc:
            raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        for no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            cells = line.rstrip("\n").split("\t") if "\t" in line else line.split()
            if no == 1 and cells[0].strip().lower() in {"query-id", "query_id", "qid"}:
                continue
            if len(cells) == 4:  # TREC layout: qid, iteration, docid, grade
                cells = [cells[0], cells[2], cells[3]]
            if len(cells) != 3:
                raise DatasetError(f"{path}:{no}: expected query-id, corpus-id, score separated by tabs")
            try:
                grade = float(cells[2])
            except ValueError:
                raise DatasetError(f"{path}:{no}: score {cells[2]!r} is not a number") from None
            if grade > 0:  # BEIR counts only positive grades as relevant
                qrels.setdefault(cells[0].strip(), {})[cells[1].strip()] = grade
    return qrels


def read_queries(path: Path, qrels: Mapping[str, Mapping[str, float]] | None) -> tuple[list[RetrievalQuery], list[str]]:
    """Queries (`_id`/`id`, `text`/`query`/`question`) judged by `qrels`, or by their own `gold_ids` when
    `qrels` is None; returns (queries, notes about skipped ones)."""
    queries, unjudged = [], []
    for no, raw in _jsonl(path):
        qid = _field(path, no, raw, ("_id", "id"))
        text = _field(path, no, raw, ("text", "query", "question"))
        if qrels is None:
            gold = raw.get("gold_ids")
            if not isinstance(gold, list) or not all(isinstance(g, (str, int)) for g in gold):
                raise DatasetError(f"{path}:{no}: field 'gold_ids' is missing or not a list of ids "
                                   "(and no qrels/*.tsv was found)")
            relevant = {str(g): 1.0 for g in gold}
        else:
            relevant = dict(qrels.get(qid, {}))
        if relevant:
            queries.append(RetrievalQuery(qid, text, relevant))
        else:
            unjudged.append(qid)
    notes = [f"{len(unjudged)} queries have no relevant passage judged and are not scored"] if unjudged else []
    return queries, notes


def load_retrieval_set(paths: Sequence[Path], split: str = "test") -> RetrievalSet:
    """A benchmark from a folder (corpus.jsonl, queries.jsonl, optional qrels/) or from the files themselves."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise DatasetError("give a benchmark folder, or its corpus.jsonl and queries.jsonl files")
    if len(paths) == 1 and paths[0].is_dir():
        folder = paths[0]
        files = sorted(p for p in folder.iterdir() if p.is_file()) + sorted((folder / "qrels").glob("*.tsv"))
        name = folder.resolve().name
    else:
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise DatasetError(f"not a file or folder: {', '.join(missing)}")
        files, name = paths, paths[0].resolve().parent.name
    corpus = [p for p in files if p.name.startswith("corpus") and p.suffix == ".jsonl"]
    queries_files = [p for p in files if p.name.startswith("queries") and p.suffix == ".jsonl"]
    tsv = [p for p in files if p.suffix == ".tsv"]
    if len(corpus) != 1 or len(queries_files) != 1:
        raise DatasetError(
            f"expected exactly one corpus*.jsonl and one queries*.jsonl, found {[p.name for p in corpus]} and "
            f"{[p.name for p in queries_files]}"
        )
    if tsv:
        chosen = [p for p in tsv if p.stem == split] or (tsv if len(tsv) == 1 else [])
        if not chosen:
            raise DatasetError(f"several qrels files {[p.name for p in tsv]} and none named {split}.tsv: "
                               "pick one with --split")
        qrels: dict[str, dict[str, float]] | None = read_qrels(chosen)
        used = [*corpus, *queries_files, *chosen]
    else:
        qrels, used = None, [*corpus, *queries_files]
    passages = read_corpus(corpus[0])
    queries, notes = read_queries(queries_files[0], qrels)
    known = {p.id for p in passages}
    unknown = sorted({pid for q in queries for pid in q.relevant if pid not in known})
    if unknown:
        notes.append(f"{len(unknown)} judged passage ids are not in the corpus (e.g. {unknown[0]}); they count as "
                     "relevant passages that cannot be found")
    if not queries:
        raise DatasetError(f"{queries_files[0]}: no query has a relevant passage judged")
    return RetrievalSet(name, corpus[0], passages, queries, used, notes)


# ----------------------------------------------------------------------------------------------- indexing


def passage_documents(dataset: RetrievalSet) -> list[Document]:
    """One Document per passage (source = passage id), its text the title and body, normalised."""
    from ingest.normalize import normalize_text
    from ingest.records import document_id

    documents = []
    for p in dataset.passages:
        raw = f"{p.title}\n{p.text}" if p.title else p.text
        key = f"{dataset.corpus_path.resolve()}#{p.id}"
        documents.append(Document(
            id=document_id(key), source=p.id, path=key, text=normalize_text(raw),
            content_hash=hashlib.sha256(raw.encode("utf-8")).hexdigest(), title=p.title,
        ))
    return documents


def passage_chunks(documents: Sequence[Document], chunk_size: int | None, chunk_overlap: int = 0) -> list[Chunk]:
    """Each document as one chunk, or re-chunked to `chunk_size` characters when asked."""
    if not chunk_size:
        return [Chunk(id=f"{d.id}:0", doc_id=d.id, text=d.text, start=0, end=len(d.text)) for d in documents]
    from ingest.chunk import chunk_document

    return [c for d in documents for c in chunk_document(d, max_chars=chunk_size, overlap=chunk_overlap)]


def cache_key(dataset: RetrievalSet, encoder: Encoder, chunk_size: int | None, tokenizer_mode: str) -> dict:
    """What an index built for `dataset` depends on; a cached index is reused only when all of it matches."""
    digest = hashlib.sha256()
    with dataset.corpus_path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    info = encoder.info
    return {"format": CACHE_FORMAT, "corpus_sha256": digest.hexdigest(), "encoder": info.name, "dim": info.dim,
            "chunk_size": chunk_size, "tokenizer": tokenizer_mode}


def cached_index(
    dataset: RetrievalSet,
    encoder: Encoder,
    cache_root: Path,
    *,
    chunk_size: int | None = None,
    tokenizer_mode: str | None = None,
    hnsw_threshold: int = 50_000,
    progress: Progress | None = None,
):
    """The index of `dataset` under `cache_root`, built (slow with a real encoder) only when the corpus, encoder
    or chunking changed since the last run; returns (PolicyIndex, whether it was reused)."""
    from index.lexical import DEFAULT_TOKENIZER_MODE
    from index.store import PolicyIndex, current_version_dir, index_chunks

    mode = tokenizer_mode or DEFAULT_TOKENIZER_MODE
    key = cache_key(dataset, encoder, chunk_size, mode)
    tag = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    index_dir = cache_root / f"{dataset.name}-{tag}"
    stamp = index_dir / "benchmark.json"
    reused = (
        stamp.is_file()
        and current_version_dir(index_dir) is not None
        and json.loads(stamp.read_text(encoding="utf-8")) == key
    )
    if not reused:
        stamp.unlink(missing_ok=True)
        documents = passage_documents(dataset)
        index_chunks(
            index_dir, documents, passage_chunks(documents, chunk_size), encoder,
            chunker={"chunk_size": chunk_size or 0, "chunk_overlap": 0}, tokenizer_mode=mode,
            hnsw_threshold=hnsw_threshold, progress=progress,
        )
        stamp.write_text(json.dumps(key, indent=1), encoding="utf-8")  # written last: marks a complete build
    return PolicyIndex.load(index_dir, encoder), reused


# ----------------------------------------------------------------------------------------------- scoring


def score_rankings(
    rankings: Mapping[str, Sequence[str]], queries: Sequence[RetrievalQuery], latencies_ms: Sequence[float]
) -> dict[str, float]:
    """nDCG@10, recall@k, hit@k (any relevant passage in the top k), MRR@10 and latency over all queries."""
    figures: dict[str, float] = {"queries": len(queries)}
    figures["ndcg@10"] = mean([ndcg_at_k(rankings[q.id], q.relevant, 10) for q in queries]) or 0.0
    for k in CUTOFFS:
        figures[f"recall@{k}"] = mean([recall_at_k(rankings[q.id], q.relevant, k) for q in queries]) or 0.0
    for k in CUTOFFS:
        figures[f"hit@{k}"] = mean([hit_at_k(rankings[q.id], q.relevant, k) for q in queries]) or 0.0
    figures["mrr@10"] = mean([mrr_at_k(rankings[q.id], q.relevant, 10) for q in queries]) or 0.0
    figures["latency_p50_ms"] = percentile(latencies_ms, 50)
    figures["latency_p95_ms"] = percentile(latencies_ms, 95)
    return figures


def run_leg(index, leg: str, queries: Sequence[RetrievalQuery], depth: int = SEARCH_DEPTH,
            progress: Progress | None = None, **retriever_options) -> tuple[dict[str, list[str]], list[float]]:
    """Passage ids ranked by one leg of the index for every query (chunks of one passage count once), and the
    search latency of each query in milliseconds."""
    retriever = index.retriever(leg, **retriever_options)
    retriever.search(queries[0].text, depth)  # warm-up: model load and first jieba call are not query latency
    rankings, latencies = {}, []
    for done, q in enumerate(queries, 1):
        started = time.perf_counter()
        hits = retriever.search(q.text, depth)
        latencies.append((time.perf_counter() - started) * 1000)
        rankings[q.id] = list(dict.fromkeys(h.document.source for h in hits))
        if progress:
            progress(leg, done, len(queries))
    return rankings, latencies


def run_baseline(dataset: RetrievalSet, queries: Sequence[RetrievalQuery], depth: int = SEARCH_DEPTH,
                 progress: Progress | None = None) -> tuple[dict[str, list[str]], list[float]]:
    """The plain baseline: rank_bm25's BM25Okapi with default parameters over `jieba.lcut` words of the raw passage
    text (title and body) with whitespace/punctuation-only tokens dropped (as for the figure in
    ../shared/bench/README.md); no normalisation, stopwords or user dictionary. Passages scoring 0 are not ranked."""
    import jieba
    import numpy as np
    from rank_bm25 import BM25Okapi

    jieba.setLogLevel(60)  # silence the dictionary-loading chatter
    texts = [f"{p.title}\n{p.text}" if p.title else p.text for p in dataset.passages]

    def words(text: str) -> list[str]:
        return [w for w in jieba.lcut(text) if _WORD.search(w)]

    bm25 = BM25Okapi([words(t) for t in texts])
    ids = [p.id for p in dataset.passages]
    rankings, latencies = {}, []
    for done, q in enumerate(queries, 1):
        started = time.perf_counter()
        scores = bm25.get_scores(words(q.text))
        top = np.argsort(-scores, kind="stable")[:depth]
        latencies.append((time.perf_counter() - started) * 1000)
        rankings[q.id] = [ids[i] for i in top if scores[i] > 0]  # like the legs: no match, no rank
        if progress:
            progress(BASELINE, done, len(queries))
    return rankings, latencies


def evaluate_retrieval(
    dataset: RetrievalSet,
    index,
    *,
    legs: Sequence[str] = LEGS,
    baseline: bool = True,
    progress: Progress | None = None,
    **retriever_options,
) -> dict[str, dict[str, float]]:
    """Figures per leg (and for the baseline), all computed by `score_rankings` over the same queries."""
    results: dict[str, dict[str, float]] = {}
    if baseline:
        rankings, latencies = run_baseline(dataset, dataset.queries, progress=progress)
        results[BASELINE] = score_rankings(rankings, dataset.queries, latencies)
    for leg in legs:
        rankings, latencies = run_leg(index, leg, dataset.queries, progress=progress, **retriever_options)
        results[leg] = score_rankings(rankings, dataset.queries, latencies)
    return results
