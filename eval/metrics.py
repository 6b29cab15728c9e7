"""Matching rule and summary metrics of the answer-quality evaluation (see ../shared/eval/README.md)."""
from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence

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


# ----------------------------------------------------------------------------------------------- ranking (BEIR)


def ndcg_at_k(ranked: Sequence[str], relevance: Mapping[str, float], k: int) -> float:
    """nDCG@k with linear gains (trec_eval / BEIR): sum grade/log2(rank+1) over the ideal ordering's sum."""
    dcg = sum(relevance.get(pid, 0.0) / math.log2(rank + 1) for rank, pid in enumerate(ranked[:k], 1))
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, 1))
    return dcg / idcg if idcg else 0.0


def recall_at_k(ranked: Sequence[str], relevance: Mapping[str, float], k: int) -> float:
    """Share of the relevant passages found in the top k (BEIR's recall@k)."""
    relevant = {pid for pid, g in relevance.items() if g > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def hit_at_k(ranked: Sequence[str], relevance: Mapping[str, float], k: int) -> float:
    """1.0 when any relevant passage is in the top k (the "a hit is any of them" rule), else 0.0."""
    return 1.0 if any(relevance.get(pid, 0.0) > 0 for pid in ranked[:k]) else 0.0


def mrr_at_k(ranked: Sequence[str], relevance: Mapping[str, float], k: int) -> float:
    """Reciprocal rank of the first relevant passage within the top k, 0.0 when none is."""
    for rank, pid in enumerate(ranked[:k], 1):
        if relevance.get(pid, 0.0) > 0:
            return 1.0 / rank
    return 0.0


# ----------------------------------------------------------------------------------------------- answer vs reference


def _chars(text: str) -> str:
    """Characters compared against a reference: the matching rule's normalisation (punctuation dropped)."""
    return normalize_for_match(text)


def char_f1(answer: str, reference: str) -> float:
    """Character-level F1 (bag of characters, as in Chinese reading-comprehension scoring) after normalisation."""
    a, r = Counter(_chars(answer)), Counter(_chars(reference))
    common = sum((a & r).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(r.values())
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence of two strings (O(len(a)·len(b)) time, O(len(b)) memory)."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for ca in a:
        current = [0]
        for j, cb in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if ca == cb else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(answer: str, reference: str) -> float:
    """ROUGE-L F1 over characters (the usual unit for Chinese) after normalisation."""
    a, r = _chars(answer), _chars(reference)
    lcs = lcs_length(a, r) if a and r else 0
    if not lcs:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(r)
    return 2 * precision * recall / (precision + recall)
