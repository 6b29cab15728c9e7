"""End to end on the five sample files: nothing that cleaning must remove survives into any chunk."""
from __future__ import annotations

import re

import pytest

from ingest.chunk import chunk_document
from ingest.normalize import to_simplified
from ingest.pipeline import load_document
from ingest.records import document_id
from tests.ingest.samples import SAMPLE_FILES, sample

FORBIDDEN = {
    "pinyin gloss": r"\(\s*[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}\s*\)",
    "html tag": r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?>",
    "front matter": r"layout:|^---",
    "advertising": r"订阅|QQ群|倒卖|酷乐文行|禁止外传",
    "site furniture": r"相关热词|热点文章|返回首页|文章来源|发布时间",
    "url": r"https?://|www\.|//\w",
    "mojibake": r"[\ufffd\ue000-\uf8ff]|锟斤拷|\?[a-z]",
    "markdown bold": r"\*\*",
}


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name[:3])
def test_no_noise_survives_in_chunks(path):
    document = load_document(path)
    assert document.id == document_id(str(path.resolve()))
    assert document.source == path.name and document.path == str(path.resolve())
    assert to_simplified(document.text) == document.text
    for chunk in chunk_document(document):
        for what, pattern in FORBIDDEN.items():
            assert not re.search(pattern, chunk.text, re.MULTILINE), (what, chunk.text)


def test_003_is_fully_simplified_and_punctuated():
    text = load_document(sample("003")).text
    assert "講話" not in text and "發展" not in text
    assert "市委市政府决定，召开今天的解放思想大讨论活动总结会议，" in text
    assert not re.search(r"[\u4e00-\u9fff][,;:?!][\u4e00-\u9fff]", text)


def test_000_paragraphs_rejoined():
    text = load_document(sample("000")).text
    assert "视使命为生命，凭发展论英雄，以项目比能力，从担当看品格" in text
    assert "\n一、指导思想\n" in text
    assert "\n\n" not in text  # the blank line between every PDF line is gone


def test_002_speech_starts_at_title():
    assert load_document(sample("002")).text.startswith("在2020年全市干部大会上的讲话\n同志们：")


def test_004_keeps_origin_and_front_matter_fields():
    document = load_document(sample("004"))
    assert document.meta["origin"] == "荆州日报"
    assert document.meta["tags"] == "荆州日报新闻"
    assert document.text.endswith("相关部门主要负责人参加会议。")
