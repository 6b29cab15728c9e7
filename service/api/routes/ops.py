"""Operations: liveness, readiness, Prometheus metrics, and the page's public configuration."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from ...auth import auth_required
from ...metrics import CONTENT_TYPE
from ..deps import PipelineDep, SettingsDep, StateDep
from ..errors import ERROR_RESPONSES
from ..schemas import ConfigOut

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: ERROR_RESPONSES[503]})
async def readyz(pipeline: PipelineDep) -> dict:
    """Readiness: the index is loaded (503 with the reason otherwise)."""
    return {"status": "ready", "version": pipeline.index.version, "documents": len(pipeline.index.documents),
            "chunks": len(pipeline.index.chunks)}


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(state: StateDep) -> Response:
    """Prometheus metrics: requests by route/status, latency histogram, errors, index size."""
    return Response(state.metrics.exposition(), media_type=CONTENT_TYPE)


@router.get("/api/config", response_model=ConfigOut)
async def config(settings: SettingsDep) -> ConfigOut:
    """What the chat page needs: its title and whether it must send an API key (never the keys)."""
    return ConfigOut(title=settings.title, auth_required=auth_required(settings))
