"""The FastAPI application: thin routers over the service modules; errors become HTTP responses only here."""
from __future__ import annotations

import asyncio
import logging
import re
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from ..metrics import MetricsMiddleware
from ..settings import Settings, get_settings
from .errors import install_error_handlers
from .routes import chat, documents, feedback, openai_compat, ops, pages, search
from .state import build_state

_KEY_IN_QUERY = re.compile(r"([?&](?:key|api_key|apikey)=)[^&\s]*", re.IGNORECASE)


class RedactKeys(logging.Filter):
    """Hides `?key=` values (the widget and embed page pass keys that way) in access-log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments; never drops a record."""
        if isinstance(record.args, tuple):
            record.args = tuple(_KEY_IN_QUERY.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_keys_in_access_log() -> None:
    """Install `RedactKeys` on uvicorn's access logger (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactKeys) for f in access.filters):
        access.addFilter(RedactKeys())


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (the process settings by default); the index loads at start-up."""
    settings = settings or get_settings()
    state = build_state(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        """Load the index at start-up (off the event loop); let queued document jobs finish at shutdown."""
        await asyncio.to_thread(state.holder.load)
        yield
        await asyncio.to_thread(state.jobs.close)

    app = FastAPI(title="PolicyQA 政策问答", version="0.2.0", lifespan=lifespan,
                  description="Cited answers from Chinese policy speeches. Errors are JSON `{error, detail}`.")
    app.state.service = state
    install_error_handlers(app)
    for module in (chat, search, documents, feedback, openai_compat, ops, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR, check_dir=False), name="static")
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "Accept"],
                           expose_headers=["Retry-After"], max_age=600)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    redact_keys_in_access_log()
    return app
