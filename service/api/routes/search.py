"""GET /api/search: passages only, for portal search boxes."""
from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from ...errors import BadRequestError
from ..deps import PipelineDep, RateLimited, UserOnly
from ..errors import ERROR_RESPONSES
from ..schemas import DATE_PATTERN, FiltersIn, RetrievedOut
from .chat import checked_filters

router = APIRouter(tags=["search"], dependencies=[RateLimited, UserOnly], responses=ERROR_RESPONSES)


@router.get("/api/search", response_model=list[RetrievedOut])
async def search(
    pipeline: PipelineDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="The query.")],
    top_k: Annotated[int, Query(ge=1, le=50)] = 10,
    date_from: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    date_to: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    speaker: Annotated[list[str] | None, Query(description="Repeat to allow several.")] = None,
    kind: Annotated[list[str] | None, Query(description="Repeat to allow several.")] = None,
    source: Annotated[list[str] | None, Query(description="File names; repeat to allow several.")] = None,
) -> list[RetrievedOut]:
    """Passages best first, optionally restricted by date range, speaker, kind or source file."""
    if not q.strip():
        raise BadRequestError("q is empty")
    filters = checked_filters(FiltersIn(date_from=date_from, date_to=date_to, speakers=speaker, kinds=kind,
                                        sources=source))
    hits = await asyncio.to_thread(pipeline.retriever.search, q, top_k, filters)
    return [RetrievedOut.from_hit(h) for h in hits]
