"""Turn a loaded file into clean, simplified plain text plus the metadata found on the way.

`clean_text` applies one small pure function per rule, in this order (later rules rely on earlier ones):

 1. `normalize_newlines`      CR/CRLF -> LF; BOM, zero-width and no-break spaces removed.
 2. `split_front_matter`      Jekyll/YAML "---" block at the top -> metadata (title, date, categories, tags).
 3. `html_to_text`            .html files and HTML fragments inside .txt/.md: block elements become line
                              breaks, h1-h6 become Markdown headings, script/style/nav/header/footer dropped,
                              <title> -> metadata. Non-tag "<...>" text such as "<中国制造 2025>" survives.
 4. `repair_mojibake`         UTF-8-read-as-GBK runs (鍙戝睍 -> 发展) re-decoded; GBK runs read one byte off
                              (after a "?pinyin)" splice, or ending in an ASCII byte that carries a gloss:
                              "败洯h(huán)" -> "軟環") re-aligned when that yields everyday characters,
                              otherwise dropped; U+FFFD, private-use chars, 锟斤拷 dropped.
 5. `strip_pinyin_glosses`    "發(fā)展" -> "發展" (normalize.py).
 6. `normalize_width`         full-width letters/digits -> ASCII, CJK punctuation kept (normalize.py).
 7. `drop_link_lines`         bare URL / <http…> / Markdown link-only lines dropped; inline links -> their text,
                              inline URLs dropped.
 8. `fullwidth_punctuation`   ASCII , ; : ? ! next to CJK -> ，；：？！; (…) holding CJK -> （…）.
 9. `strip_markdown_bold`     "**…**" markers removed; bold spans that open a line are reported as headings
                              (meta["bold_headings"], one per line) so the chunker still sees them.
10. `extract_header_line`     "发布时间:… 来源:… 点击:" near the top -> metadata (date, origin), line removed.
11. `drop_boilerplate_lines`  相关热词搜索 / 热点文章阅读 / 上一篇 / 责任编辑 / 分享到 / 打印 关闭 … dropped;
                              "（文章来源：荆州日报）" -> metadata origin.
12. `drop_ad_blocks`          scored line classifier (`ad_score`) applied to the leading and trailing blocks
                              and, with a stricter bar, to isolated lines.
13. `rejoin_pdf_lines`        only when `looks_like_pdf_extraction` or the file is a PDF: lines cut mid-sentence
                              are joined (no space between CJK), headings and real paragraph ends kept.
    `rejoin_cut_lines`        otherwise: only long lines cut right after a Chinese character are joined.
14. `drop_duplicate_paragraphs` exact repeats (whitespace-insensitive, > 10 chars) removed, first kept.
15. `to_simplified`           traditional -> simplified (normalize.py), so indexed text is simplified.
16. `tidy_whitespace`         runs of spaces collapsed, spaces next to CJK punctuation removed, at most one
                              blank line between paragraphs.

Classifiers (boilerplate, ads, header line) look at the simplified form of a line, so traditional pages are
recognised before the final conversion.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import yaml

from ingest.loaders import RawText
from ingest.normalize import normalize_width, strip_pinyin_glosses, to_simplified

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65“”‘’…—·"
_TERMINAL = "。！？；："
_CLOSERS = "”’」』）》】"
_HAN_RE = re.compile(f"[{_HAN}]")

# Lines opening with an outline marker start a new paragraph: line rejoining never glues them onto the line above.
OUTLINE_MARKER = re.compile(
    r"^\s*(?:#{1,6}\s|[一二三四五六七八九十]{1,3}[、．.]|[（(][一二三四五六七八九十]{1,3}[)）]"
    r"|第[一二三四五六七八九十]{1,3}[，,、：:]|\d{1,2}[、．.](?!\d)|[（(]\d{1,2}[)）])"
)


# ---------------------------------------------------------------- 1. newlines


def normalize_newlines(text: str) -> str:
    """Unify line endings and drop BOM, zero-width characters and no-break spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub("[\ufeff\u200b\u200c\u200d\u2060]", "", text)
    return text.replace("\xa0", " ")


# ---------------------------------------------------------------- 2. front matter

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


def _meta_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_meta_value(v) for v in value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def split_front_matter(text: str) -> tuple[str, dict[str, str]]:
    """Remove a leading YAML front matter block and return its fields as string metadata."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    try:
        fields = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return text, {}  # not YAML after all: leave the text alone rather than lose it
    if not isinstance(fields, dict):
        return text, {}
    meta = {str(k): _meta_value(v) for k, v in fields.items() if _meta_value(v)}
    return text[match.end():], meta


# ---------------------------------------------------------------- 3. HTML

_KNOWN_TAG = re.compile(
    r"</?(?:p|br|div|span|a|b|i|u|em|strong|font|h[1-6]|li|ul|ol|table|tbody|thead|tr|td|th|img|section"
    r"|article|blockquote|pre|hr|center|html|body|head|title|script|style|nav|header|footer)\b[^<>]*>",
    re.IGNORECASE,
)
_DROP_TAGS = "script,style,nav,header,footer,noscript,iframe,form,aside,template,svg,button,select"
_BLOCK_TAGS = "p,div,li,tr,ul,ol,table,section,article,blockquote,pre,dd,dt,dl,hr,center,title"
_PARA = "\u2029"  # marks our own line breaks so they survive the whitespace collapse below


def has_html(text: str) -> bool:
    """True when the text contains real HTML tags (not just "<中国制造 2025>"-style brackets)."""
    return _KNOWN_TAG.search(text) is not None


def _escape_stray_brackets(html: str) -> str:
    # "<http://…>" and "<中国制造 2025>" are text, not tags; an HTML parser would swallow them.
    return re.sub(r"<(?!/?[a-zA-Z][a-zA-Z0-9]*(?:[\s/>]|$)|!)", "&lt;", html)


def _newlines_to_breaks(fragment: str) -> str:
    # In a .txt with a few tags the author's own line breaks are structure too; keep them outside tags only.
    return re.sub(r"(<[^<>]*>)|\n", lambda m: m.group(1) or "<br>", fragment)


def html_to_text(html: str, fragment: bool = False) -> tuple[str, dict[str, str]]:
    """Convert HTML (a page, or with fragment=True tags inside plain text) to lines; <title> -> metadata."""
    from selectolax.lexbor import LexborHTMLParser

    source = _escape_stray_brackets(html)
    if fragment:
        source = _newlines_to_breaks(source)
    tree = LexborHTMLParser(source)
    meta: dict[str, str] = {}
    title = tree.css_first("title")
    if title is not None and title.text(strip=True):
        meta["title"] = title.text(strip=True)
    for node in tree.css(_DROP_TAGS + ",title"):
        node.decompose()
    for node in tree.css("br"):
        node.replace_with(_PARA)
    for level in range(1, 7):
        for node in tree.css(f"h{level}"):
            node.insert_before(f"{_PARA}{'#' * level} ")
            node.insert_after(_PARA)
    for node in tree.css(_BLOCK_TAGS):
        node.insert_before(_PARA)
        node.insert_after(_PARA)
    for node in tree.css("td,th"):
        node.insert_after(" ")
    root = tree.body or tree.root
    raw = root.text(separator="") if root is not None else ""
    lines = (re.sub(r"\s+", " ", part).strip() for part in raw.split(_PARA))
    return "\n".join(line for line in lines if line), meta


# ---------------------------------------------------------------- 4. mojibake

_PINYIN_LETTERS = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"
# "為(wèi)" stored as GBK and cut by a gloss inserter: the lead byte became "?", the gloss lost its "(",
# and the following bytes were read one byte off until an ASCII byte (a GBK trail byte) realigned them:
# "轉變?yōu)榘l(fā)展" = 轉變 + ? + "yōu)" + 榘l (= [lost] e9 | b0 6c = 發).
_SHIFTED_GBK = re.compile(rf"\?[{_PINYIN_LETTERS}]{{1,6}}\)(?:([^\x00-\x7f]{{1,8}}?[\x40-\x7e]))?")
# A gloss always follows an ideograph; one that follows an ASCII letter glued to ideographs ("败洯h(huán)")
# marks that letter as the trail byte of a character whose bytes were read one byte off.
_GLOSS_AFTER_TRAIL_BYTE = re.compile(
    rf"([^\x00-\x7f\u3000-\u303f\uff00-\uffef“”‘’]{{1,6}})([\x40-\x7e])(?=\([{_PINYIN_LETTERS}]{{1,7}}\))"
)
_ALWAYS_DROP = re.compile("[\ufffd\ue000-\uf8ff]|锟斤拷")
_UTF8_LEADS = range(0xE3, 0xEA)  # UTF-8 lead bytes of CJK punctuation (E3) and ideographs (E4-E9)


def _is_cjk_text(text: str) -> bool:
    return bool(text) and all(_HAN_RE.match(ch) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"
                              or ch in "“”‘’…—·" for ch in text)


def _common_han(text: str) -> bool:
    # Genuine repairs produce everyday characters; GB2312 (simplified) or Big5 (traditional) covers them.
    for ch in text:
        if not _HAN_RE.match(ch):
            continue
        for encoding in ("gb2312", "big5"):
            try:
                ch.encode(encoding)
                break
            except UnicodeEncodeError:
                continue
        else:
            return False
    return True


def _gbk_bytes(text: str) -> bytes | None:
    try:
        return text.encode("gbk")
    except UnicodeEncodeError:
        return None


def _mojibake_leads() -> str:
    # Characters whose GBK bytes look like the start of a UTF-8 CJK sequence (lead E3-E9, continuation
    # 80-BF); UTF-8 text read as GBK always starts with one, so only these positions need a closer look.
    chars = set()
    for lead in _UTF8_LEADS:
        for trail in range(0x80, 0xC0):
            try:
                chars.add(bytes([lead, trail]).decode("gbk"))
            except UnicodeDecodeError:
                continue
    return "".join(sorted(chars))


_MOJIBAKE_START = re.compile(f"[{re.escape(_mojibake_leads())}](?=[^\\x00-\\x7f]{{2}})")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _utf8_read_as_gbk(run: str) -> tuple[str, int] | None:
    # Three GBK characters are six bytes, i.e. two UTF-8 CJK characters: try the longest window first.
    for width in range(min(len(run), 60) // 3 * 3, 2, -3):
        data = _gbk_bytes(run[:width])
        if data is None:
            continue
        try:
            candidate = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if _is_cjk_text(candidate) and _common_han(candidate):
            return candidate, width
    return None


def _repair_utf8_as_gbk(text: str) -> str:
    out: list[str] = []
    cursor = 0
    for match in _MOJIBAKE_START.finditer(text):
        start = match.start()
        if start < cursor:
            continue
        run = _NON_ASCII_RUN.match(text, start, start + 60)
        fixed = _utf8_read_as_gbk(run.group(0)) if run else None
        if fixed is None:
            continue
        out.append(text[cursor:start])
        out.append(fixed[0])
        cursor = start + fixed[1]
    out.append(text[cursor:])
    return "".join(out)


def _realign(shifted: str) -> str | None:
    data = _gbk_bytes(shifted)
    if data is None or len(data) < 3:
        return None
    try:
        repaired = data[1:].decode("gbk")  # the first byte is the orphaned trail of the lost character
    except UnicodeDecodeError:
        return None
    return repaired if _is_cjk_text(repaired) and _common_han(repaired) else None


def _realign_after_splice(match: re.Match[str]) -> str:
    return _realign(match.group(1) or "") or ""


def _realign_before_gloss(match: re.Match[str]) -> str:
    # Only the end of the run is known (the ASCII trail byte the gloss was attached to); take the longest
    # tail of the run that realigns into everyday characters.
    run, anchor = match.group(1), match.group(2)
    for start in range(len(run)):
        repaired = _realign(run[start:] + anchor)
        if repaired is not None:
            return run[:start] + repaired
    return match.group(0)


def repair_mojibake(text: str) -> str:
    """Repair GBK/UTF-8 mix-ups where the bytes allow it and drop the fragments that cannot be repaired."""
    text = _SHIFTED_GBK.sub(_realign_after_splice, text)
    text = _GLOSS_AFTER_TRAIL_BYTE.sub(_realign_before_gloss, text)
    text = _repair_utf8_as_gbk(text)
    return _ALWAYS_DROP.sub("", text)


# ---------------------------------------------------------------- 7. links

_URL = r"(?:https?://|www\.|//)[\w.-]+(?:/[^\s<>()\[\]（）\u3000-\u303f\uff00-\uffef]*)?"
_URL_LINE = re.compile(rf"^\s*<?\s*{_URL}\s*>?\s*$")
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^)\n]*)\)")
_LINK_SEPARATORS = re.compile(r"[\s|｜/·•、,，>»]+")


def drop_link_lines(text: str) -> str:
    """Drop lines that are only URLs or Markdown links; keep link text inside sentences, drop inline URLs."""
    kept: list[str] = []
    for line in text.split("\n"):
        if _URL_LINE.match(line):
            continue
        if _MD_LINK.search(line) and not _LINK_SEPARATORS.sub("", _MD_LINK.sub("", line)):
            continue
        line = _MD_LINK.sub(lambda m: m.group(1), line)
        line = re.sub(rf"<\s*{_URL}\s*>|(?<![\w@]){_URL}", "", line)
        kept.append(line)
    return "\n".join(kept)


# ---------------------------------------------------------------- 8. punctuation

_FULLWIDTH = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_CJK_CHAR = f"[{_HAN}{_CJK_PUNCT}]"


def fullwidth_punctuation(text: str) -> str:
    """Turn ASCII , ; : ? ! touching CJK text, and parentheses around CJK text, into full-width forms."""
    text = re.sub(
        rf"(?<={_CJK_CHAR})[ \t]*([,;:?!])[ \t]*|[ \t]*([,;:?!])[ \t]*(?={_CJK_CHAR})",
        lambda m: _FULLWIDTH[m.group(1) or m.group(2)],
        text,
    )
    return re.sub(rf"\(([^()\n]*{_CJK_CHAR}[^()\n]*)\)", r"（\1）", text)


# ---------------------------------------------------------------- 9. bold

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_BOLD_AT_LINE_START = re.compile(r"^\s*\*\*(.+?)\*\*", re.MULTILINE)


def strip_markdown_bold(text: str) -> tuple[str, list[str]]:
    """Remove **bold** markers; return the bold spans that open a line, which act as headings."""
    headings = [m.group(1).strip() for m in _BOLD_AT_LINE_START.finditer(text) if len(m.group(1).strip()) <= 60]
    return _BOLD.sub(r"\1", text), headings


# ---------------------------------------------------------------- 10. header line

_DATE = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?:\s*日)?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
_HEADER = re.compile(rf"(?:发布|发表|更新)?(?:时间|日期)\s*[:：]?\s*({_DATE})")
_HEADER_ORIGIN = re.compile(r"来源\s*[:：]\s*([^\s:：]{1,30})")
_HEADER_NOISE = re.compile(r"(点击|浏览|阅读|作者|编辑|字号|来源)")


def extract_header_line(text: str, max_lines: int = 6) -> tuple[str, dict[str, str]]:
    """Remove a "发布时间:… 来源:… 点击:" line near the top and return its date and origin."""
    lines = text.split("\n")
    seen = 0
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        seen += 1
        if seen > max_lines:
            break
        simple = to_simplified(line.strip())
        match = _HEADER.search(simple)
        # A header line is short and made of labels; a sentence that merely mentions a date is not one.
        if match and len(simple) <= 80 and (match.start() == 0 or _HEADER_NOISE.search(simple)):
            meta = {"date": match.group(1)}
            origin = _HEADER_ORIGIN.search(simple)
            # "来源： 点击：" has an empty source: the next label is not one.
            if origin and not _HEADER_NOISE.fullmatch(origin.group(1)[:2]):
                meta["origin"] = origin.group(1)
            return "\n".join(lines[:index] + lines[index + 1:]), meta
    return text, {}


# ---------------------------------------------------------------- 11. boilerplate

_BOILERPLATE_START = re.compile(
    r"^[【\[（(]?\s*(相关热词|热词搜索|热点文章|热门文章|相关文章|相关阅读|推荐阅读|延伸阅读|上一篇|下一篇|责任编辑"
    r"|编辑[:：]|分享到|扫一扫|返回顶部|返回首页|返回列表|本文链接|原文链接|版权所有|Copyright|©)",
    re.IGNORECASE,
)
_BUTTONS = re.compile(r"^(?:[【\[（(]?\s*(?:打印|关闭|收藏|分享|打印本页|关闭窗口|返回|顶部|字号|大|中|小)\s*[】\]）)]?[\s|｜/·]*)+$")
_SOURCE_LINE = re.compile(r"^[（(]?\s*(?:文章|本文|信息)?来源\s*[:：]\s*([^()（）]{1,30}?)\s*[)）]?$")


def is_boilerplate_line(line: str) -> bool:
    """True for site navigation/furniture lines such as 相关热词搜索, 热点文章阅读, 上一篇, 打印 关闭."""
    simple = to_simplified(line.strip())
    if not simple or len(simple) > 80:
        return False
    return bool(_BOILERPLATE_START.match(simple) or _BUTTONS.match(simple))


def drop_boilerplate_lines(text: str) -> tuple[str, dict[str, str]]:
    """Drop navigation/furniture lines; a "（文章来源：X）" line becomes metadata origin."""
    kept: list[str] = []
    meta: dict[str, str] = {}
    for line in text.split("\n"):
        if is_boilerplate_line(line):
            continue
        source = _SOURCE_LINE.match(to_simplified(line.strip()))
        if source:
            meta["origin"] = source.group(1)
            continue
        kept.append(line)
    return "\n".join(kept), meta


# ---------------------------------------------------------------- 12. ads

_AD_STRONG = ("订阅", "qq群", "公众号", "倒卖", "禁止外传", "仅供学习", "扫码", "二维码", "加群", "会员群", "微信号",
              "客服", "转载请", "侵权", "版权所有", "自建平台")
_AD_WEAK = ("会员", "免费", "微信", "qq", "转载", "下载", "关注", "资料", "权益", "举报", "平台", "分享", "广告",
            "购买", "优惠", "群：", "群:")


def ad_score(line: str) -> tuple[int, int]:
    """Score a line as advertising: (keyword score, total score with shape features)."""
    simple = to_simplified(line.strip()).lower()
    keywords = sum(2 for k in _AD_STRONG if k in simple) + sum(1 for k in _AD_WEAK if k in simple)
    shape = 0
    if len(simple) <= 40:
        shape += 1
    if not re.search("[。？！?!]", simple[:-1]):
        shape += 1  # ads are slogans, not sentences
    if simple.endswith("。"):
        shape -= 2  # a line closed by a full stop is prose
    if len(simple) > 80 or simple.count("。") >= 2:
        shape -= 2
    return keywords, keywords + shape


def is_ad_line(line: str, strict: bool = False) -> bool:
    """True when a line reads as advertising; strict=True is the bar for a single line amid real text."""
    keywords, total = ad_score(line)
    if strict:
        simple = to_simplified(line).lower()
        return any(k in simple for k in _AD_STRONG) and total >= 6 and len(line.strip()) <= 60
    return keywords >= 2 and total >= 5


def _is_filler(line: str) -> bool:
    # Short non-sentences (a brand name, a slogan) inside an ad block go with it.
    stripped = line.strip()
    return len(stripped) <= 40 and not re.search("[。？！；]", stripped)


def _ad_block_end(lines: list[str], limit: int = 15) -> int:
    last_ad, seen = -1, 0
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        seen += 1
        if seen > limit:
            break
        if is_ad_line(line):
            last_ad = index
        elif not _is_filler(line):
            break
    return last_ad + 1


def drop_ad_blocks(text: str) -> str:
    """Drop advertising blocks at the start and end of the text and clear-cut ad lines elsewhere."""
    lines = text.split("\n")
    lines = lines[_ad_block_end(lines):]
    tail = _ad_block_end(lines[::-1])
    lines = lines[: len(lines) - tail]
    return "\n".join(line for line in lines if not is_ad_line(line, strict=True))


# ---------------------------------------------------------------- 13. line rejoining


def _ends_sentence(line: str) -> bool:
    line = line.rstrip()
    if not line:
        return True
    if line[-1] in _TERMINAL + ".!?;:":
        return True
    # "……。”" closes a sentence; a bare ” closes a quoted phrase that the sentence goes on after.
    return line[-1] in _CLOSERS and len(line) > 1 and line[-2] in _TERMINAL + "…"


def is_outline_line(line: str) -> bool:
    """True when a line opens with a heading/outline marker (#, 一、, （一）, 第一，, 1.)."""
    return OUTLINE_MARKER.match(line) is not None


def looks_like_pdf_extraction(text: str) -> bool:
    """True when most lines are short, stop mid-sentence and share one width: text copied out of a PDF."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) < 8:
        return False
    lengths = sorted(len(line) for line in lines)
    full_width = lengths[int(len(lengths) * 0.8)]
    unterminated = [line for line in lines if not _ends_sentence(line)]
    # Cut lines fill the page width; a list of slogans or titles is short but ragged.
    full = sum(1 for line in unterminated if len(line) >= full_width * 0.75)
    return (
        lengths[len(lengths) // 2] <= 45
        and len(unterminated) >= len(lines) / 2
        and full >= len(unterminated) * 0.6
    )


def _joiner(left: str, right: str) -> str:
    # Latin words and numbers broken across lines need their space back; CJK text never takes one.
    def latin(ch: str) -> bool:
        return ch.isascii() and ch.isalnum()

    return " " if latin(left[-1:]) and latin(right[:1]) else ""


def _is_pdf_heading(line: str, full_width: int) -> bool:
    # An outline line that stops short of the full line width without punctuation is a heading, not a
    # paragraph that happens to open with "（一）".
    return is_outline_line(line) and len(line) < full_width * 0.9 and not _ends_sentence(line)


def rejoin_pdf_lines(text: str) -> str:
    """Rejoin lines a PDF cut mid-sentence into paragraphs, keeping headings and paragraph ends."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        return ""
    lengths = sorted(len(line) for line in lines)
    full_width = lengths[int(len(lengths) * 0.8)]
    paragraphs = [lines[0]]
    for previous, line in zip(lines, lines[1:]):
        join = (
            not _ends_sentence(previous)
            and len(previous) >= full_width * 0.6  # a short unfinished line ends a title or a paragraph
            and not _is_pdf_heading(previous, full_width)
            and not is_outline_line(line)
        )
        if join:
            paragraphs[-1] += _joiner(paragraphs[-1], line) + line
        else:
            paragraphs.append(line)
    return "\n".join(paragraphs)


def rejoin_cut_lines(text: str, min_length: int = 40) -> str:
    """Join a long line that stops right after a Chinese character to the next paragraph (001-style cuts)."""
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        nxt = index + 1
        if nxt < len(lines) and not lines[nxt].strip():
            nxt += 1  # at most one blank line between the halves
        stripped = line.strip()
        if (
            nxt < len(lines)
            and len(stripped) >= min_length
            and _HAN_RE.match(stripped[-1])
            and re.search("[。！？；]", stripped)  # prose, not a title line
            and not is_outline_line(stripped)
            and lines[nxt].strip()
            and _HAN_RE.match(lines[nxt].strip()[0])
            and not is_outline_line(lines[nxt])
        ):
            lines[nxt] = line.rstrip() + lines[nxt].strip()
            index = nxt
            continue
        out.append(line)
        index += 1
    return "\n".join(out)


# ---------------------------------------------------------------- 14-16. duplicates, whitespace


def drop_duplicate_paragraphs(text: str, min_chars: int = 10) -> str:
    """Remove exact repeats of paragraphs longer than min_chars (whitespace ignored), keeping the first."""
    seen: set[str] = set()
    kept: list[str] = []
    for line in text.split("\n"):
        key = re.sub(r"\s+", "", line)
        if len(key) > min_chars:
            if key in seen:
                continue
            seen.add(key)
        kept.append(line)
    return "\n".join(kept)


def tidy_whitespace(text: str) -> str:
    """Collapse space runs, drop spaces beside CJK punctuation, keep at most one blank line between paragraphs."""
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t\f\v\u3000]+", " ", line).strip()
        line = re.sub(rf" (?=[{_CJK_PUNCT}])|(?<=[{_CJK_PUNCT}]) ", "", line)
        lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# ---------------------------------------------------------------- pipeline


def clean_text(raw: RawText) -> tuple[str, dict[str, str]]:
    """Apply every cleaning rule in order; return the cleaned simplified text and the metadata found."""
    meta: dict[str, str] = dict(raw.meta)
    text = normalize_newlines(raw.text)
    text, front = split_front_matter(text)
    meta.update(front)
    if raw.format == "html" or has_html(text):
        text, page = html_to_text(text, fragment=raw.format != "html")
        for key, value in page.items():
            meta.setdefault(key, value)
    text = repair_mojibake(text)
    text = strip_pinyin_glosses(text)
    text = normalize_width(text)
    text = drop_link_lines(text)
    text = fullwidth_punctuation(text)
    text, bold = strip_markdown_bold(text)
    text, header = extract_header_line(text)
    for key, value in header.items():
        meta.setdefault(key, value)
    text, furniture = drop_boilerplate_lines(text)
    for key, value in furniture.items():
        meta.setdefault(key, value)
    text = drop_ad_blocks(text)
    if raw.format == "pdf" or looks_like_pdf_extraction(text):
        text = rejoin_pdf_lines(text)
    else:
        text = rejoin_cut_lines(text)
    text = drop_duplicate_paragraphs(text)
    text = tidy_whitespace(to_simplified(text))
    if bold:
        meta["bold_headings"] = "\n".join(to_simplified(h) for h in bold)
    return text, {k: to_simplified(normalize_width(v)) for k, v in meta.items()}
