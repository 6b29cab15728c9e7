"""The FastAPI application: thin routes over `service.qa`; domain errors become HTTP errors only here."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from index.store import EncoderMismatchError, IndexNotFoundError

from ..answer.base import GeneratorConfigError
from ..qa import Pipeline, answer_question, load_pipeline
from ..settings import Settings, get_settings
from .schemas import AnswerOut, ChatRequest, ErrorOut, RetrievedOut

log = logging.getLogger("policyqa.api")
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


class PipelineHolder:
    """Holds the loaded pipeline, or the reason it could not be loaded (served as 503)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pipeline: Pipeline | None = None
        self.error: str | None = "index not loaded yet"

    def load(self) -> None:
        """Load the index; keep the error message instead of crashing the server when it fails."""
        try:
            self.pipeline = load_pipeline(self.settings)
            self.error = None
        except (IndexNotFoundError, EncoderMismatchError, GeneratorConfigError) as exc:
            self.pipeline, self.error = None, str(exc)
            log.error("index not ready: %s", exc)


def ready_pipeline(request: Request) -> Pipeline:
    """The loaded pipeline, or a 503 that says why it is not ready."""
    holder: PipelineHolder = request.app.state.holder
    if holder.pipeline is None:
        raise HTTPException(status_code=503, detail=holder.error)
    return holder.pipeline


PipelineDep = Annotated[Pipeline, Depends(ready_pipeline)]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (the process settings by default)."""
    settings = settings or get_settings()
    holder = PipelineHolder(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await asyncio.to_thread(holder.load)
        yield

    app = FastAPI(title="PolicyQA 政策问答", version="0.1.0", lifespan=lifespan)
    app.state.holder = holder

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return JSONResponse(ErrorOut(error=_reason(exc.status_code), detail=str(exc.detail)).model_dump(),
                            status_code=exc.status_code)

    @app.post("/api/chat", response_model=AnswerOut, responses={503: {"model": ErrorOut}})
    async def chat(body: ChatRequest, pipeline: PipelineDep) -> AnswerOut:
        """Answer a question with citations."""
        if not body.question.strip():
            raise HTTPException(status_code=400, detail="question is empty")
        answer = await asyncio.to_thread(answer_question, pipeline, body.question, top_k=body.top_k)
        return AnswerOut.from_answer(answer)

    @app.get("/api/search", response_model=list[RetrievedOut], responses={503: {"model": ErrorOut}})
    async def search(pipeline: PipelineDep, q: Annotated[str, Query(min_length=1, max_length=2000)],
                     top_k: Annotated[int, Query(ge=1, le=50)] = 10) -> list[RetrievedOut]:
        """Passages only, best first, for portal search boxes."""
        hits = await asyncio.to_thread(pipeline.retriever.search, q, top_k)
        return [RetrievedOut(source=h.document.source, title=h.document.title,
                             section=" / ".join(h.chunk.section) or None, text=h.chunk.text,
                             score=round(h.score, 6)) for h in hits]

    @app.get("/healthz")
    async def healthz() -> dict:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"model": ErrorOut}})
    async def readyz(pipeline: PipelineDep) -> dict:
        """Readiness: the index is loaded."""
        return {"status": "ready", "documents": len(pipeline.index.documents), "chunks": len(pipeline.index.chunks)}

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        """The web chat page."""
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    return app


def _reason(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase
