"""Lexical leg: jieba tokenisation of simplified Chinese and a BM25 index (bm25s) over the tokens."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

TOKENIZER_MODES = ("words", "words+bigrams")
# Bigrams won on questions about the sample speeches (hit@1 0.80 -> 0.95 over 20 own questions; they reward
# phrase matches such as 政策就是) and cost a little on rgb_zh news questions (0.690 -> 0.657, within noise).
DEFAULT_TOKENIZER_MODE = "words+bigrams"

_CJK = "\u3400-\u9fff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:[.%][0-9]+)*%?")
_IS_CJK = re.compile(f"[{_CJK}]")
# “…” 「…」 『…』 quoted CJK terms are coined policy phrases (“四讲四比”, “两定五考”); 2–8 characters keeps
# out quoted sentences.
_QUOTED_TERM = re.compile(f"[“「『]([{_CJK}]{{2,8}})[”」』]")


def _read_word_list(name: str) -> list[str]:
    text = resources.files("index").joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """The shipped Chinese stopword list (function words, question words, punctuation)."""
    return frozenset(_read_word_list("stopwords_zh.txt"))


@lru_cache(maxsize=1)
def policy_terms() -> tuple[str, ...]:
    """The shipped policy terms jieba would otherwise split (招商引资, 亩均税收, …)."""
    return tuple(dict.fromkeys(_read_word_list("policy_terms.txt")))


def harvest_terms(texts: Iterable[str]) -> list[str]:
    """Quoted 2–8 character CJK terms found in the texts (“四讲四比” -> 四讲四比), sorted, without stopwords."""
    found: set[str] = set()
    stop = stopwords()
    for text in texts:
        found.update(m for m in _QUOTED_TERM.findall(text) if m not in stop)
    return sorted(found)


@lru_cache(maxsize=1)
def _base_segmenter():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading at INFO on every process start
    seg = jieba.Tokenizer()
    seg.initialize()
    return seg


def new_segmenter(terms: Iterable[str] = ()):
    """A private jieba tokenizer with the shipped policy terms plus `terms` in its dictionary."""
    import jieba

    base = _base_segmenter()
    seg = jieba.Tokenizer()
    # Copy the loaded dictionary instead of re-reading it (~1 s each time); a private instance keeps one
    # index's user words from leaking into another's. jieba 0.42.1 keeps its state in FREQ/total.
    seg.FREQ = dict(base.FREQ)
    seg.total = base.total
    seg.initialized = True
    for term in (*policy_terms(), *terms):
        seg.add_word(term)
    return seg


def tokenize(text: str, mode: str = DEFAULT_TOKENIZER_MODE, *, segmenter=None) -> list[str]:
    """Tokens of normalised text: jieba search-mode words without stopwords, ASCII words lower-cased,
    plus character bigrams of CJK runs in mode "words+bigrams"."""
    if mode not in TOKENIZER_MODES:
        raise ValueError(f"unknown tokenizer mode {mode!r}; expected one of {TOKENIZER_MODES}")
    seg = segmenter if segmenter is not None else _default_segmenter()
    stop = stopwords()
    text = text.lower()
    tokens: list[str] = []
    # search mode also emits the dictionary words inside a long word (新型工业化 -> 工业, 工业化, 新型工业化), so a
    # question saying 工业化 still matches a passage where the user dictionary kept 新型工业化 whole.
    for word in seg.cut_for_search(text, HMM=True):
        word = word.strip()
        if not word or word in stop:
            continue
        if _IS_CJK.search(word):
            tokens.append(word)
        else:
            tokens.extend(_ASCII_WORD.findall(word))
    if mode == "words+bigrams":
        for run in _CJK_RUN.findall(text):
            tokens.extend("#" + run[i : i + 2] for i in range(len(run) - 1))  # "#" keeps bigrams apart from words
    return tokens


@lru_cache(maxsize=1)
def _default_segmenter():
    return new_segmenter()


def lucene_score_matrix(rows: Sequence[np.ndarray], n_vocab: int, k1: float, b: float) -> dict:
    """bm25s's eager score matrix (CSC over tokens: data, indices = rows, indptr) for token-id rows, Lucene BM25.

    Same numbers as bm25s.BM25(method="lucene").index(), computed with whole-array numpy operations instead of
    a Python loop per document (the bm25s build took minutes and gigabytes on 174k chunks).
    """
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    n_docs = len(rows)
    ids = np.concatenate(rows).astype(np.int64) if n_docs else np.zeros(0, np.int64)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    pairs, tf = np.unique(doc_of * n_vocab + ids, return_counts=True)  # one entry per (document, token)
    del ids, doc_of
    pair_doc, pair_tok = np.divmod(pairs, n_vocab)
    df = np.bincount(pair_tok, minlength=n_vocab)
    idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
    avg_len = lengths.mean() if n_docs else 1.0
    tf = tf.astype(np.float64)
    scores = idf[pair_tok] * tf / (tf + k1 * (1.0 - b + b * lengths[pair_doc] / avg_len))
    order = np.argsort(pair_tok, kind="stable")  # column-major: all documents of token 0, then token 1, ...
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return {
        "data": scores[order].astype(np.float32),
        "indices": pair_doc[order].astype(np.int32),
        "indptr": indptr,
        "num_docs": n_docs,
    }


class LexicalIndex:
    """BM25 (bm25s, Lucene variant) over pre-tokenised chunks; rows are chunk positions."""

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1 = k1
        self.b = b
        self._bm25 = None
        self._n_docs = 0

    @property
    def n_docs(self) -> int:
        """Number of indexed chunks."""
        return self._n_docs

    def build(self, token_lists: Iterable[Sequence[str]]) -> LexicalIndex:
        """Index one token list per chunk (row i = the i-th list); accepts a generator, tokens are not kept."""
        import bm25s

        # Tokens become int ids as they stream in: 10k news articles are 46M tokens, which as Python strings
        # (bm25s.index) peaked at 7 GB; as int32 ids they take 184 MB.
        vocab: dict[str, int] = {}
        rows: list[np.ndarray] = []
        for tokens in token_lists:
            rows.append(np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens), dtype=np.int32))
        self._n_docs = len(rows)
        if not rows or not vocab:  # bm25s cannot score an empty vocabulary; an empty index finds nothing
            self._bm25 = None
            return self
        bm25 = bm25s.BM25(method="lucene", k1=self.k1, b=self.b)
        bm25.scores = lucene_score_matrix(rows, len(vocab), self.k1, self.b)
        bm25.vocab_dict = vocab
        bm25.unique_token_ids_set = set(vocab.values())
        bm25.nonoccurrence_array = None
        self._bm25 = bm25
        return self

    def save(self, directory: str | Path) -> None:
        """Write the index with bm25s's own format (arrays + vocab + params JSON) into `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(directory), show_progress=False)
        else:
            (directory / "empty.json").write_text(json.dumps({"k1": self.k1, "b": self.b}))

    @classmethod
    def load(cls, directory: str | Path, mmap: bool = True) -> LexicalIndex:
        """Load an index saved by `save`; arrays are memory-mapped by default."""
        import bm25s

        directory = Path(directory)
        empty = directory / "empty.json"
        if empty.exists():
            params = json.loads(empty.read_text())
            return cls(k1=params["k1"], b=params["b"])
        bm25 = bm25s.BM25.load(str(directory), mmap=mmap, show_progress=False)
        index = cls(k1=bm25.k1, b=bm25.b)
        index._bm25 = bm25
        index._n_docs = int(bm25.scores["num_docs"])
        return index

    def search(self, query_tokens: Sequence[str], top_k: int) -> list[tuple[int, float]]:
        """Best `top_k` (row, score) pairs with a positive score, best first; [] when no token is known."""
        if self._bm25 is None or top_k <= 0:
            return []
        vocab = self._bm25.vocab_dict
        # duplicates dropped: a word repeated in a question is not more important, and bigram mode repeats a lot
        ids = [vocab[t] for t in dict.fromkeys(query_tokens) if t and t in vocab]
        if not ids:
            return []
        scores = self._bm25.get_scores_from_ids(ids)
        k = min(top_k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        # stable order on ties: higher score first, then lower row
        top = top[np.lexsort((top, -scores[top]))]
        return [(int(r), float(scores[r])) for r in top if scores[r] > 0]

    def doc_freq(self, token: str) -> int:
        """Number of chunks containing `token`."""
        if self._bm25 is None:
            return 0
        tid = self._bm25.vocab_dict.get(token)
        if tid is None or not token:
            return 0
        indptr = self._bm25.scores["indptr"]
        # the score matrix is CSC over tokens and Lucene BM25 scores every occurrence > 0, so the column length
        # is the document frequency
        return int(indptr[tid + 1] - indptr[tid])

    def idf(self, token: str) -> float:
        """Lucene BM25 idf of a token, log(1 + (N - df + 0.5) / (df + 0.5)); unknown tokens get the maximum."""
        n = self._n_docs
        df = self.doc_freq(token)
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
