"""Metadata: dates, titles, speakers, kinds; plus the expected metadata of the five sample files."""
from __future__ import annotations

import pytest

from ingest.metadata import extract_metadata, find_kind, find_speaker, find_title, parse_date
from ingest.pipeline import load_document
from tests.ingest.samples import sample


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017年3月7日", "2017-03-07"),
        ("（2017年3月7日）", "2017-03-07"),
        ("(2017年3月7日)", "2017-03-07"),
        ("2022-02-18 14:51:45 +0800", "2022-02-18"),
        ("发布时间：2021-06-20 来源：读后感", "2021-06-20"),
        ("2021/6/20", "2021-06-20"),
        ("二〇一七年三月七日", "2017-03-07"),
        ("二〇二一年十二月二十七日", "2021-12-27"),
        ("2021年2月30日", None),  # not a calendar date
        ("2月13日，洪湖市召开会议", None),  # no year: an event, not a document date
        ("", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_title_from_metadata_wins():
    assert find_title("本报讯 正文。", {"title": "全面开启“四大会战”坚决打赢翻身仗"}) == "全面开启“四大会战”坚决打赢翻身仗"


def test_tool_generated_title_ignored():
    assert find_title("# 政府工作报告\n正文。", {"title": "Microsoft Word - 2021.doc"}) == "政府工作报告"


def test_title_from_markdown_heading():
    assert find_title("# 全市加速推进新型工业化工作会议讲话\n\n李爱武\n\n（2017年3月7日）", {}) == "全市加速推进新型工业化工作会议讲话"


def test_wrapped_title_lines_joined():
    text = "关于在全市经信系统开展“四讲四比”\n主题活动的实施方案\n为了贯彻落实市委关于“视使命为生命，凭发展论英雄”的指示精神。"
    assert find_title(text, {}) == "关于在全市经信系统开展“四讲四比”主题活动的实施方案"


def test_title_not_joined_with_salutation_speaker_or_outline():
    assert find_title("在2020年全市干部大会上的讲话\n同志们：\n今天上午。", {}) == "在2020年全市干部大会上的讲话"
    assert find_title("全市工作会议讲话\n李爱武\n正文。", {}) == "全市工作会议讲话"
    assert find_title("实施方案\n一、指导思想\n正文。", {}) == "实施方案"


def test_no_title_when_text_opens_with_prose():
    text = "本报讯（记者张三）2月13日，洪湖市召开联席会议，学习传达贯彻落实荆州市委书记调研洪湖市“开门红”时的讲话精神。"
    assert find_title(text, {}) == ""
    assert extract_metadata(text, {}, "2021年政府工作报告.docx")["title"] == "2021年政府工作报告"
    assert extract_metadata(text, {}, "d26e0f904bfb6b4b.txt")["title"] == ""


def test_speaker_on_line_after_title():
    text = "# 全市加速推进新型工业化工作会议讲话\n\n李爱武\n\n（2017年3月7日）\n\n## 一、认识要增加深度"
    assert find_speaker(text, "全市加速推进新型工业化工作会议讲话") == "李爱武"
    assert find_speaker("全市工作会议讲话\n李 爱 武 同志\n正文。", "全市工作会议讲话") == "李爱武"


def test_speaker_from_comrade_speech_phrase():
    title = "王小明同志在全市经济工作会议上的讲话"
    assert find_speaker(f"{title}\n同志们：\n正文。", title) == "王小明"
    assert find_speaker("在全市经济工作会议上的讲话\n——王小明同志在全市经济工作会议上的讲话\n同志们：", "在全市经济工作会议上的讲话") == "王小明"


def test_no_speaker_is_guessed():
    assert find_speaker("在2020年全市干部大会上的讲话\n同志们：\n今天上午。", "在2020年全市干部大会上的讲话") is None
    news = "本报讯 2月13日，洪湖市召开会议。\n会上，通报了情况，传达了吴锦同志在座谈会上的讲话精神，市领导分别讲话，要求全市上下抓好落实。"
    assert find_speaker(news, "全面开启“四大会战”坚决打赢翻身仗") is None


@pytest.mark.parametrize(
    ("title", "text", "meta", "kind"),
    [
        ("关于在全市经信系统开展“四讲四比”主题活动的实施方案", "正文。", {}, "实施方案"),
        ("关于优化营商环境的方案", "正文。", {}, "方案"),
        ("关于做好春节期间工作的通知", "各单位：", {}, "通知"),
        ("关于加快发展的意见", "正文。", {}, "意见"),
        ("在2020年全市干部大会上的讲话", "同志们：", {}, "讲话"),
        ("全面开启“四大会战”坚决打赢翻身仗", "本报讯（记者）会议强调讲话精神。同志们", {}, "新闻报道"),
        ("标题", "正文。", {"tags": "荆州日报新闻"}, "新闻报道"),
        ("标题", "同志们，今天我们召开会议。", {}, "讲话"),
        ("标题", "正文。", {}, None),
    ],
)
def test_kind(title, text, meta, kind):
    assert find_kind(text, title, meta) == kind


def test_front_matter_date_preferred_over_text_dates():
    meta = {"title": "标题", "date": "2022-02-18 14:51:45 +0800"}
    assert extract_metadata("2020年1月1日 正文。", meta, "x.txt")["date"] == "2022-02-18"


EXPECTED = {
    "000": ("关于在全市经信系统开展“四讲四比”主题活动的实施方案", None, None, "实施方案"),
    "001": ("全市加速推进新型工业化工作会议讲话", "2017-03-07", "李爱武", "讲话"),
    "002": ("在2020年全市干部大会上的讲话", None, None, "讲话"),
    "003": ("在全市“建功新时代、再创新辉煌”解放思想大讨论活动总结大会上的讲话", "2021-06-20", None, "讲话"),
    "004": ("全面开启“四大会战”坚决打赢翻身仗", "2022-02-18", None, "新闻报道"),
}


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_sample_metadata(prefix):
    document = load_document(sample(prefix))
    assert (document.title, document.date, document.speaker, document.kind) == EXPECTED[prefix]
