"""The service's own errors; the HTTP edge (service/api/errors.py) maps each to a status code."""
from __future__ import annotations


class ServiceError(Exception):
    """Base class: the message says what went wrong and, where possible, what to do."""


class BadRequestError(ServiceError):
    """The request is well-formed but cannot be served as asked (HTTP 400)."""


class AuthRequiredError(ServiceError):
    """No valid API key was presented (HTTP 401)."""


class ForbiddenError(ServiceError):
    """The key is valid but may not do this (HTTP 403)."""


class NotFoundError(ServiceError):
    """The named document, job, answer or file does not exist (HTTP 404)."""


class PayloadTooLargeError(ServiceError):
    """An upload is over the configured size limit (HTTP 413)."""


class RateLimitedError(ServiceError):
    """Too many requests for this key or address (HTTP 429)."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class NotReadyError(ServiceError):
    """The index is not loaded, so nothing can be answered yet (HTTP 503)."""
