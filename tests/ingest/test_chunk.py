"""Chunking: offsets, size limits, section boundaries, heading paths, overlap."""
from __future__ import annotations

import re

import pytest

from ingest.chunk import MIN_CHARS, chunk_document, heading_of
from ingest.pipeline import load_document
from ingest.records import Document, document_id
from tests.ingest.samples import SAMPLE_FILES, sample

SETTINGS = [(300, 0), (200, 60), (120, 0), (500, 100), (80, 30)]
# The outermost outline level of each sample, as a line-start pattern.
TOP_LEVEL = {
    "000": r"[一二三四五]、",
    "001": r"#+ [一二三四]、",
    "002": r"第[一二三]，",
    "003": r"[一二三]、",
}


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    return {path.name[:3]: load_document(path) for path in SAMPLE_FILES}


def _doc(text: str, **extra) -> Document:
    return Document(id=document_id("/x/test.txt"), source="test.txt", path="/x/test.txt", text=text,
                    content_hash="0" * 64, **extra)


@pytest.mark.parametrize(("max_chars", "overlap"), SETTINGS)
def test_offsets_ids_and_sizes_on_samples(documents, max_chars, overlap):
    for document in documents.values():
        chunks = chunk_document(document, max_chars=max_chars, overlap=overlap)
        assert chunks, document.source
        for ordinal, chunk in enumerate(chunks):
            assert chunk.text == document.text[chunk.start:chunk.end]
            assert chunk.id == f"{document.id}:{ordinal}" and chunk.doc_id == document.id
            assert 0 < len(chunk.text) <= max_chars
            assert chunk.text == chunk.text.strip()
        starts = [c.start for c in chunks]
        assert starts == sorted(starts)


@pytest.mark.parametrize(("max_chars", "overlap"), SETTINGS)
def test_chunks_cover_all_text(documents, max_chars, overlap):
    for document in documents.values():
        covered = bytearray(len(document.text))
        for chunk in chunk_document(document, max_chars=max_chars, overlap=overlap):
            covered[chunk.start:chunk.end] = b"\x01" * (chunk.end - chunk.start)
        missing = "".join(ch for ch, hit in zip(document.text, covered) if not hit)
        assert not missing.strip(), (document.source, missing[:80])


@pytest.mark.parametrize(("max_chars", "overlap"), SETTINGS)
def test_chunks_never_cross_top_level_sections(documents, max_chars, overlap):
    for prefix, pattern in TOP_LEVEL.items():
        document = documents[prefix]
        boundaries = [m.start() for m in re.finditer(rf"(?m)^{pattern}", document.text)]
        assert len(boundaries) >= 3, prefix
        for chunk in chunk_document(document, max_chars=max_chars, overlap=overlap):
            assert not any(chunk.start < b < chunk.end for b in boundaries), (prefix, chunk.text[:40])


def _chunk_containing(chunks, needle):
    return next(c for c in chunks if needle in c.text)


def test_heading_paths_on_samples(documents):
    chunks = chunk_document(documents["001"])
    assert _chunk_containing(chunks, "一是要紧跟政策风向").section == ("一、认识要增加深度", "一是要紧跟政策风向")
    assert _chunk_containing(chunks, "三是要围绕园区实干").section == ("二、推进要强化力度", "三是要围绕园区实干")
    assert _chunk_containing(chunks, "李爱武").section == ()  # the title is not a section

    chunks = chunk_document(documents["003"])
    assert _chunk_containing(chunks, "一要推进经济发展大提升").section == (
        "二、思路再明确，在巩固提升中形成加快发展的强劲势头",
        "第三，要统筹“六大提升”，坚决推动“经济发展、城乡统筹、民生福祉、风险防控、和谐",
        "一要推进经济发展大提升",
    )
    chunks = chunk_document(documents["000"])
    assert _chunk_containing(chunks, "（四）坚持项目为重").section == ("四、推进措施", "（四）坚持项目为重")
    chunks = chunk_document(documents["002"])
    assert _chunk_containing(chunks, "二要靠项目").section == ("第二，千帆竞逐抓发展", "二要靠项目")


def test_heading_lines_stay_with_their_text(documents):
    for document in documents.values():
        for chunk in chunk_document(document):
            found = heading_of(chunk.text, document.title)
            assert not (found and found[1] == chunk.text.lstrip("#").strip()), chunk.text  # never a heading alone
    chunks = chunk_document(documents["000"])
    assert _chunk_containing(chunks, "一、指导思想").text.startswith("一、指导思想\n坚持以习近平")


def test_tiny_tail_merged_into_previous_chunk():
    body = "。".join(["要坚持项目为重，真正做到唯项目为大、项目为重、项目为先"] * 4) + "。"
    text = f"一、第一部分\n{body}\n抓好落实。\n二、第二部分\n{body}\n三、第三部分\n{body}"
    chunks = chunk_document(_doc(text), max_chars=150)
    assert all(len(c.text) >= MIN_CHARS for c in chunks)
    assert any(c.text.endswith("抓好落实。") for c in chunks)


def test_long_sentence_split_at_commas_then_hard_cut():
    commas = "，".join(["推动经济社会高质量发展取得新成效"] * 30) + "。"
    chunks = chunk_document(_doc(commas), max_chars=100)
    assert len(chunks) > 1 and all(len(c.text) <= 100 for c in chunks)
    assert all(c.text.endswith(("，", "。")) for c in chunks)
    solid = "高" * 250
    chunks = chunk_document(_doc(solid), max_chars=100)
    assert [len(c.text) for c in chunks] == [100, 100, 50]


def test_sentences_are_never_split_when_they_fit():
    sentences = [f"第{i}句话讲的是第{i}件事情，内容完整。" for i in range(40)]
    text = "".join(sentences)
    for chunk in chunk_document(_doc(text), max_chars=120):
        assert chunk.text.startswith("第") and chunk.text.endswith("。")


def test_overlap_repeats_whole_trailing_sentences(documents):
    document = documents["004"]
    plain = chunk_document(document, max_chars=200, overlap=0)
    assert all(a.end <= b.start for a, b in zip(plain, plain[1:]))
    overlapped = chunk_document(document, max_chars=200, overlap=80)
    shared = [(a, b) for a, b in zip(overlapped, overlapped[1:]) if b.start < a.end]
    assert shared
    for previous, current in shared:
        repeated = document.text[current.start:previous.end]
        assert 0 < len(repeated) <= 80
        assert repeated.endswith(("。", "；", "！", "？", "”"))  # whole sentences only
        assert current.section == previous.section


def test_overlap_never_crosses_a_section():
    text = "一、甲部分\n" + "甲方内容说明一下。" * 30 + "\n二、乙部分\n" + "乙方内容说明一下。" * 30
    chunks = chunk_document(_doc(text), max_chars=60, overlap=30)
    second = text.index("二、乙部分")
    assert not any(c.start < second < c.end for c in chunks)
    assert next(c for c in chunks if c.start >= second).start == second


def test_bold_headings_from_metadata_start_sections():
    text = (
        "一、总体要求\n加强组织领导。要压实责任，确保各项任务落地见效，层层传导压力。\n"
        "统筹推进。要统筹各方力量，形成工作合力，确保按期完成。"
    )
    document = _doc(text, meta={"bold_headings": "加强组织领导。\n统筹推进。"})
    chunks = chunk_document(document, max_chars=60)
    assert [c.section for c in chunks] == [("一、总体要求",), ("一、总体要求", "统筹推进")]
    assert chunks[1].text.startswith("统筹推进。")
    plain = chunk_document(_doc(text), max_chars=60)
    assert all("统筹推进" not in c.section[-1] for c in plain)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("一、指导思想", (1, "一、指导思想")),
        ("## 二、推进要强化力度", (1, "二、推进要强化力度")),
        ("### 背景", (2, "背景")),
        ("（一）深入动员部署。各单位要及时传达", (2, "（一）深入动员部署")),
        ("(三)注重实效", (2, "(三)注重实效")),
        ("第一，上下同心抓发展。统一思想才能统一行动。", (3, "第一，上下同心抓发展")),
        ("1. 加强领导", (4, "1. 加强领导")),
        ("2、完善机制。", (4, "2、完善机制")),
        ("一要靠人。全市以指挥部为作战单元", (5, "一要靠人")),
        ("一是要紧跟政策风向。政策就是项目和资源", (6, "一是要紧跟政策风向")),
        ("1.5亿元资金已经到位。", None),
        ("一要求各单位抓好落实。", None),
        ("同志们：", None),
        ("", None),
    ],
)
def test_heading_of(line, expected):
    assert heading_of(line) == expected


def test_empty_document_gives_no_chunks():
    assert chunk_document(_doc("")) == []
    assert chunk_document(_doc("\n\n  \n")) == []


def test_sample_chunk_counts_are_reasonable(documents):
    # Guards against degenerate output (one giant chunk, or hundreds of slivers) at the default size.
    for prefix, document in documents.items():
        chunks = chunk_document(document)
        assert len(document.text) / 300 <= len(chunks) <= len(document.text) / 100, prefix
    assert len(chunk_document(load_document(sample("004")))) >= 5
