"""Find source files and turn their bytes into text, refusing anything unreadable with `IngestError`.

Rules:
- `find_files`: explicit files are taken as given; folders are searched recursively for supported suffixes,
  skipping hidden files/folders and Office lock files ("~$x.docx"). Result is sorted and de-duplicated.
- `decode_bytes`: BOM -> strict UTF-8 -> UTF-16 without BOM (told by where the NUL bytes fall) -> strict
  GB18030 (a superset of GBK/GB2312) -> charset-normalizer's best guess. NUL bytes that are not UTF-16, or a
  decoded text made largely of control characters, mean a binary file.
- `load_raw`: size is checked with `stat` before reading, so a huge file is refused without loading it.
  .docx paragraphs keep their structure ("Heading N" -> Markdown "#" lines, table rows -> lines); .pdf page
  texts are joined with blank lines; .html/.htm/.txt/.md are only decoded here (cleaning happens in clean.py).
"""
from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.records import content_hash

SUPPORTED_SUFFIXES = {".txt", ".md", ".html", ".htm", ".docx", ".pdf"}

_FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".docx": "docx", ".pdf": "pdf"}
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# Above this share of control characters a "text" is really binary data decoded by force.
_MAX_CONTROL_SHARE = 0.02


class IngestError(Exception):
    """A source file that cannot be ingested; `source` names it and `reason` says why."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RawText:
    """Decoded but uncleaned content of one file, with what the loader learnt about it."""

    source: str  # file name, e.g. "003_0bb6f145e860c0a7.txt"
    path: str  # absolute path
    raw_hash: str  # sha256 of the file bytes
    text: str
    format: str  # "txt" | "md" | "html" | "docx" | "pdf"
    meta: dict[str, str] = field(default_factory=dict)


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "~$")) for part in path.relative_to(root).parts)


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly plus supported files found recursively in folders, sorted and de-duplicated."""
    found: dict[Path, Path] = {}
    for given in paths:
        given = Path(given)
        if not given.exists():
            raise IngestError(str(given), "no such file or directory")
        if given.is_file():
            found.setdefault(given.resolve(), given)
            continue
        for candidate in given.rglob("*"):
            if (
                candidate.is_file()
                and candidate.suffix.lower() in SUPPORTED_SUFFIXES
                and not _is_hidden(candidate, given)
            ):
                found.setdefault(candidate.resolve(), candidate)
    return sorted(found.values(), key=str)


def _control_share(text: str) -> float:
    controls = sum(1 for ch in text if ch not in "\t\n\r\f\v" and unicodedata.category(ch) == "Cc")
    return controls / max(len(text), 1)


def _plausible_share(text: str) -> float:
    ok = sum(
        1
        for ch in text
        if ch in "\t\n\r" or " " <= ch <= "~" or "\u2000" <= ch <= "\u206f" or "\u3000" <= ch <= "\u9fff"
        or "\uff00" <= ch <= "\uffef"
    )
    return ok / max(len(text), 1)


def _utf16_guess(data: bytes) -> str | None:
    # NUL bytes in a text file mean UTF-16 without BOM. Counting where the NULs fall is not enough to tell the
    # byte order (ideographs such as 一 U+4E00 carry a NUL too), so decode both ways and keep the reading that
    # is mostly ASCII and CJK; read in the wrong order, newlines turn into U+0A00 and ideographs into noise.
    if len(data) % 2:
        return None
    best, best_share = None, 0.0
    for encoding in ("utf-16-le", "utf-16-be"):
        text = _try_decode(data, encoding)
        share = _plausible_share(text) if text is not None else 0.0
        if share > best_share:
            best, best_share = encoding, share
    return best if best_share >= 0.9 else None


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _decode_candidates(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _try_decode(data[len(bom):], encoding.replace("-sig", ""))
    if b"\x00" in data:
        encoding = _utf16_guess(data)
        return _try_decode(data, encoding) if encoding else None
    for encoding in ("utf-8", "gb18030"):
        text = _try_decode(data, encoding)
        if text is not None:
            return text
    from charset_normalizer import from_bytes  # only needed for the rare file the strict decoders refuse

    best = from_bytes(data).best()
    return str(best) if best is not None else None


def decode_bytes(data: bytes, source: str) -> str:
    """Decode a text file's bytes (UTF-8 ± BOM, UTF-16 LE/BE ± BOM, GB18030/GBK), refusing binary or empty data."""
    if not data.strip():
        raise IngestError(source, "empty file")
    text = _decode_candidates(data)
    if text is None or "\x00" in text or _control_share(text) > _MAX_CONTROL_SHARE:
        raise IngestError(source, "binary file, not text")
    if not text.strip():
        raise IngestError(source, "empty file")
    return text


def _docx_text(data: bytes, source: str) -> tuple[str, dict[str, str]]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises zipfile/lxml/KeyError variants for broken files
        raise IngestError(source, f"not a readable .docx ({type(exc).__name__}: {exc})") from exc
    lines: list[str] = []
    # Walk the body in document order so tables stay where they were between paragraphs.
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, document)
            text = paragraph.text.strip()
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            if style == "Title":
                text = f"# {text}"
            elif style.startswith("Heading") and style[7:].strip().isdigit():
                text = f"{'#' * min(int(style[7:]), 6)} {text}"
            lines.append(text)
        elif tag == "tbl":
            for row in Table(element, document).rows:
                cells = [cell.text.strip() for cell in row.cells]
                # Merged cells repeat their text in python-docx; keep one copy per run.
                unique = [c for i, c in enumerate(cells) if c and (i == 0 or c != cells[i - 1])]
                if unique:
                    lines.append(" | ".join(unique))
    meta = {"title": document.core_properties.title.strip()} if document.core_properties.title else {}
    return "\n\n".join(lines), meta


def _pdf_text(data: bytes, source: str) -> tuple[str, dict[str, str]]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(source, "encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except IngestError:
        raise
    except Exception as exc:  # pypdf signals damage with many exception types
        raise IngestError(source, f"corrupt PDF ({type(exc).__name__}: {exc})") from exc
    text = "\n\n".join(page.strip("\n") for page in pages)
    if not text.strip():
        raise IngestError(source, "no text layer (scanned PDF?)")
    return text, ({"title": title.strip()} if title.strip() else {})


def load_raw(path: Path, max_bytes: int = 20_000_000) -> RawText:
    """Read one supported file into a `RawText`, refusing missing, oversized, binary or unreadable files."""
    path = Path(path)
    source = path.name
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(source, f"unsupported file type {path.suffix or '(no suffix)'!r}")
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise IngestError(source, "not a regular file")
        if size > max_bytes:
            raise IngestError(source, f"file too large: {size} bytes exceeds the limit of {max_bytes} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(source, f"cannot read file ({exc.strerror or exc})") from exc
    if fmt == "docx":
        text, meta = _docx_text(data, source)
        if not text.strip():
            raise IngestError(source, "empty file")
    elif fmt == "pdf":
        text, meta = _pdf_text(data, source)
    else:
        text, meta = decode_bytes(data, source), {}
    return RawText(source, str(path.resolve()), content_hash(data), text, fmt, meta)
