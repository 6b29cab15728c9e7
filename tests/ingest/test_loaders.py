"""Loaders: file discovery, encoding detection, size/binary/empty refusals, .docx/.pdf/.html input."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from ingest.loaders import SUPPORTED_SUFFIXES, IngestError, decode_bytes, find_files, load_raw
from ingest.pipeline import file_hash, load_document
from ingest.records import content_hash
from tests.ingest.samples import SAMPLE_FILES, sample

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gbk", "gb18030"]


def _expected(text: str, encoding: str) -> str:
    # GBK cannot hold every character (e.g. "ǖ" glosses in 003): the copy keeps what GBK can encode.
    if encoding == "utf-8-sig":
        return text
    return text.encode(encoding, errors="ignore").decode(encoding)


def test_sample_corpus_present():
    assert len(SAMPLE_FILES) == 5


def test_ingest_error_carries_source_and_reason():
    error = IngestError("a.txt", "empty file")
    assert (error.source, error.reason, str(error)) == ("a.txt", "empty file", "a.txt: empty file")


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name[:3])
def test_encoded_copies_of_samples_decode_exactly(tmp_path, path, encoding):
    text = path.read_text(encoding="utf-8")
    copy = tmp_path / path.name
    copy.write_bytes(text.encode(encoding, errors="ignore"))
    raw = load_raw(copy)
    assert raw.text == _expected(text, encoding)
    assert not raw.text.startswith("\ufeff")
    assert raw.format == "txt"
    assert raw.raw_hash == content_hash(copy.read_bytes())


def test_gbk_copy_is_not_mistaken_for_utf8_or_utf16():
    text = sample("001").read_text(encoding="utf-8")
    assert decode_bytes(text.encode("gbk", errors="ignore"), "x")[:40] == text[:40]


@pytest.mark.parametrize("data", [b"", b"   \n\t \r\n", "\ufeff".encode("utf-8") + b"  \n"])
def test_empty_files_refused(data):
    with pytest.raises(IngestError) as caught:
        decode_bytes(data, "blank.txt")
    assert caught.value.reason == "empty file"
    assert caught.value.source == "blank.txt"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        bytes(1000),
        bytes(range(1, 32)) * 40,  # valid UTF-8 but nothing but control characters
        b"PK\x03\x04\x14\x00\x06\x00" + os.urandom(2000),
    ],
    ids=["png", "nuls", "controls", "zip"],
)
def test_binary_data_refused(data):
    with pytest.raises(IngestError) as caught:
        decode_bytes(data, "blob.txt")
    assert caught.value.reason == "binary file, not text"


def test_oversized_file_refused_with_size_and_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("测" * 1000, encoding="utf-8")  # 3000 bytes
    with pytest.raises(IngestError) as caught:
        load_raw(path, max_bytes=1000)
    assert "3000" in caught.value.reason and "1000" in caught.value.reason
    assert caught.value.source == "big.txt"


def test_huge_file_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: 50 MB on paper, instant to create

    def never(*args, **kwargs):
        raise AssertionError("an oversized file must be refused before it is read")

    monkeypatch.setattr(Path, "read_bytes", never)
    monkeypatch.setattr(Path, "read_text", never)
    with pytest.raises(IngestError, match="50000000"):
        load_raw(path)


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(IngestError, match="cannot read|no such"):
        load_raw(tmp_path / "gone.txt")
    odd = tmp_path / "notes.xyz"
    odd.write_text("正文", encoding="utf-8")
    with pytest.raises(IngestError, match="unsupported file type"):
        load_raw(odd)


def test_find_files_walks_folders_sorted_unique_skipping_hidden(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    for name in ["b.txt", "a.md", "sub/c.html", "sub/deeper/d.pdf", "sub/e.docx", "sub/f.htm", "g.xyz",
                 ".hidden.txt", ".git/h.txt", "sub/~$lock.docx", "sub/UPPER.TXT"]:
        (tmp_path / name).write_bytes(b"x")
    found = find_files([tmp_path, tmp_path / "b.txt", tmp_path / "sub"])
    names = [p.relative_to(tmp_path).as_posix() for p in found]
    assert names == sorted(names)
    assert set(names) == {"a.md", "b.txt", "sub/c.html", "sub/deeper/d.pdf", "sub/e.docx", "sub/f.htm",
                          "sub/UPPER.TXT"}
    assert len(names) == len(set(names))
    assert {".txt", ".md", ".html", ".htm", ".docx", ".pdf"} == SUPPORTED_SUFFIXES


def test_find_files_keeps_explicit_files_and_rejects_missing_paths(tmp_path):
    explicit = tmp_path / ".explicit.txt"
    explicit.write_text("正文", encoding="utf-8")
    assert find_files([explicit]) == [explicit]
    with pytest.raises(IngestError) as caught:
        find_files([tmp_path / "nope"])
    assert caught.value.source.endswith("nope")


def _chinese_pdf(lines: list[str]) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.setFont("STSong-Light", 12)
    y = 800
    for line in lines:
        page.drawString(72, y, line)
        y -= 20
    page.showPage()
    page.save()
    return buffer.getvalue()


PDF_LINES = [
    "关于开展主题活动的实施方案",
    "一、指导思想",
    "坚持以习近平新时代中国特色社会主义思想为指导，全面贯",
    "彻党的二十大精神，推动经济社会高质量发展，奋力谱写新篇",
    "章。",
    "二、主要内容",
    "讲政治，就是要坚定政治立场和政治方向，确保政令畅通。",
]


def test_pdf_with_chinese_text_layer(tmp_path):
    path = tmp_path / "plan.pdf"
    path.write_bytes(_chinese_pdf(PDF_LINES))
    raw = load_raw(path)
    assert raw.format == "pdf"
    assert "一、指导思想" in raw.text and "讲政治" in raw.text
    document = load_document(path)
    assert "全面贯彻党的二十大精神" in document.text  # the PDF line break was rejoined
    assert "\n一、指导思想\n" in document.text
    assert document.title == "关于开展主题活动的实施方案"
    assert document.kind == "实施方案"


def test_pdf_without_text_layer_refused(tmp_path):
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.rect(100, 100, 200, 200, fill=1)  # a "scan": drawing, no text
    page.showPage()
    page.save()
    path = tmp_path / "scan.pdf"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(IngestError) as caught:
        load_raw(path)
    assert caught.value.reason == "no text layer (scanned PDF?)"


@pytest.mark.parametrize("data", [b"%PDF-1.4\n1 0 obj garbage", b"not a pdf at all"], ids=["cut", "junk"])
def test_corrupt_pdf_refused(tmp_path, data):
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)
    with pytest.raises(IngestError) as caught:
        load_raw(path)
    assert caught.value.source == "broken.pdf"
    assert "PDF" in caught.value.reason


def test_docx_headings_become_markdown_and_tables_lines(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("在全市工作会议上的讲话", level=1)
    document.add_paragraph("同志们：")
    document.add_heading("一、统一思想", level=2)
    document.add_paragraph("统一思想才能统一行动。只有上下同心，才能形成合力。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "指标", "目标"
    table.cell(1, 0).text, table.cell(1, 1).text = "增长", "8%"
    document.add_paragraph("二是要强化落实。")
    path = tmp_path / "speech.docx"
    document.save(path)

    raw = load_raw(path)
    lines = raw.text.split("\n\n")
    assert raw.format == "docx"
    assert lines[0] == "# 在全市工作会议上的讲话"
    assert "## 一、统一思想" in lines
    assert "指标 | 目标" in lines and "增长 | 8%" in lines
    assert lines.index("增长 | 8%") < lines.index("二是要强化落实。")  # table kept in document order
    loaded = load_document(path)
    assert loaded.title == "在全市工作会议上的讲话"
    assert loaded.kind == "讲话"


def test_corrupt_docx_refused(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(IngestError, match="docx"):
        load_raw(path)


def test_html_file_is_decoded_and_cleaned(tmp_path):
    html = """<!DOCTYPE html><html><head><meta charset="gbk"><title>全市工作会议讲话</title>
<style>p { color: red }</style><script>var ad = "订阅";</script></head>
<body><header>网站首页</header><nav><a href="/">首页</a> | <a href="/news">新闻</a></nav>
<h1>全市工作会议讲话</h1><p>同志们：</p><p>今天召开会议，<br>部署全年工作。</p>
<ul><li>一要靠人。</li><li>二要靠项目。</li></ul><footer>版权所有 2024</footer></body></html>"""
    path = tmp_path / "page.html"
    path.write_bytes(html.encode("gbk"))
    raw = load_raw(path)
    assert raw.format == "html" and "<nav>" in raw.text  # loaders decode; cleaning converts
    document = load_document(path)
    assert document.title == "全市工作会议讲话"
    for gone in ("网站首页", "首页", "新闻", "订阅", "color", "版权", "<"):
        assert gone not in document.text
    assert "今天召开会议，\n部署全年工作。" in document.text
    assert "\n一要靠人。\n二要靠项目。" in document.text


def test_file_hash_matches_document_content_hash(tmp_path):
    path = sample("004")
    assert file_hash(path) == content_hash(path.read_bytes()) == load_document(path).content_hash
    with pytest.raises(IngestError):
        file_hash(tmp_path / "missing.txt")


def test_load_document_names_the_file_on_failure(tmp_path):
    path = tmp_path / "only-ads.txt"
    path.write_text("仅供学习 禁止外传\n会员群：  免费QQ群：\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        load_document(path)
    assert caught.value.source == "only-ads.txt"
