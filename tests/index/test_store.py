"""The persisted index: build/load, incremental updates, atomic switching, mismatches, bad files."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from index import store
from index.encoders import FakeEncoder
from index.retrievers import Filters
from index.store import (
    EncoderMismatchError,
    IndexNotFoundError,
    PolicyIndex,
    RebuildRequiredError,
    current_version_dir,
    update_index,
)
from tests.index.helpers import DATA

NAMES = ["nongye.txt", "sijiang.txt", "zhaoshang.txt", "zuofeng.txt"]


class CountingEncoder(FakeEncoder):
    """The fake encoder, counting the passages it embeds."""

    def __init__(self):
        super().__init__()
        self.passages = 0

    def embed_passages(self, texts):
        self.passages += len(texts)
        return super().embed_passages(texts)


@pytest.fixture()
def speeches(tmp_path):
    """A writable copy of the test speeches."""
    dest = tmp_path / "speeches"
    shutil.copytree(DATA, dest)
    return dest


@pytest.fixture()
def built(tmp_path, speeches, local_ingest):
    """An index over the copy, built with small chunks."""
    index_dir = tmp_path / "index"
    report = update_index(index_dir, [speeches], FakeEncoder(), chunk_size=120)
    assert not report.failed and len(report.indexed) == 4
    return index_dir


def _search(index_dir, query, leg="hybrid", k=3):
    index = PolicyIndex.load(index_dir, FakeEncoder())
    return [(h.chunk.id, round(h.score, 6)) for h in index.retriever(leg).search(query, top_k=k)]


def test_build_writes_the_documented_layout(built, speeches):
    version = current_version_dir(built)
    assert (built / "CURRENT").read_text().strip() == f"versions/{version.name}"
    for name in ("manifest.json", "documents.jsonl", "chunks.jsonl", "terms.txt", "bm25", "dense/vectors.npy",
                 "dense/faiss.index"):
        assert (version / name).exists(), name
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema_version"] == store.SCHEMA_VERSION and manifest["created_at"]
    assert manifest["encoder"] == {"name": "fake", "dim": 64, "spec": "fake"}
    assert manifest["chunker"] == {"chunk_size": 120, "chunk_overlap": 0}
    assert manifest["bm25"]["method"] == "lucene" and manifest["bm25"]["tokenizer"]
    assert manifest["faiss"]["kind"] == "flat"
    assert manifest["counts"]["documents"] == 4
    key = str((speeches / "sijiang.txt").resolve())
    assert set(manifest["documents"][key]) == {"doc_id", "content_hash", "source", "title", "chunks", "ingested_at"}
    assert "四讲四比" in (version / "terms.txt").read_text(encoding="utf-8").split()


def test_load_roundtrip(built):
    index = PolicyIndex.load(built, FakeEncoder())
    assert len(index.documents) == 4 and len(index.chunks) == index.manifest["counts"]["chunks"]
    for chunk in index.chunks:
        assert index.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
    assert {d.source for d in index.documents.values()} == set(NAMES)
    hits = index.retriever("hybrid").search("两定五考考核评价", top_k=3)
    assert "两定五考" in hits[0].chunk.text
    assert index.retriever("bm25").search("亩均税收", 1)[0].legs.keys() == {"bm25"}
    assert index.retriever("dense").search("亩均税收", 1)[0].legs.keys() == {"dense"}
    assert "两定五考" in index.tokenize("兩定五考")  # harvested quoted term, traditional input
    assert index.idf("两定五考") > index.idf("工作")
    with pytest.raises(ValueError, match="leg"):
        index.retriever("sparse")


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexNotFoundError, match="policyqa ingest"):
        PolicyIndex.load(tmp_path / "nothing", FakeEncoder())


def test_reingest_unchanged_loads_and_embeds_nothing(built, speeches, local_ingest):
    before = current_version_dir(built)
    loads = local_ingest["load"]
    encoder = CountingEncoder()
    report = update_index(built, [speeches], encoder, chunk_size=120)
    assert report.indexed == [] and len(report.unchanged) == 4 and report.version is None
    assert local_ingest["load"] == loads and encoder.passages == 0
    assert current_version_dir(built) == before
    assert report.chunks_total == PolicyIndex.load(built, FakeEncoder()).manifest["counts"]["chunks"]


def test_changed_file_is_replaced_and_only_it_is_embedded(built, speeches, local_ingest):
    old = PolicyIndex.load(built, FakeEncoder())
    old_vectors = {c.id: np.array(old.dense.vectors[i]) for i, c in enumerate(old.chunks)}
    target = speeches / "nongye.txt"
    target.write_text(target.read_text(encoding="utf-8") + "新增：开展化肥减量增效行动。\n", encoding="utf-8")

    encoder = CountingEncoder()
    report = update_index(built, [speeches], encoder, chunk_size=120)
    assert report.indexed == [str(target.resolve())] and len(report.unchanged) == 3
    index = PolicyIndex.load(built, FakeEncoder())
    nongye = [c for c in index.chunks if index.documents[c.doc_id].source == "nongye.txt"]
    assert encoder.passages == len(nongye)
    assert "化肥减量" in index.retriever("bm25").search("化肥减量增效", 1)[0].chunk.text
    for i, c in enumerate(index.chunks):  # stored vectors of unchanged documents are reused as they were
        if c not in nongye:
            assert np.array_equal(index.dense.vectors[i], old_vectors[c.id])


def test_new_files_are_added_and_earlier_ones_kept(tmp_path, speeches, local_ingest):
    index_dir = tmp_path / "index"
    update_index(index_dir, [speeches / "nongye.txt"], FakeEncoder())
    report = update_index(index_dir, [speeches / "sijiang.txt"], FakeEncoder())
    assert len(report.indexed) == 1 and report.unchanged == []
    assert {d.source for d in PolicyIndex.load(index_dir, FakeEncoder()).documents.values()} == {
        "nongye.txt", "sijiang.txt"}


def test_remove_by_file_name_or_path(built, speeches, local_ingest):
    report = update_index(built, [], FakeEncoder(), chunk_size=120, remove=["zuofeng.txt", "nope.txt"])
    assert report.removed == [str((speeches / "zuofeng.txt").resolve())]
    assert report.failed == [("nope.txt", "not in the index")]
    report = update_index(built, [], FakeEncoder(), chunk_size=120, remove=[str(speeches / "nongye.txt")])
    assert len(report.removed) == 1
    index = PolicyIndex.load(built, FakeEncoder())
    assert {d.source for d in index.documents.values()} == {"sijiang.txt", "zhaoshang.txt"}
    assert all(h.document.source != "zuofeng.txt" for h in index.retriever().search("吃拿卡要", 10))


def test_removing_everything_leaves_an_empty_but_loadable_index(built, local_ingest):
    update_index(built, [], FakeEncoder(), chunk_size=120, remove=NAMES)
    index = PolicyIndex.load(built, FakeEncoder())
    assert index.chunks == [] and index.retriever().search("招商引资", 5) == []


def test_bad_files_fail_alone_and_the_batch_goes_on(tmp_path, speeches, local_ingest):
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "empty.txt").write_bytes(b"")
    (batch / "binary.txt").write_bytes(bytes(range(256)))
    (batch / "huge.txt").write_bytes("大".encode() * 2000)
    shutil.copy(speeches / "sijiang.txt", batch / "good.txt")
    index_dir = tmp_path / "index"
    report = update_index(index_dir, [batch, tmp_path / "missing"], FakeEncoder(), max_bytes=5000)
    failed = {name.split("/")[-1]: reason for name, reason in report.failed}
    assert set(failed) == {"empty.txt", "binary.txt", "huge.txt", "missing"}
    assert failed["empty.txt"] == "empty file" and "UnicodeDecodeError" in failed["binary.txt"]
    assert failed["missing"] == "no such file or directory"
    assert [p.split("/")[-1] for p in report.indexed] == ["good.txt"]
    assert PolicyIndex.load(index_dir, FakeEncoder()).manifest["counts"]["documents"] == 1


def test_nothing_written_when_every_file_fails(tmp_path, local_ingest):
    (tmp_path / "empty.txt").write_bytes(b"")
    report = update_index(tmp_path / "index", [tmp_path / "empty.txt"], FakeEncoder())
    assert report.failed and report.version is None
    with pytest.raises(IndexNotFoundError):
        PolicyIndex.load(tmp_path / "index", FakeEncoder())


def test_changed_file_that_now_fails_keeps_its_previous_version(built, speeches, local_ingest):
    (speeches / "zuofeng.txt").write_bytes(b"")
    report = update_index(built, [speeches], FakeEncoder(), chunk_size=120)
    assert [r for _, r in report.failed] == ["empty file"] and report.version is None
    assert "zuofeng.txt" in {d.source for d in PolicyIndex.load(built, FakeEncoder()).documents.values()}


def test_killed_write_leaves_the_previous_index_intact(built, speeches, local_ingest):
    before_dir = current_version_dir(built)
    before = _search(built, "营商环境和放管服改革")
    (speeches / "nongye.txt").write_text("全新的内容：招商引资和营商环境。\n", encoding="utf-8")

    def half_written(version_dir, dense):
        (version_dir / "dense").mkdir()
        (version_dir / "dense" / "vectors.npy").write_bytes(b"partial")
        raise KeyboardInterrupt("killed")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "_save_dense", half_written)
        with pytest.raises(KeyboardInterrupt):
            update_index(built, [speeches], FakeEncoder(), chunk_size=120)
    assert current_version_dir(built) == before_dir
    assert _search(built, "营商环境和放管服改革") == before
    assert any(p.name.endswith(".tmp") for p in (built / "versions").iterdir())

    report = update_index(built, [speeches], FakeEncoder(), chunk_size=120)  # the next run cleans up
    assert report.version and not any(p.name.endswith(".tmp") for p in (built / "versions").iterdir())


def test_only_the_current_and_previous_versions_are_kept(built, speeches, local_ingest):
    for i in range(3):
        (speeches / "nongye.txt").write_text(f"第{i}版：粮食生产。\n", encoding="utf-8")
        update_index(built, [speeches], FakeEncoder(), chunk_size=120)
    versions = sorted(p.name for p in (built / "versions").iterdir())
    assert len(versions) == 2 and current_version_dir(built).name in versions


def test_encoder_mismatch_names_both_and_how_to_fix(built, speeches, local_ingest):
    with pytest.raises(EncoderMismatchError) as err:
        PolicyIndex.load(built, FakeEncoder(dim=32))
    message = str(err.value)
    assert "fake (dim 64)" in message and "fake:32 (dim 32)" in message
    assert "policyqa ingest --rebuild" in message and "POLICYQA_ENCODER=fake" in message
    with pytest.raises(EncoderMismatchError):
        update_index(built, [speeches], FakeEncoder(dim=32), chunk_size=120)
    report = update_index(built, [speeches], FakeEncoder(dim=32), chunk_size=120, rebuild=True)
    assert len(report.indexed) == 4
    assert PolicyIndex.load(built, FakeEncoder(dim=32)).dense.dim == 32


def test_chunking_change_requires_rebuild(built, speeches, local_ingest):
    with pytest.raises(RebuildRequiredError, match="--rebuild"):
        update_index(built, [speeches], FakeEncoder(), chunk_size=200)
    update_index(built, [speeches], FakeEncoder(), chunk_size=200, chunk_overlap=20, rebuild=True)
    assert PolicyIndex.load(built, FakeEncoder()).manifest["chunker"] == {"chunk_size": 200, "chunk_overlap": 20}


def test_lexical_settings_change_rewrites_without_re_embedding(built, speeches, local_ingest):
    encoder = CountingEncoder()
    report = update_index(built, [speeches], encoder, chunk_size=120, tokenizer_mode="words", hnsw_threshold=5)
    assert report.version and report.indexed == [] and encoder.passages == 0
    index = PolicyIndex.load(built, FakeEncoder())
    assert index.tokenizer_mode == "words" and index.dense.kind == "hnsw"
    assert not any(t.startswith("#") for t in index.tokenize("亩均税收"))


def test_progress_reports_each_stage(tmp_path, speeches, local_ingest):
    seen = []
    update_index(tmp_path / "index", [speeches], FakeEncoder(), progress=lambda s, d, t: seen.append((s, d, t)))
    stages = [s for s, _, _ in seen]
    assert {"load", "embed", "bm25", "faiss", "write"} <= set(stages)
    assert all(0 <= d <= t for _, d, t in seen)
    assert ("load", 4, 4) in seen


def test_filters_work_on_a_loaded_index(built):
    index = PolicyIndex.load(built, FakeEncoder())
    hits = index.retriever().search("工作", 5, Filters(date_from="2022"))
    assert hits and {h.document.source for h in hits} == {"nongye.txt"}


def test_real_ingest_pipeline_on_the_sample_speeches(tmp_path):
    """update_index with the real ingest functions (skipped until ingest.pipeline and ingest.chunk exist)."""
    pytest.importorskip("ingest.pipeline")
    pytest.importorskip("ingest.chunk")
    speeches = DATA.parents[2] / "data" / "speeches"
    report = update_index(tmp_path / "index", [speeches], FakeEncoder())
    assert not report.failed and len(report.indexed) == 5
    index = PolicyIndex.load(tmp_path / "index", FakeEncoder())
    hits = index.retriever().search("加速推進新型工業化", top_k=3)
    assert any("新型工业化" in h.chunk.text for h in hits)


def test_unreadable_index_asks_for_a_rebuild(built, speeches, local_ingest):
    (current_version_dir(built) / "manifest.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(RebuildRequiredError, match="--rebuild"):
        update_index(built, [speeches], FakeEncoder(), chunk_size=120)
    assert len(update_index(built, [speeches], FakeEncoder(), chunk_size=120, rebuild=True).indexed) == 4


def test_a_second_concurrent_update_is_refused(built, speeches, local_ingest):
    pytest.importorskip("fcntl")
    with store._exclusive(built):
        with pytest.raises(store.PolicyIndexError, match="another ingest"):
            update_index(built, [speeches], FakeEncoder(), chunk_size=120)


def test_index_chunks_writes_ready_made_passages_as_a_loadable_version(tmp_path):
    from ingest.records import Chunk, Document

    docs = [Document(id=f"d{i}", source=f"p{i}", path=f"/bench#p{i}", text=text, content_hash=str(i))
            for i, text in enumerate(["招商引资是生命线。", "亩均税收专项评价。"])]
    chunks = [Chunk(id=f"{d.id}:0", doc_id=d.id, text=d.text, start=0, end=len(d.text)) for d in docs]
    encoder = CountingEncoder()
    store.index_chunks(tmp_path / "idx", docs, chunks, encoder, chunker={"chunk_size": 0, "chunk_overlap": 0})
    index = PolicyIndex.load(tmp_path / "idx", encoder)
    assert [c.text for c in index.chunks] == [d.text for d in docs] and encoder.passages == 2
    assert index.retriever("bm25").search("亩均税收", 1)[0].document.source == "p1"
    orphan = Chunk(id="x:0", doc_id="x", text="孤儿", start=0, end=2)
    with pytest.raises(ValueError, match="name no given document"):
        store.index_chunks(tmp_path / "idx2", docs, [orphan], encoder, chunker={"chunk_size": 0, "chunk_overlap": 0})


def test_english_question_reaches_the_bm25_leg_through_its_translations(built):
    index = PolicyIndex.load(built, FakeEncoder())
    tokens = index.query_tokens("what are the requirements for investment attraction")
    assert "招商引资" in tokens  # CC-CEDICT: investment attraction → 招商引资, kept because the index has it
    assert index.query_tokens("招商引资有哪些要求？") == index.tokenize("招商引资有哪些要求？")  # Chinese: unchanged
    hits = index.retriever("bm25").search("what are the requirements for investment attraction", top_k=3)
    assert hits and "招商" in hits[0].chunk.text
