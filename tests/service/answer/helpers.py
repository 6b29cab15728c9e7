"""Hand-made hits for answer tests that need no index."""
from __future__ import annotations

from index.records import Hit
from ingest.records import Chunk, Document


def make_hit(text: str, n: int = 0, title: str = "测试讲话") -> Hit:
    """A hit on a one-chunk document whose text is `text`."""
    doc = Document(id=f"d{n}", source=f"d{n}.txt", path=f"/tmp/d{n}.txt", text=text, content_hash="0" * 64,
                   title=title, date="2020-01-01")
    return Hit(Chunk(id=f"d{n}:0", doc_id=f"d{n}", text=text, start=0, end=len(text)), doc, 1.0)
