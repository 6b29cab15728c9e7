"""Feedback on answers: thumbs up/down with an optional comment, stored in SQLite, exported by admins."""
from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ...feedback import FeedbackRow
from ..deps import AdminOnly, RateLimited, StateDep, UserOnly
from ..errors import ERROR_RESPONSES
from ..schemas import FeedbackCreated, FeedbackIn

router = APIRouter(tags=["feedback"], responses=ERROR_RESPONSES)


@router.post("/api/feedback", status_code=201, response_model=FeedbackCreated, dependencies=[RateLimited, UserOnly])
async def give_feedback(body: FeedbackIn, state: StateDep) -> FeedbackCreated:
    """Rate an answer (by the `answer_id` the chat returned)."""
    comment = (body.comment or "").strip() or None
    feedback_id = await asyncio.to_thread(state.feedback.add, body.answer_id, body.rating, comment)
    return FeedbackCreated(id=feedback_id)


@router.get("/api/feedback/export", dependencies=[AdminOnly],
            responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}})
async def export_feedback(state: StateDep,
                          format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl") -> Response:
    """All feedback with the question and answer it is about, as JSON lines (default) or CSV."""
    rows = [dataclasses.asdict(r) for r in await asyncio.to_thread(state.feedback.export)]
    if format == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return Response(text, media_type="application/x-ndjson; charset=utf-8")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[f.name for f in dataclasses.fields(FeedbackRow)])
    writer.writeheader()
    for r in rows:
        writer.writerow(r | {"sources": " ".join(r["sources"])})
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="feedback.csv"'})

