"""Matching rule and summary metrics of the answer-quality evaluation (see ../shared/eval/README.md)."""
from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Sequence

from ingest.normalize import strip_pinyin_glosses, to_simplified

_NOT_KEPT = re.compile(r"[^0-9a-z%\u3400-\u9fff]+")


def normalize_for_match(text: str) -> str:
    """NFKC, lower case, simplified, pinyin glosses removed, only letters/digits/CJK/% kept."""
    text = strip_pinyin_glosses(unicodedata.normalize("NFKC", text)).lower()
    return _NOT_KEPT.sub("", to_simplified(text))


def contains(passage: str, span: str) -> bool:
    """True when the normalised `span` is a substring of the normalised `passage`."""
    needle = normalize_for_match(span)
    return bool(needle) and needle in normalize_for_match(passage)


def evidence_rank(passages: Sequence[str], evidence: Sequence[str]) -> int | None:
    """1-based rank of the first passage containing any evidence span, or None."""
    for rank, passage in enumerate(passages, 1):
        if any(contains(passage, ev) for ev in evidence):
            return rank
    return None


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[min(98, max(0, int(q) - 1))])


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, None for no values (a figure that cannot be computed is not zero)."""
    return float(sum(values) / len(values)) if values else None
