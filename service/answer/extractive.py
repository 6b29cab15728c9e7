"""The default answerer: picks the sentences of the retrieved passages that answer the question, no LLM.

Scoring is deliberately simple and measurable (see eval/): a sentence is worth the IDF-weighted share of the
question's terms it contains, plus, when an encoder is given, its embedding similarity to the question (the
only signal for English questions against Chinese text).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from index.records import Hit
from ingest.normalize import contains_cjk, normalize_text, to_simplified

from .base import Answer, Citation, Generator, Turn

# a streamed piece ends after a citation marker (with its line break, if one follows) or a line break
_PIECE_END = re.compile(r"(?<=\])(?!\n)|(?<=\n)")

REFUSAL = "资料库中的讲话和文件没有回答这个问题。"
RELATED_INTRO = "以下段落可能相关，但不足以作答："

_SENTENCE_END = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[”’」』）)]*|\n|$)")
# Questions that ask for an enumeration are answered as a list.
_ENUMERATION = re.compile(r"哪些|哪几|哪[“「]?[一二三四五六七八九十两]|分别|包括|包含|几个|几方面|几项|什么.{0,4}(?:要求|措施|内容|制度)|有何")
# Words that say what kind of answer is wanted but are rarely in the evidence ("有哪些要求" is answered by the
# requirements themselves, which seldom repeat the word 要求).
_QUESTION_WORDS = re.compile(
    r"什么|哪些|哪几|哪里|哪个|怎样|怎么|如何|是谁|是否|多少|为什么|有何|吗|呢|请问|讲话中|讲话里|讲话|"
    r"要求|措施|内容|方面|具体|主要|分别|包括|提到|提出"
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a retrieved passage, located by its offsets inside the chunk text."""

    hit_rank: int  # 0-based rank of the hit it comes from
    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Offsets (start, end) of the sentences of `text`, split at 。！？； and line breaks, blanks dropped."""
    spans = []
    for m in _SENTENCE_END.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start >= 2:
            spans.append((start, end))
    return spans


def question_terms(question: str, tokenize: Callable[[str], list[str]]) -> list[str]:
    """The content terms of a question: its words without question words, single characters (as tokens they
    look rare, as characters they are everywhere) or words contained in a longer term of the question."""
    text = _QUESTION_WORDS.sub(" ", normalize_text(question))
    words: dict[str, None] = {}
    for tok in tokenize(text):
        tok = tok.strip().lower()
        if len(tok) > 1 and not tok.startswith("#"):  # "#.." are the index's character bigrams
            words[tok] = None
    return [w for w in words if not any(w != other and w in other for other in words)]


def term_coverage(text: str, terms: Sequence[str], weights: Sequence[float], context: str = "") -> float:
    """IDF-weighted share of `terms` that occur in `text`; a term found only in `context` (the rest of the
    document: "洪湖市" is named once at the top, not in every passage) counts half."""
    total = float(sum(weights))
    if total <= 0:
        return 0.0
    lowered, around = text.lower(), context.lower()
    got = sum(w if t in lowered else (0.5 * w if t in around else 0.0) for t, w in zip(terms, weights))
    return float(got) / total


def is_enumeration(question: str) -> bool:
    """True when the question asks for several items ("有哪些要求", "分别是什么")."""
    return bool(_ENUMERATION.search(to_simplified(question)))


class ExtractiveGenerator(Generator):
    """Answers with verbatim sentences of the retrieved passages, each followed by its citation [n]."""

    name = "extractive"

    def __init__(
        self,
        tokenize: Callable[[str], list[str]],
        idf: Callable[[str], float],
        encoder=None,
        *,
        max_sentences: int = 6,
        min_answer_score: float = 0.40,
        dense_center: float = 0.88,
        dense_weight: float = 5.0,
        min_dense_similarity: float = 0.74,
        passages: int = 5,
        max_items: int = 8,
        dense_sentences: int = 16,
        translate: Callable[[str], list[str]] | None = None,
        continuation: Callable[[Hit], list[Hit]] | None = None,
    ) -> None:
        self._tokenize = tokenize
        self._idf = idf
        self._encoder = encoder
        self.max_sentences = max_sentences
        self.min_answer_score = min_answer_score
        self.dense_center = dense_center
        self.dense_weight = dense_weight
        self._translate = translate or (lambda question: [])
        self._continuation = continuation or (lambda hit: [])
        self.min_dense_similarity = min_dense_similarity
        self.passages = passages
        self.max_items = max_items
        self.dense_sentences = dense_sentences

    # -- evidence strength -------------------------------------------------------------------------------
    def evidence_strength(self, question: str, hits: Sequence[Hit]) -> tuple[bool, str]:
        """Decide whether the best passages answer the question; returns (answerable, reason).

        Chinese questions: IDF-weighted term coverage of the best of the top 3 passages, nudged by how far the
        best embedding similarity lies from its typical value (terms alone confuse "一号文件" with "一号工程";
        similarity alone barely separates related from answering passages). English questions: Chinese terms
        from the dictionary translator must occur in the collection, and the similarity must clear a floor.
        """
        if not hits:
            return False, "no passage retrieved"
        dense = self._best_dense_similarity(question, hits)
        if contains_cjk(question):
            terms = question_terms(question, self._tokenize)
            weights = [self._idf(t) for t in terms]
            coverage = max(term_coverage(h.chunk.text, terms, weights, h.document.title + h.document.text)
                           for h in hits[:3])
            score = coverage + self.dense_weight * (dense - self.dense_center) if dense is not None else coverage
            ok = score >= self.min_answer_score
            return ok, (f"evidence score {score:.2f} = coverage {coverage:.2f} + dense {dense if dense is not None else 0:.3f}"
                        f" (threshold {self.min_answer_score:.2f})")
        translated = self._translate(question)
        ok = bool(translated) and (dense is None or dense >= self.min_dense_similarity)
        return ok, (f"translated terms {translated[:8]}, dense similarity {dense if dense is not None else 0:.3f}"
                    f" (floor {self.min_dense_similarity:.3f})")

    def _best_dense_similarity(self, question: str, hits: Sequence[Hit]) -> float | None:
        """The dense leg's best cosine among the hits (already computed by retrieval), else embed."""
        scores = [h.legs["dense"][1] for h in hits if "dense" in h.legs]
        if scores:
            return float(max(scores))
        if self._encoder is None:
            return None
        return float(self._dense_similarity(question, [h.chunk.text for h in hits[:3]]).max())

    def _dense_similarity(self, question: str, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None or not texts:
            return np.zeros(len(texts), dtype=np.float32)
        q = self._encoder.embed_queries([normalize_text(question)])[0]
        return self._encoder.embed_passages(list(texts)) @ q

    # -- sentence selection ------------------------------------------------------------------------------
    def score_sentences(self, question: str, hits: Sequence[Hit]) -> list[tuple[float, Sentence]]:
        """Score every sentence of the top passages for how well it answers the question, best first."""
        sentences = [
            Sentence(rank, s, e, hit.chunk.text[s:e])
            for rank, hit in enumerate(hits[: self.passages])
            for s, e in split_sentences(hit.chunk.text)
        ]
        if not sentences:
            return []
        cjk = contains_cjk(question)
        scores = np.zeros(len(sentences), dtype=np.float64)
        if cjk:
            terms = question_terms(question, self._tokenize)
            weights = [self._idf(t) for t in terms]
            scores += [term_coverage(s.text, terms, weights) for s in sentences]
        else:
            terms = self._translate(question)
            weights = [self._idf(t) for t in terms]
            scores += [0.5 * term_coverage(s.text, terms, weights) for s in sentences]
        # earlier (better-ranked) passages win ties
        scores += [0.08 / (1 + s.hit_rank) for s in sentences]
        if self._encoder is not None and not cjk:
            # embedding costs ~25 ms a sentence on 2 cores: only the best lexical candidates get a dense score
            shortlist = np.argsort(-scores, kind="stable")[: self.dense_sentences]
            sims = self._dense_similarity(question, [sentences[i].text for i in shortlist])
            # e5 cosines live in a narrow band (~0.7-0.9): stretch it so it is comparable with coverage
            scores[shortlist] += np.clip((sims - 0.75) / 0.15, 0.0, 1.0)
        order = np.argsort(-scores, kind="stable")
        return [(float(scores[i]), sentences[i]) for i in order]

    def select_sentences(self, question: str, hits: list[Hit]) -> list[Sentence]:
        """Choose the answer sentences: the best ones, their list continuations, no near-duplicates.

        For a question asking for several items, a list announced by the best sentence ("做到“四个到位”") is
        followed into the next passages of the same section, which are appended to `hits` so they can be cited.
        """
        ranked = self.score_sentences(question, hits)
        if not ranked:
            return []
        if is_enumeration(question):
            listed = self._announced_list(ranked[0][1], hits)
            if listed:
                return listed
        best = ranked[0][0]
        enumeration = is_enumeration(question)
        floor = best * (0.45 if enumeration else 0.6)
        chosen: list[Sentence] = []
        for score, sent in ranked:
            if len(chosen) >= self.max_sentences or score < floor:
                break
            if any(_similar(sent.text, c.text) for c in chosen):
                continue
            chosen.append(sent)
            if enumeration:
                chosen.extend(_list_items_after(sent, hits, self.max_sentences - len(chosen)))
        # read in document order within each passage, passages in rank order
        unique = {(s.hit_rank, s.start): s for s in chosen}
        return sorted(unique.values(), key=lambda s: (s.hit_rank, s.start))

    def _announced_list(self, anchor: Sentence, hits: list[Hit]) -> list[Sentence]:
        """The anchor sentence plus the list items after it in its section (outline markers such as 一是/二是,
        or parallel sentences opening with the same words), or [] when no list of two or more items follows."""
        candidates = [Sentence(anchor.hit_rank, s, e, hits[anchor.hit_rank].chunk.text[s:e])
                      for s, e in split_sentences(hits[anchor.hit_rank].chunk.text) if s >= anchor.end]
        for extra in self._continuation(hits[anchor.hit_rank])[:3]:
            rank = next((i for i, h in enumerate(hits) if h.chunk.id == extra.chunk.id), None)
            if rank is None:
                hits.append(extra)
                rank = len(hits) - 1
            candidates += [Sentence(rank, s, e, extra.chunk.text[s:e]) for s, e in split_sentences(extra.chunk.text)]
        items = _list_items(candidates)
        if len(items) < 2:
            return []
        return [anchor] + items[: self.max_items]

    # -- composition -------------------------------------------------------------------------------------
    def stream(self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Yield the answer one cited sentence or line at a time (joined they are the text), then the `Answer`."""
        answer = self.answer(question, hits, history)
        yield from (piece for piece in _PIECE_END.split(answer.text) if piece)
        yield answer

    def answer(self, question: str, hits: Sequence[Hit], history: Sequence[Turn] = ()) -> Answer:
        """Compose a cited extractive answer, or a plain refusal when the evidence is too weak."""
        hits = list(hits)
        answerable, reason = self.evidence_strength(question, hits)
        if not answerable:
            return Answer(question, REFUSAL, False, [], hits, generator=self.name, notes=[reason])
        chosen = self.select_sentences(question, hits)
        if not chosen:
            return Answer(question, REFUSAL, False, [], hits, generator=self.name, notes=["no sentence selected"])
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        lines = []
        for sent in chosen:
            if sent.hit_rank not in numbers:
                numbers[sent.hit_rank] = len(numbers) + 1
                citations.append(Citation(numbers[sent.hit_rank], hits[sent.hit_rank]))
            n = numbers[sent.hit_rank]
            cit = citations[n - 1]
            cit.quote = (cit.quote + sent.text) if cit.quote else sent.text
            lines.append(f"{_strip_list_marker(sent.text).rstrip('；;，,')}[{n}]")
        if is_enumeration(question) and len(lines) > 1:
            text = "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
        else:
            text = "".join(lines)
        return Answer(question, text, True, citations, hits, generator=self.name, notes=[reason])


def _similar(a: str, b: str) -> bool:
    """Near-duplicate test on character bigrams (Jaccard > 0.7)."""
    ga = {a[i : i + 2] for i in range(len(a) - 1)}
    gb = {b[i : i + 2] for i in range(len(b) - 1)}
    if not ga or not gb:
        return a == b
    return len(ga & gb) / len(ga | gb) > 0.7


_ITEM_MARKER = re.compile(r"^(?:[一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，、,]|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．]|[一二三四五六七八九十]+、)")


def _list_items_after(sent: Sentence, hits: Sequence[Hit], limit: int) -> list[Sentence]:
    """The list items that follow `sent` in its passage: all next sentences when it introduces a list with
    "：", else only the following sentences that carry an outline marker (二是…, （二）…)."""
    text = hits[sent.hit_rank].chunk.text
    introduces = "：" in sent.text or ":" in sent.text
    out: list[Sentence] = []
    for s, e in split_sentences(text):
        if s < sent.end or len(out) >= limit:
            continue
        if not introduces and not _ITEM_MARKER.match(text[s:e]):
            break
        out.append(Sentence(sent.hit_rank, s, e, text[s:e]))
    return out


_MARKER_FAMILIES = (
    re.compile(r"^[一二三四五六七八九十]+是"),
    re.compile(r"^第[一二三四五六七八九十]+[，、,]"),
    re.compile(r"^[（(][一二三四五六七八九十]+[）)]"),
    re.compile(r"^[一二三四五六七八九十]+要"),
    re.compile(r"^\d+[.、．]"),
)


def _list_items(candidates: Sequence[Sentence]) -> list[Sentence]:
    """The items of a list among `candidates` (in reading order): the sentences carrying the outline marker
    family of the first marked sentence, else parallel sentences sharing a 4-5 character opening (排比)."""
    for sent in candidates:
        family = next((f for f in _MARKER_FAMILIES if f.match(sent.text)), None)
        if family is not None:
            return [c for c in candidates if family.match(c.text)]
    for width in (5, 4):
        openings: dict[str, list[Sentence]] = {}
        for c in candidates:
            if len(c.text) > width + 2:
                openings.setdefault(c.text[:width], []).append(c)
        best = max(openings.values(), key=len, default=[])
        if len(best) >= 3:
            return best
    return []


def _strip_list_marker(text: str) -> str:
    """Drop a leading Markdown bullet or heading mark so list rendering does not double it."""
    return re.sub(r"^(?:[\-*•·]|#{1,6})\s*", "", text)
