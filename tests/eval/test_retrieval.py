"""`policyqa eval-retrieval`: BEIR-style and gold_ids benchmarks, indexed as given, cached, scored per leg."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from eval.retrieval import (
    BASELINE, DatasetError, cached_index, evaluate_retrieval, load_retrieval_set, passage_chunks, passage_documents,
)
from index.encoders import load_encoder
from service.cli import app

PASSAGES = [
    {"_id": "p1", "title": "招商引资", "text": "招商引资是经济工作的生命线，要坚持项目为王。"},
    {"_id": "p2", "title": "亩均税收", "text": "开展亩均税收专项评价，推动低效用地再开发。"},
    {"_id": "p3", "title": "作风建设", "text": "优化干部作风，优化发展环境，事争一流。"},
    {"_id": "p4", "title": "", "text": "月调度、季讲评、年考核，是工业推进的节奏。"},
    {"_id": "p5", "title": "乡村振兴", "text": "推进乡村振兴，发展特色产业，增加农民收入。"},
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture()
def beir_dir(tmp_path):
    """A tiny BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv (with header) and qrels/dev.tsv."""
    root = tmp_path / "tiny-beir"
    (root / "qrels").mkdir(parents=True)
    _jsonl(root / "corpus.jsonl", PASSAGES)
    _jsonl(root / "queries.jsonl", [
        {"_id": "q1", "text": "亩均税收专项评价"},
        {"_id": "q2", "text": "工业推进的节奏 月调度 季讲评"},
        {"_id": "q3", "text": "招商引资 项目为王"},
        {"_id": "q9", "text": "没有判定的问题"},
    ])
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\tp2\t1\nq2\tp4\t2\nq2\tp1\t1\nq3\tp1\t1\nq3\tp5\t0\n", encoding="utf-8")
    (root / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tp3\t1\n", encoding="utf-8")
    return root


@pytest.fixture()
def gold_dir(tmp_path):
    """The simpler layout: corpus.jsonl with "id" and queries.jsonl with "query" and "gold_ids"."""
    root = tmp_path / "tiny-gold"
    root.mkdir()
    _jsonl(root / "corpus.jsonl", [{"id": p["_id"], "text": p["text"]} for p in PASSAGES])
    _jsonl(root / "queries.jsonl", [
        {"id": "g1", "query": "优化干部作风", "gold_ids": ["p3"], "answers": ["事争一流"]},
        {"id": "g2", "query": "乡村振兴 特色产业", "gold_ids": ["p5", "p1"]},
    ])
    return root


def test_beir_folder_reads_the_test_split_and_skips_unjudged_queries(beir_dir):
    ds = load_retrieval_set([beir_dir])
    assert ds.name == "tiny-beir" and len(ds.passages) == 5
    assert [q.id for q in ds.queries] == ["q1", "q2", "q3"]  # q9 has no judgement
    assert ds.queries[1].relevant == {"p4": 2.0, "p1": 1.0}
    assert ds.queries[2].relevant == {"p1": 1.0}  # grade 0 is not relevant
    assert any("1 queries have no relevant passage" in n for n in ds.notes)
    assert [q.id for q in load_retrieval_set([beir_dir], split="dev").queries] == ["q1"]


def test_passages_are_indexed_one_chunk_each_unless_rechunking_is_asked(beir_dir):
    ds = load_retrieval_set([beir_dir])
    docs = passage_documents(ds)
    chunks = passage_chunks(docs, None)
    assert len(chunks) == 5 and all(c.text == d.text for c, d in zip(chunks, docs))
    assert docs[0].source == "p1" and docs[0].text.startswith("招商引资\n")  # title kept in front of the text
    assert len(passage_chunks(docs, 12)) > 5


def test_bm25_leg_and_baseline_find_exact_matches(beir_dir, tmp_path):
    ds = load_retrieval_set([beir_dir])
    index, reused = cached_index(ds, load_encoder("fake"), tmp_path / "cache")
    assert not reused
    figures = evaluate_retrieval(ds, index)
    assert set(figures) == {BASELINE, "bm25", "dense", "hybrid"}
    for run in (BASELINE, "bm25"):
        f = figures[run]
        assert f["queries"] == 3
        assert f["hit@1"] == 1.0 and f["mrr@10"] == 1.0  # each query's words are in its passage only
        # q2 has two relevant passages, only one of which shares its content words: its recall@1 is 1/2
        assert f["recall@1"] == pytest.approx((1 + 0.5 + 1) / 3)
        assert f["recall@1"] <= f["recall@5"] <= f["recall@100"] <= 1.0
        assert f["hit@1"] == 1.0
        assert 0 < f["ndcg@10"] < 1.0 and f["latency_p50_ms"] >= 0


def test_index_is_reused_while_the_corpus_is_unchanged(beir_dir, tmp_path):
    ds = load_retrieval_set([beir_dir])
    encoder = load_encoder("fake")
    first, reused = cached_index(ds, encoder, tmp_path / "cache")
    again, reused_again = cached_index(load_retrieval_set([beir_dir]), encoder, tmp_path / "cache")
    assert not reused and reused_again and again.path == first.path
    _jsonl(beir_dir / "corpus.jsonl", PASSAGES + [{"_id": "p6", "text": "新增的一段。"}])
    changed, reused_changed = cached_index(load_retrieval_set([beir_dir]), encoder, tmp_path / "cache")
    assert not reused_changed and len(changed.chunks) == 6
    rechunked, reused_rechunked = cached_index(load_retrieval_set([beir_dir]), encoder, tmp_path / "cache",
                                               chunk_size=12)
    assert not reused_rechunked and len(rechunked.chunks) > 6


def test_gold_ids_layout(gold_dir, tmp_path):
    ds = load_retrieval_set([gold_dir / "corpus.jsonl", gold_dir / "queries.jsonl"])
    assert [q.relevant for q in ds.queries] == [{"p3": 1.0}, {"p5": 1.0, "p1": 1.0}]
    index, _ = cached_index(ds, load_encoder("fake"), tmp_path / "cache")
    figures = evaluate_retrieval(ds, index, legs=["bm25"], baseline=False)
    assert set(figures) == {"bm25"}
    assert figures["bm25"]["hit@1"] == 1.0
    assert figures["bm25"]["recall@1"] == pytest.approx((1 + 0.5) / 2)  # g2: one of two gold passages at rank 1


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "corpus.jsonl:2: not JSON"),
    ('{"_id": "x"}', "corpus.jsonl:2: field 'text' or 'contents' is missing"),
    ('{"_id": "p1", "text": "重复"}', "corpus.jsonl:2: passage id 'p1' appears twice"),
])
def test_bad_corpus_lines_are_named(gold_dir, line, message):
    corpus = gold_dir / "corpus.jsonl"
    corpus.write_text(corpus.read_text(encoding="utf-8").splitlines()[0] + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        load_retrieval_set([gold_dir])


def test_queries_without_judgements_are_an_error_naming_the_field(tmp_path):
    root = tmp_path / "nojudge"
    root.mkdir()
    _jsonl(root / "corpus.jsonl", [{"id": "p1", "text": "一段"}])
    _jsonl(root / "queries.jsonl", [{"id": "q1", "query": "问题"}])
    with pytest.raises(DatasetError, match=r"queries.jsonl:1: field 'gold_ids' is missing"):
        load_retrieval_set([root])


def test_cli_writes_json_and_markdown(beir_dir, tmp_path, monkeypatch):
    from service.settings import get_settings

    monkeypatch.setenv("POLICYQA_ENCODER", "fake")
    get_settings.cache_clear()
    out = tmp_path / "out" / "tiny.json"
    args = ["eval-retrieval", str(beir_dir), "--cache", str(tmp_path / "cache"), "--out", str(out)]
    try:
        first = CliRunner().invoke(app, args)
        assert first.exit_code == 0, first.output
        assert "built in" in first.output
        second = CliRunner().invoke(app, args)
        assert second.exit_code == 0 and "reused" in second.output
        bad = CliRunner().invoke(app, [*args, "--legs", "bm25,sparse"])
        assert bad.exit_code == 2 and "sparse" in bad.output
    finally:
        get_settings.cache_clear()
    written = json.loads(out.read_text(encoding="utf-8"))
    assert set(written["figures"]) == {BASELINE, "bm25", "dense", "hybrid"}
    assert written["config"]["queries"] == 3 and written["config"]["index_reused"] is True
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| bm25 |" in md and "ndcg@10" in md and "one passage = one chunk" in md
