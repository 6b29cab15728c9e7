"""The five sample speeches shipped in data/speeches, shared by the ingest tests."""
from __future__ import annotations

from pathlib import Path

SPEECHES = Path(__file__).resolve().parents[2] / "data" / "speeches"
SAMPLE_FILES = sorted(SPEECHES.glob("*.txt"))


def sample(prefix: str) -> Path:
    """The sample file whose name starts with prefix, e.g. "003"."""
    return next(path for path in SAMPLE_FILES if path.name.startswith(prefix))

