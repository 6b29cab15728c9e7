"""Text normalisation shared by ingest (documents) and retrieval (questions)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A pinyin gloss is a parenthesised run of latin letters (with tone marks) right after a CJK character:
# "發(fā)展" -> "發展". Requiring the CJK character before keeps "(2017年3月7日)" and "(工)" intact.
_PINYIN_GLOSS = re.compile(
    r"(?<=[\u3400-\u9fff])[\(（]\s*[a-zA-Züāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ]{1,7}\s*[\)）]"
)
# Characters that NFKC would change in ways that hurt Chinese text (full-width CJK punctuation must stay
# full-width, since sentence splitting relies on "，。；：？！" and readers expect them).
_KEEP_FULLWIDTH = set("，。；：？！（）【】《》“”‘’、…—～·「」『』")


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # imported lazily: startup of light commands stays fast

    return opencc.OpenCC("t2s")


def strip_pinyin_glosses(text: str) -> str:
    """Remove pinyin glosses written after characters, e.g. "發(fā)展" -> "發展"."""
    return _PINYIN_GLOSS.sub("", text)


def to_simplified(text: str) -> str:
    """Convert traditional Chinese characters to simplified (OpenCC t2s)."""
    return _t2s().convert(text)


def normalize_width(text: str) -> str:
    """NFKC-normalise letters, digits and ASCII-range symbols while keeping CJK punctuation full-width."""
    out = []
    for ch in text:
        if ch in _KEEP_FULLWIDTH:
            out.append(ch)
        else:
            out.append(unicodedata.normalize("NFKC", ch))
    return "".join(out)


def normalize_text(text: str) -> str:
    """Full normalisation for indexing and matching: glosses removed, widths normalised, simplified."""
    return to_simplified(normalize_width(strip_pinyin_glosses(text)))


def contains_cjk(text: str) -> bool:
    """True when the text has at least one CJK ideograph (used to tell Chinese from English questions)."""
    return any("\u3400" <= ch <= "\u9fff" for ch in text)
