"""Cut a cleaned `Document` into passages that follow its outline.

Rules:
- Headings are recognised at the start of a line and ranked, outermost first: Markdown "#" headings (ranked by
  the outline marker they carry, else by their level), 一、 (1), （一）/(一) (2), 第一，/第一、 (3), 1. / 1、 /
  (1) (4), 一要 (5), 一是 and bold lead-ins listed in doc.meta["bold_headings"] (6). A Markdown heading equal to
  the document title is not a section. The heading path (section) keeps one entry per rank in force.
- The top level is the outermost rank used at least twice (002's 第一/第二/第三, 003's 一、/二、/三、). A chunk never
  crosses a top-level heading; at a lower heading it breaks only once it holds a third of max_chars, so a
  heading line stays attached to the text that follows it.
- Inside a section whole sentences (split at 。！？； and at line breaks) are packed up to max_chars. A longer
  sentence is split at ，、： or, failing that, cut hard; every chunk is at most max_chars long.
- A final fragment shorter than MIN_CHARS is merged into the previous chunk of the same section when the
  result still fits.
- overlap > 0 repeats up to `overlap` characters of whole trailing sentences of the previous chunk in the same
  section.
- Invariant: chunk.text == doc.text[chunk.start:chunk.end]; chunk.section is the heading path at chunk.start.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.records import Chunk, Document

MIN_CHARS = 40

_NUM = "[一二三四五六七八九十]"
_RANKED_MARKERS = (
    (1, re.compile(rf"^{_NUM}{{1,3}}[、．.]")),
    (2, re.compile(rf"^[（(]{_NUM}{{1,3}}[)）]")),
    (3, re.compile(rf"^第{_NUM}{{1,3}}[，,、：:]")),
    (4, re.compile(r"^(?:\d{1,2}[、．.](?!\d)|[（(]\d{1,2}[)）])")),
    (5, re.compile(rf"^{_NUM}{{1,2}}要(?![求点])")),
    (6, re.compile(rf"^{_NUM}{{1,2}}是")),
)
_MARKDOWN = re.compile(r"^(#{1,6})\s+(.*)$")
_SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』）》)\]]*")
_SOFT_BREAK = re.compile(r"[，、：,:]+[”’」』）》)\]]*")
_LABEL_END = re.compile(r"[。！？；：]")


@dataclass(frozen=True, slots=True)
class _Heading:
    rank: int
    label: str


@dataclass(slots=True)
class _Unit:
    start: int
    end: int
    heading: _Heading | None = None
    path: tuple[_Heading, ...] = ()


def _label(line: str) -> str:
    cut = _LABEL_END.search(line)
    label = line[: cut.start()] if cut else line
    return label.strip()[:40]


def heading_of(line: str, title: str = "", bold_headings: tuple[str, ...] = ()) -> tuple[int, str] | None:
    """Rank and label of a heading line, or None for body text."""
    line = line.strip()
    markdown = _MARKDOWN.match(line)
    if markdown:
        text = markdown.group(2).strip()
        if not text or text == title:
            return None
        for rank, pattern in _RANKED_MARKERS:
            if pattern.match(text):
                return rank, _label(text)
        return len(markdown.group(1)) - 1, _label(text)
    for rank, pattern in _RANKED_MARKERS:
        if pattern.match(line):
            return rank, _label(line)
    for bold in bold_headings:
        if bold and line.startswith(bold):
            return 6, _label(bold) or bold[:40]
    return None


def _spans(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    # Pieces of text[start:end] that end after each match of pattern, trimmed of surrounding whitespace.
    pieces, cursor = [], start
    for match in pattern.finditer(text, start, end):
        pieces.append((cursor, match.end()))
        cursor = match.end()
    pieces.append((cursor, end))
    trimmed = []
    for left, right in pieces:
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if left < right:
            trimmed.append((left, right))
    return trimmed


def _fit(text: str, start: int, end: int, budget: int) -> int:
    """End of the longest prefix of text[start:end] within budget, cut at a comma-like mark when possible."""
    if end - start <= budget:
        return end
    limit = start + budget
    best = max((m.end() for m in _SOFT_BREAK.finditer(text, start, limit)), default=None)
    if best is None or best - start < budget // 3:
        best = limit  # no comma in reach: cut hard rather than emit a sliver
    while best > start + 1 and text[best - 1].isspace():
        best -= 1
    return best


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    pieces = []
    while end - start > max_chars:
        cut = _fit(text, start, end, max_chars)
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def _units(doc: Document, max_chars: int) -> list[_Unit]:
    text = doc.text
    bold = tuple(h for h in doc.meta.get("bold_headings", "").split("\n") if h)
    units: list[_Unit] = []
    offset = 0
    for line in text.split("\n"):
        line_start, line_end = offset, offset + len(line)
        offset = line_end + 1
        found = heading_of(line, doc.title, bold)
        first = True
        for left, right in _spans(text, line_start, line_end, _SENTENCE_END):
            for piece_start, piece_end in _split_long(text, left, right, max_chars):
                heading = _Heading(*found) if found and first else None
                units.append(_Unit(piece_start, piece_end, heading))
                first = False
    return units


def _top_rank(units: list[_Unit]) -> int | None:
    counts: dict[int, int] = {}
    for unit in units:
        if unit.heading:
            counts[unit.heading.rank] = counts.get(unit.heading.rank, 0) + 1
    repeated = [rank for rank, count in counts.items() if count >= 2]
    candidates = repeated or list(counts)
    return min(candidates) if candidates else None


def _overlap_start(group: list[_Unit], overlap: int, next_end: int, max_chars: int) -> int:
    """Index into group of the first trailing unit to repeat, or len(group) when none fits."""
    first = len(group)
    while first > 0:
        candidate = group[first - 1]
        if group[-1].end - candidate.start > overlap or next_end - candidate.start > max_chars:
            break
        first -= 1
    return first


def chunk_document(doc: Document, max_chars: int = 300, overlap: int = 0) -> list[Chunk]:
    """Split a document into structure-aware chunks of whole sentences, at most max_chars long."""
    if max_chars < 2:
        raise ValueError("max_chars must be at least 2")
    units = _units(doc, max_chars)
    top = _top_rank(units)
    groups: list[tuple[list[_Unit], int]] = []  # (units, section number) per chunk
    current: list[_Unit] = []
    section = 0
    path: tuple[_Heading, ...] = ()

    def flush() -> None:
        if current:
            groups.append((current.copy(), section))
            current.clear()

    def merge_tiny_tail() -> None:
        # A short last piece of a section reads better as the end of the previous chunk.
        if len(groups) >= 2:
            (prev, prev_section), (last, last_section) = groups[-2], groups[-1]
            if (
                prev_section == last_section
                and last[-1].end - last[0].start < MIN_CHARS
                and last[-1].end - prev[0].start <= max_chars
            ):
                extra = [u for u in last if u.start >= prev[-1].end]
                groups[-2] = (prev + extra, prev_section)
                groups.pop()

    index = 0
    while index < len(units):
        unit = units[index]
        if unit.heading:
            hard = top is not None and unit.heading.rank <= top
            # A heading straight above another stays with it; a lower heading opens a chunk once one is underway.
            only_headings = all(u.heading for u in current)
            underway = bool(current) and current[-1].end - current[0].start >= max_chars // 3
            if (hard and not only_headings) or underway:
                flush()
                if hard:
                    merge_tiny_tail()
                    section += 1
            path = tuple(h for h in path if h.rank < unit.heading.rank) + (unit.heading,)
        unit.path = path
        if current and unit.end - current[0].start > max_chars:
            if current[-1].end - current[0].start < MIN_CHARS:
                # Do not leave a heading alone: take the head of this sentence into the current chunk.
                cut = _fit(doc.text, unit.start, unit.end, max_chars - (unit.start - current[0].start))
                if cut < unit.end and cut > unit.start:
                    current.append(_Unit(unit.start, cut, unit.heading, path))
                    rest = cut
                    while rest < unit.end and doc.text[rest].isspace():
                        rest += 1
                    units[index] = unit = _Unit(rest, unit.end, None, path)
            previous = current.copy()
            flush()
            keep = _overlap_start(previous, overlap, unit.end, max_chars) if overlap > 0 else len(previous)
            current.extend(previous[keep:])
        current.append(unit)
        index += 1
    flush()
    merge_tiny_tail()
    return [
        Chunk(
            id=f"{doc.id}:{ordinal}",
            doc_id=doc.id,
            text=doc.text[group[0].start:group[-1].end],
            start=group[0].start,
            end=group[-1].end,
            section=tuple(h.label for h in group[0].path),
        )
        for ordinal, (group, _) in enumerate(groups)
    ]
