"""The edge where errors become HTTP responses: every error is JSON {"error", "detail"} with its status code."""
from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    AuthRequiredError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    NotReadyError,
    PayloadTooLargeError,
    RateLimitedError,
    ServiceError,
)
from .schemas import ErrorOut, ValidationErrorOut

log = logging.getLogger("policyqa.api")

STATUS_OF: dict[type[ServiceError], int] = {
    BadRequestError: 400,
    AuthRequiredError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    PayloadTooLargeError: 413,
    RateLimitedError: 429,
    NotReadyError: 503,
}

# documented on routes so that /docs lists the error shape
ERROR_RESPONSES = {code: {"model": ErrorOut} for code in (400, 401, 403, 404, 413, 429, 503)} | {
    422: {"model": ValidationErrorOut}}


def status_of(exc: ServiceError) -> int:
    """The HTTP status of a service error (500 for one without a mapping)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def error_body(status: int, detail: str | None) -> dict:
    """The JSON body of an error response."""
    return ErrorOut(error=HTTPStatus(status).phrase, detail=detail).model_dump()


def error_event(exc: BaseException) -> dict:
    """The data of an SSE `error` event for an exception raised while streaming."""
    if isinstance(exc, ServiceError):
        return error_body(status_of(exc), str(exc))
    return {"error": HTTPStatus(500).phrase, "detail": f"{type(exc).__name__}: {exc}"}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers turning service errors, HTTP errors, validation errors and crashes into JSON."""

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        """A service error with its mapped status (and Retry-After / WWW-Authenticate where they apply)."""
        status = status_of(exc)
        headers = {}
        if isinstance(exc, RateLimitedError):
            headers["Retry-After"] = str(int(exc.retry_after))
        if isinstance(exc, AuthRequiredError):
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(error_body(status, str(exc)), status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Framework HTTP errors (404 unknown route, 405 wrong method, ...) in the same shape."""
        return JSONResponse(error_body(exc.status_code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        """A 422 with a readable summary in `detail` and FastAPI's field errors in `errors`."""
        errors = jsonable_encoder(exc.errors())
        summary = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors)
        body = ValidationErrorOut(error=HTTPStatus(422).phrase, detail=summary, errors=errors)
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        """An unexpected error: logged with its traceback, answered as a JSON 500."""
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(500, f"{type(exc).__name__}: {exc}"), status_code=500)
