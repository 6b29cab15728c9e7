"""Title, date, speaker and kind of a cleaned document.

Rules:
- title: metadata title (front matter, HTML <title>, docx/pdf properties) unless it is a tool's file name; else the
  first Markdown heading near the top; else the first short line, joined with a second short unfinished line
  when the title was wrapped ("关于在全市经信系统开展“四讲四比”" + "主题活动的实施方案"); failing all that, a
  file name with Chinese in it.
- date: ISO "YYYY-MM-DD" from metadata (front matter date, "发布时间" header) or from the first lines of the text;
  accepts 2017年3月7日, （2017年3月7日）, 2022-02-18 14:51:45, 2021/6/20 and 二〇一七年三月七日. Dates deep in
  the body are events, not the document date, so they are not used.
- speaker: a 2-4 character name on its own line right after the title, or "XX同志在…上的讲话" in the title or a
  short opening line; None otherwise (never guessed from body text).
- kind: 实施方案/方案/通知/意见 from the title; 讲话 when the title says 讲话/致辞/发言; 新闻报道 for front matter
  that says news or an opening 本报讯/记者; otherwise 讲话 when the text addresses 同志们.
"""
from __future__ import annotations

import re
from datetime import date

from ingest.clean import is_outline_line

_NUMERIC_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_DATE = re.compile(r"([〇零○Ｏ一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")
_NAME_LINE = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
_NOT_NAMES = {"同志们", "各位", "大家好", "讲话", "发言", "致辞", "目录", "前言", "摘要", "正文", "附件"}
# Only as a title or byline ("——王小明同志在全市经济工作会议上的讲话"), never inside a sentence reporting one.
_COMRADE_SPEECH = re.compile(r"^[—\-－（(《\s]*([\u4e00-\u9fff]{2,4}?)同志在.{2,40}?(?:讲话|发言|致辞|报告)[）)》]?$")
_TITLE_KINDS = (("实施方案", "实施方案"), ("方案", "方案"), ("通知", "通知"), ("意见", "意见"), ("讲话", "讲话"),
                ("致辞", "讲话"), ("发言", "讲话"))
_NEWS_META = re.compile(r"新闻|news|日报|晚报|报道", re.IGNORECASE)
_NEWS_OPENING = re.compile(r"本报讯|本报记者|记者|通讯员|新华社|报道")


def _cn_number(text: str) -> int:
    # 三 -> 3, 十 -> 10, 十二 -> 12, 二十 -> 20, 二十七 -> 27
    if "十" not in text:
        return _CN_DIGITS[text]
    tens, _, units = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def parse_date(text: str) -> str | None:
    """The first valid calendar date in the text as ISO "YYYY-MM-DD", or None."""
    candidates: list[tuple[int, int, int, int]] = []
    for match in _NUMERIC_DATE.finditer(text):
        candidates.append((match.start(), int(match.group(1)), int(match.group(2)), int(match.group(3))))
    for match in _CN_DATE.finditer(text):
        year = int("".join(str(_CN_DIGITS[ch]) for ch in match.group(1)))
        candidates.append((match.start(), year, _cn_number(match.group(2)), _cn_number(match.group(3))))
    for _, year, month, day in sorted(candidates):
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            continue
    return None


def _lines(text: str, limit: int) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()][:limit]


def _is_tool_title(title: str) -> bool:
    # PDF/Word properties often hold "Microsoft Word - 123.doc" rather than a real title.
    return bool(re.search(r"microsoft|untitled|\.(docx?|pdf|wps|txt)$", title, re.IGNORECASE))


def _is_unfinished_short(line: str, limit: int) -> bool:
    return len(line) <= limit and line[-1] not in "。！？；：，" and not line.startswith("#")


def find_title(text: str, meta: dict[str, str]) -> str:
    """Document title from metadata, else the first heading, else the first short line (joined if wrapped)."""
    title = (meta.get("title") or "").strip()
    if title and not _is_tool_title(title):
        return title
    lines = _lines(text, 6)
    for line in lines[:3]:
        if line.startswith("#"):
            return line.lstrip("#").strip()
    if not lines or not _is_unfinished_short(lines[0], 60):
        return ""
    title = lines[0]
    if (
        len(lines) > 1
        and _is_unfinished_short(lines[1], 30)
        and not _NAME_LINE.match(lines[1])
        and parse_date(lines[1]) is None
        and "，" not in lines[1]
        and not is_outline_line(lines[1])
    ):
        title += lines[1]
    return title


def find_speaker(text: str, title: str) -> str | None:
    """Speaker named on the line after the title or in a "XX同志在…上的讲话" phrase; None when not named."""
    lines = _lines(text, 6)
    for index, line in enumerate(lines[:4]):
        bare = line.lstrip("#").strip()
        if title and bare and (bare == title or title.endswith(bare)) and index + 1 < len(lines):
            candidate = re.sub(r"\s+", "", lines[index + 1]).removesuffix("同志")
            if _NAME_LINE.match(candidate) and candidate not in _NOT_NAMES and not re.search(
                r"讲话|会议|通知|方案|意见", candidate
            ):
                return candidate
            break
    for line in [title] + [line for line in lines[:3] if len(line) <= 60]:
        match = _COMRADE_SPEECH.search(line)
        if match:
            return match.group(1)
    return None


def find_kind(text: str, title: str, meta: dict[str, str]) -> str | None:
    """Kind of document: 实施方案/方案/通知/意见/讲话/新闻报道, or None when nothing says."""
    for word, kind in _TITLE_KINDS:
        if word in title:
            return kind
    news_meta = " ".join(meta.get(key, "") for key in ("categories", "category", "tags", "layout", "kind", "type"))
    if _NEWS_META.search(news_meta) or _NEWS_OPENING.search(text[:80]):
        return "新闻报道"
    if "同志们" in text or "讲话" in "".join(_lines(text, 3)):
        return "讲话"
    return None


def extract_metadata(text: str, meta: dict, source: str) -> dict:
    """Title, ISO date, speaker and kind of a cleaned document (keys: title, date, speaker, kind)."""
    meta = {str(k): str(v) for k, v in meta.items() if v is not None}
    title = find_title(text, meta)
    stem = source.rsplit(".", 1)[0]
    if not title and re.search(r"[\u4e00-\u9fff]", stem):
        title = stem  # "2021年政府工作报告.docx" names itself; hash-like names do not
    found_date = parse_date(meta.get("date", "")) or parse_date("\n".join(_lines(text, 5)))
    return {
        "title": title,
        "date": found_date,
        "speaker": find_speaker(text, title),
        "kind": find_kind(text, title, meta),
    }
