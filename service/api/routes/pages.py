"""The web chat page, the embeddable widget script, the iframe page and the example portal page."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ...errors import NotFoundError
from ..deps import SettingsDep

SERVICE_DIR = Path(__file__).resolve().parents[2]
STATIC_DIR = SERVICE_DIR / "static"
EXAMPLES_DIR = SERVICE_DIR / "examples"

router = APIRouter(include_in_schema=False)


def shipped_file(path: Path, media_type: str, headers: dict[str, str] | None = None) -> FileResponse:
    """A file shipped with the service, or NotFoundError naming it; browsers revalidate it on every load, so a
    changed page, widget or frame-ancestors policy takes effect at once."""
    if not path.is_file():
        raise NotFoundError(f"{path.relative_to(SERVICE_DIR)} is missing from this installation")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache", **(headers or {})})


def frame_ancestors(origins: list[str]) -> str:
    """The Content-Security-Policy letting only this site and the configured origins frame a page."""
    return "frame-ancestors " + " ".join(["'self'", *origins])


@router.get("/")
async def page() -> FileResponse:
    """The web chat page."""
    return shipped_file(STATIC_DIR / "index.html", "text/html; charset=utf-8")


@router.get("/embed")
async def embed(settings: SettingsDep) -> FileResponse:
    """The chat page for iframes (compact mode), frameable only by the configured origins."""
    return shipped_file(STATIC_DIR / "index.html", "text/html; charset=utf-8",
                        {"Content-Security-Policy": frame_ancestors(settings.cors_origins)})


@router.get("/widget.js")
async def widget() -> FileResponse:
    """The script that adds the floating chat button and panel to a portal page."""
    return shipped_file(STATIC_DIR / "widget.js", "application/javascript; charset=utf-8")


@router.get("/example/portal")
async def example_portal() -> FileResponse:
    """An example intranet page embedding the widget."""
    return shipped_file(EXAMPLES_DIR / "portal.html", "text/html; charset=utf-8")
