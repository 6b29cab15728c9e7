"""Tokenisation (jieba + stopwords + policy terms + optional bigrams) and the BM25 index."""
from __future__ import annotations

import math

import pytest

from index.lexical import (
    DEFAULT_TOKENIZER_MODE,
    LexicalIndex,
    harvest_terms,
    new_segmenter,
    policy_terms,
    stopwords,
    tokenize,
)
from ingest.normalize import normalize_text


def test_stopword_list_is_shipped_and_reasonable():
    stop = stopwords()
    assert 250 <= len(stop) <= 500
    assert {"的", "了", "和", "是", "什么", "哪些", "如何", "是否", "我们", "，", "？"} <= stop
    assert not {"发展", "工作", "企业", "项目", "干部"} & stop  # content words stay


@pytest.mark.parametrize("term", ["招商引资", "亩均税收", "大好高", "新型工业化", "营商环境", "一号工程", "放管服"])
def test_shipped_policy_terms_stay_whole(term):
    assert term in policy_terms()
    assert term in tokenize(f"要抓好{term}工作", "words")


def test_search_mode_also_emits_the_parts_of_long_words():
    tokens = tokenize("加速推进新型工业化", "words")
    assert {"新型工业化", "工业化", "工业"} <= set(tokens)


def test_stopwords_punctuation_and_ascii():
    tokens = tokenize("我们如何提高GDP和5G网络的覆盖率？", "words")
    assert "我们" not in tokens and "如何" not in tokens and "的" not in tokens and "？" not in tokens
    assert "gdp" in tokens and "5g" in tokens and "网络" in tokens


def test_bigram_mode_adds_marked_character_bigrams():
    words = tokenize("两定五考体系", "words")
    both = tokenize("两定五考体系", "words+bigrams")
    assert both[: len(words)] == words
    assert {"#两定", "#定五", "#五考", "#考体", "#体系"} <= set(both)
    assert not any(t.startswith("#") for t in words)


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="tokenizer mode"):
        tokenize("文本", "chars")


def test_harvest_terms_takes_short_quoted_cjk_phrases():
    texts = ["开展“四讲四比”主题活动，实行「两定五考」", "坚持“一号工程”，“四讲四比”", "“这是一句很长的引用不是术语吧”", "“A股”“好”"]
    assert harvest_terms(texts) == ["一号工程", "两定五考", "四讲四比"]


def test_user_terms_stay_private_to_their_segmenter():
    with_term = new_segmenter(["定岗考评"])
    without = new_segmenter()
    assert "定岗考评" in tokenize("实行定岗考评办法", "words", segmenter=with_term)
    assert "定岗考评" not in tokenize("实行定岗考评办法", "words", segmenter=without)
    assert "定岗考评" not in tokenize("实行定岗考评办法", "words")  # the default segmenter is untouched too


# ---------------------------------------------------------------------------------------------- BM25

DOCS = [
    "要把亩均税收作为项目准入的硬指标",
    "稳定粮食播种面积，建设高标准农田",
    "坚决整治吃拿卡要问题，畅通举报热线",
    "优化营商环境，深化放管服改革，招商引资是一号工程",
]


@pytest.fixture(scope="module")
def index():
    return LexicalIndex().build([tokenize(d) for d in DOCS])


def test_search_ranks_the_matching_row_first(index):
    results = index.search(tokenize("亩均税收标准"), top_k=3)
    assert results[0][0] == 0 and all(score > 0 for _, score in results)
    assert [s for _, s in results] == sorted((s for _, s in results), reverse=True)


def test_search_without_known_tokens_returns_nothing(index):
    assert index.search(tokenize("量子计算"), top_k=3) == []
    assert index.search([], top_k=3) == []
    assert index.search(["", "未知"], top_k=3) == []


def test_repeated_query_tokens_count_once(index):
    assert index.search(["农田"], 2) == index.search(["农田", "农田", "农田"], 2)


def test_idf_and_doc_freq(index):
    assert index.doc_freq("农田") == 1 and index.doc_freq("不存在") == 0
    n = len(DOCS)
    assert index.idf("农田") == pytest.approx(math.log(1 + (n - 1 + 0.5) / 1.5))
    assert index.idf("不存在") > index.idf("农田")


def test_save_and_load_roundtrip_memory_mapped(index, tmp_path):
    index.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25", mmap=True)
    query = tokenize("营商环境和招商引资")
    assert loaded.search(query, 4) == index.search(query, 4)
    assert (loaded.k1, loaded.b, loaded.n_docs) == (index.k1, index.b, 4)
    assert loaded.idf("农田") == pytest.approx(index.idf("农田"))


def test_empty_index_roundtrip(tmp_path):
    empty = LexicalIndex().build([])
    empty.save(tmp_path / "e")
    assert LexicalIndex.load(tmp_path / "e").search(["农田"], 3) == []


# ---------------------------------------------------------------------------------------------- the mode choice


def test_default_mode_finds_evidence_on_own_questions(corpus):
    """Questions written for the test speeches: the default tokenizer ranks the evidence passage first.

    Measured while choosing the default (see the report): on 20 own questions over the sample speeches hit@1 was
    0.80 with "words" and 0.95 with "words+bigrams"; on rgb_zh (300 news questions) 0.690 vs 0.657.
    """
    documents, chunks = corpus
    segmenter = new_segmenter(harvest_terms(d.text for d in documents.values()))
    index = LexicalIndex().build([tokenize(c.text, segmenter=segmenter) for c in chunks])
    questions = {
        "领导小组常务副组长是谁": "赵刚",
        "新引进工业项目亩均税收不低于多少": "不低于二十万元",
        "建设多少亩高标准农田": "高标准农田五万亩",
        "对推诿扯皮的问题怎么处理": "推诿扯皮",
        "机关科室的考核评价体系叫什么": "两定五考",
    }
    for question, evidence in questions.items():
        row = index.search(tokenize(normalize_text(question), DEFAULT_TOKENIZER_MODE, segmenter=segmenter), 1)[0][0]
        assert evidence in chunks[row].text, question


def test_vectorised_build_matches_bm25s_own_indexing():
    import bm25s
    import numpy as np

    texts = DOCS + ["", "招商引资招商引资，再抓招商引资", "高标准农田和粮食"] * 3
    token_lists = [tokenize(t) for t in texts]
    ours = LexicalIndex(k1=0.9, b=0.4).build(iter(token_lists))._bm25
    ref = bm25s.BM25(method="lucene", k1=0.9, b=0.4)
    ref.index(token_lists, show_progress=False)
    for token, ref_id in ref.vocab_dict.items():
        if token:
            ours_scores = ours.get_scores_from_ids([ours.vocab_dict[token]])
            assert np.allclose(ours_scores, ref.get_scores_from_ids([ref_id]), atol=1e-6), token
