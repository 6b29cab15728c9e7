"""The extractive answerer: sentence choice, citations, lists and refusals, on hand-made passages."""
from __future__ import annotations

import jieba
import pytest

from index.records import Hit
from ingest.records import Chunk, Document
from service.answer.extractive import (
    REFUSAL,
    ExtractiveGenerator,
    is_enumeration,
    question_terms,
    split_sentences,
    term_coverage,
)

STOP = {"的", "了", "和", "是", "在", "要", "对", "有", "哪些", "什么", "怎么", "如何", "？", "，", "。", " "}


def tokenize(text: str) -> list[str]:
    return [t for t in jieba.lcut(text) if t.strip() and t not in STOP]


def make_hit(doc_name: str, text: str, score: float = 1.0) -> Hit:
    doc = Document(id=doc_name, source=f"{doc_name}.txt", path=f"/x/{doc_name}.txt", text=text,
                   content_hash="h", title=doc_name)
    return Hit(Chunk(f"{doc_name}:0", doc_name, text, 0, len(text), ("一、总体要求",)), doc, score)


@pytest.fixture()
def generator() -> ExtractiveGenerator:
    return ExtractiveGenerator(tokenize, lambda t: 1.0, None, min_answer_score=0.5)


def test_split_sentences_keeps_offsets_and_punctuation():
    text = "第一句话。第二句话！\n第三句；"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["第一句话。", "第二句话！", "第三句；"]


def test_question_terms_drop_question_words():
    terms = question_terms("招商引资有哪些要求？", tokenize)
    assert "哪些" not in terms and "要求" not in terms  # 要求 names the answer type, not its content
    assert "招商引资" in terms


def test_question_terms_drop_single_characters_and_sub_words():
    terms = question_terms("洪湖市的工业经济调度要调度到哪些层面？", lambda t: ["洪湖", "洪湖市", "调度", "到", "层面"])
    assert terms == ["洪湖市", "调度", "层面"]


def test_term_coverage_is_weighted_share():
    assert term_coverage("招商引资是一号工程", ["招商", "工程", "考核"], [1, 1, 2]) == pytest.approx(0.5)
    assert term_coverage("任何文本", [], []) == 0.0


def test_enumeration_detection():
    assert is_enumeration("招商引资有哪些要求？")
    assert is_enumeration("六項制度包括哪些制度？")  # traditional
    assert not is_enumeration("常务副组长是谁？")


def test_answer_cites_the_passage_each_sentence_comes_from(generator):
    hits = [
        make_hit("a", "今天天气很好。会议开得很成功。"),
        make_hit("b", "招商引资是全市的一号工程。要坚持专业招商。"),
    ]
    answer = generator.answer("招商引资被定位为什么工程？", hits)
    assert answer.answerable
    assert "一号工程" in answer.text
    assert answer.text.count("[1]") >= 1
    assert answer.citations[0].hit.document.source == "b.txt"
    assert "天气" not in answer.text


def test_answer_draws_on_several_documents_for_a_list(generator):
    hits = [
        make_hit("a", "招商引资要坚持市委靠前抓招。招商引资要做到政府重点管落。"),
        make_hit("b", "招商引资要立即启动专业招商。项目建设要加快。"),
    ]
    answer = generator.answer("招商引资有哪些要求？", hits)
    assert answer.answerable
    assert {c.hit.document.source for c in answer.citations} == {"a.txt", "b.txt"}
    assert answer.text.startswith("1. ")
    for c in answer.citations:
        assert f"[{c.n}]" in answer.text


def test_stream_yields_one_cited_sentence_at_a_time_then_the_answer(generator):
    hits = [
        make_hit("a", "招商引资要坚持市委靠前抓招。招商引资要做到政府重点管落。"),
        make_hit("b", "招商引资要立即启动专业招商。项目建设要加快。"),
    ]
    *pieces, answer = generator.stream("招商引资有哪些要求？", hits)
    assert "".join(pieces) == answer.text == generator.answer("招商引资有哪些要求？", hits).text
    assert len(pieces) >= 3  # one piece per sentence or line, not the whole text at once
    assert all(p.rstrip("\n").endswith("]") for p in pieces)


def test_weak_evidence_is_refused_and_nothing_is_cited(generator):
    hits = [make_hit("a", "招商引资是全市的一号工程。")]
    answer = generator.answer("高校毕业生到基层就业有哪些补贴？", hits)
    assert not answer.answerable
    assert answer.text == REFUSAL
    assert answer.citations == []
    assert answer.retrieved == hits  # still shown as possibly related


def test_no_hits_is_a_refusal(generator):
    assert not generator.answer("招商引资有哪些要求？", []).answerable


def test_list_introduced_by_colon_keeps_its_items(generator):
    text = "六项制度包括以下内容：不定期抽查制度。督查问责制度。成效述职制度。"
    answer = generator.answer("六项制度包括哪些？", [make_hit("a", text)])
    for item in ("不定期抽查", "督查问责", "成效述职"):
        assert item in answer.text


def test_announced_list_is_followed_into_the_next_passage_of_its_section():
    first = make_hit("a", "风险防控要做到“三个到位”。一是意识要到位。二是工作要到位。")
    nxt = Chunk("a:1", "a", "三是责任要到位。其他内容。", 0, 12, ("一、总体要求", "（一）"))
    gen = ExtractiveGenerator(tokenize, lambda t: 1.0, None, min_answer_score=0.5,
                              continuation=lambda hit: [Hit(nxt, hit.document, 0.0)])
    answer = gen.answer("风险防控要做到哪“三个到位”？", [first])
    for item in ("意识要到位", "工作要到位", "责任要到位"):
        assert item in answer.text
    assert "其他内容" not in answer.text
    assert [c.hit.chunk.id for c in answer.citations] == ["a:0", "a:1"]
    assert answer.retrieved[-1].chunk.id == "a:1"  # the continuation is listed, so its citation resolves


def test_parallel_sentences_form_a_list_without_markers():
    text = "坚决执行“三项制度”。要坚决执行抽查制度。要坚决执行问责制度。要坚决执行述职制度。"
    answer = ExtractiveGenerator(tokenize, lambda t: 1.0, None, min_answer_score=0.5).answer(
        "三项制度包括哪些？", [make_hit("a", text)])
    assert answer.text.count("要坚决执行") == 3 and answer.text.startswith("1. ")
