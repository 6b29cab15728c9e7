"""Grounding checks: marker parsing and repair, per-sentence support, and the measured support threshold."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import load_document
from service.answer.grounding import (
    UNSUPPORTED_MARK, containment, final_prefix, ground_text, parse_markers, split_pieces, strip_markers,
)
from service.settings import Settings

SPEECHES = Path(__file__).resolve().parents[3] / "data" / "speeches"
THRESHOLD = Settings.model_fields["grounding_min_support"].default

# (anchor in a speech, a sentence the passage supports written the way an LLM condenses or rewords it,
#  an on-topic sentence the passage does not support)
MEASURED = [
    ("一是要从信心上帮", "帮扶企业首先要从信心上帮，坚定企业发展的信心。", "经济下行时要为企业减免税费并提供低息贷款。"),
    ("二是要围绕项目实干", "发展必须依靠项目支撑，要把项目建设作为“牛鼻子”“赛马场”“试金石”。",
     "项目建设要以外资项目为主，每个县至少引进十个项目。"),
    ("三是要围绕园区实干", "要抓好“园区十条”贯彻落实，推动建成更多的百亿、千亿园区。", "园区建设要优先发展生态农业和乡村旅游。"),
    ("三要靠资金", "资金从哪里来？一是向上争资，按照全省平均1.5倍系数向上争取资金。", "资金主要依靠发行地方政府债券筹措。"),
    ("李岳星同志任常务副组长", "“四讲四比”主题活动领导小组由李岳星同志任常务副组长。", "领导小组组长由市长担任，办公室设在市政府。"),
    ("月调度、季讲评、年考核", "对工业推进情况要坚持月调度、季讲评、年考核。", "考核不合格的干部一律免职，实行一票否决。"),
    ("强化工业优先", "魏朝东要求牢固树立工业优先、招商优先、项目优先、环境优先“四个优先”意识。",
     "魏朝东要求加快发展数字经济和人工智能产业。"),
    ("招硕引博", "要通过招硕引博，引进一批懂产业、懂招商的专业人才。", "人才引进要提供住房补贴和子女入学保障。"),
    ("两定五考", "考核评价体系叫“两定五考”。", "考核结果与干部年终奖金直接挂钩。"),
    ("一是要从信心上帮", "信心比黄金更重要，要帮企业坚定发展信心。", "要从信心上帮，并为每家企业发放五百万元补贴。"),
    ("三要靠资金", "资金来源包括向上争取资金和招商引资。", "我是机器人。"),
]


@pytest.fixture(scope="module")
def documents() -> list[str]:
    return [load_document(path).text for path in sorted(SPEECHES.glob("*.txt"))]


def _passage(documents: list[str], anchor: str, width: int = 300) -> str:
    """The ~300-character passage (the default chunk size) around `anchor` in the cleaned speeches."""
    for text in documents:
        i = text.find(anchor)
        if i >= 0:
            return text[max(0, i - 60): max(0, i - 60) + width]
    raise AssertionError(f"{anchor} not in the sample speeches")


def test_threshold_separates_supported_from_invented_sentences_on_real_passages(documents):
    supported = [containment(good, _passage(documents, a)) for a, good, _ in MEASURED]
    invented = [containment(bad, _passage(documents, a)) for a, _, bad in MEASURED]
    # measured: supported 0.53-0.96, invented 0.00-0.37; the default threshold must sit between them with margin
    assert min(supported) >= THRESHOLD + 0.02, supported
    assert max(invented) <= THRESHOLD - 0.1, invented
    for (anchor, good, bad) in MEASURED:
        result = ground_text(f"{good}[1]{bad}[1]", [_passage(documents, anchor)], THRESHOLD)
        assert all(c.grounded for c in result.checks[:-1]) and result.checks[-1].status == "unsupported"
        assert strip_markers(result.text) == good and result.text.endswith("[1]")


def test_pieces_keep_markers_with_their_sentence_and_lose_nothing():
    text = "招商要做到四个到位。[1][3]其次，要抓考核[2]。\n1. 一是信心[1]；二是政策"
    pieces = split_pieces(text)
    assert "".join(pieces) == text
    assert pieces[:3] == ["招商要做到四个到位。[1][3]", "其次，要抓考核[2]。", "\n"]
    assert parse_markers("甲[1][3]乙【2】丙[4,5]丁［6］") == [1, 3, 2, 4, 5, 6]


@pytest.mark.parametrize(("buffer", "final"), [
    ("甲乙。", 0), ("甲乙。[", 0), ("甲乙。[1", 0), ("甲乙。[1]", 0), ("甲乙。[1]丙", 6), ("甲乙。\n", 4), ("甲乙。 ", 0),
])
def test_stream_buffer_is_cut_only_after_complete_sentences(buffer, final):
    assert final_prefix(buffer) == final


PASSAGES = ["帮扶企业要从信心上帮，信心比黄金更重要。要从政策上帮，把各项惠企政策落实到位。",
            "对工业推进情况坚持月调度、季讲评、年考核，2017年工业投资增长15%。"]


def test_markers_to_no_passage_are_removed_and_citations_renumbered():
    result = ground_text("坚持月调度、季讲评、年考核。[2][7]要从信心上帮，信心比黄金更重要。[0][1]", PASSAGES, THRESHOLD)
    assert result.text == "坚持月调度、季讲评、年考核。[1]要从信心上帮，信心比黄金更重要。[2]"
    assert result.cited == [2, 1]  # prompt numbers in order of first citation
    assert sum(c.removed_markers for c in result.checks) == 2


def test_unmarked_sentence_gets_the_passage_that_supports_it_or_is_flagged():
    result = ground_text("要从政策上帮，把惠企政策落实到位。全市要建设三个千亿园区。", PASSAGES, THRESHOLD)
    assert [c.status for c in result.checks] == ["attached", "unsupported"]
    assert result.text == "要从政策上帮，把惠企政策落实到位。[1]"


def test_wrong_citation_is_corrected_to_the_supporting_passage():
    result = ground_text("坚持月调度、季讲评、年考核。[1]", PASSAGES, THRESHOLD)
    assert result.checks[0].status == "recited" and result.text == "坚持月调度、季讲评、年考核。[1]"
    assert result.cited == [2]


def test_a_changed_figure_is_unsupported_even_when_the_words_match():
    assert ground_text("2017年工业投资增长15%。[2]", PASSAGES, THRESHOLD).checks[0].status == "supported"
    assert ground_text("2017年工业投资增长25%。[2]", PASSAGES, THRESHOLD).checks[0].status == "unsupported"


def test_mark_mode_keeps_unsupported_sentences_visibly_marked():
    result = ground_text("要从信心上帮。[1]全市要建设三个千亿园区。[1]", PASSAGES, THRESHOLD, unsupported="mark")
    assert result.text == f"要从信心上帮。[1]全市要建设三个千亿园区。{UNSUPPORTED_MARK}"
    assert result.grounded_ratio == 0.5


def test_introductions_and_list_layout_are_kept_without_counting():
    result = ground_text("主要有两点：\n1. 要从信心上帮。[1]\n2. 要从政策上帮。[1]", PASSAGES, THRESHOLD)
    assert result.text == "主要有两点：\n1. 要从信心上帮。[1]\n2. 要从政策上帮。[1]"
    assert result.grounded_ratio == 1.0 and [c.counts for c in result.checks if c.text] == [False, True, True]
