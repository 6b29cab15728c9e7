"""Answers and the feedback given on them, stored durably in SQLite and exportable."""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import NotFoundError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    answer_id TEXT PRIMARY KEY,
    conversation_id TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    answerable INTEGER NOT NULL,
    sources TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL REFERENCES answers(answer_id),
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT,
    created_at TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    """One feedback with the answer it is about (the export format)."""

    id: int
    answer_id: str
    rating: str
    comment: str | None
    created_at: str
    conversation_id: str | None
    question: str
    answer: str
    answerable: bool
    sources: list[str]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FeedbackStore:
    """The SQLite file of answers given and feedback received (one connection per call, serialised)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if not self._ready:  # created on first use so that a read-only deployment without feedback starts
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10)
            try:
                if not self._ready:
                    connection.executescript(_SCHEMA)
                    self._ready = True
                with connection:
                    yield connection
            finally:
                connection.close()

    def record_answer(self, answer_id: str, conversation_id: str | None, question: str, answer: str,
                      answerable: bool, sources: list[str]) -> None:
        """Keep an answer so that feedback can refer to it."""
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (answer_id, conversation_id, question, answer, int(answerable),
                        json.dumps(sources, ensure_ascii=False), _now()))

    def add(self, answer_id: str, rating: str, comment: str | None) -> int:
        """Store feedback on a known answer and return its id; NotFoundError for an unknown answer id."""
        with self._connect() as db:
            if db.execute("SELECT 1 FROM answers WHERE answer_id = ?", (answer_id,)).fetchone() is None:
                raise NotFoundError(f"no answer with id {answer_id!r}")
            cursor = db.execute("INSERT INTO feedback (answer_id, rating, comment, created_at) VALUES (?, ?, ?, ?)",
                                (answer_id, rating, comment, _now()))
            return int(cursor.lastrowid)

    def export(self) -> list[FeedbackRow]:
        """Every feedback with its answer, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT f.id, f.answer_id, f.rating, f.comment, f.created_at, a.conversation_id, a.question, "
                "a.answer, a.answerable, a.sources FROM feedback f JOIN answers a USING (answer_id) ORDER BY f.id"
            ).fetchall()
        return [FeedbackRow(*row[:8], bool(row[8]), json.loads(row[9])) for row in rows]
