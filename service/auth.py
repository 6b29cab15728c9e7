"""API keys and per-client rate limits; keys are compared in constant time and never logged or stored in errors."""
from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .errors import AuthRequiredError, ForbiddenError, RateLimitedError
from .settings import Settings


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key a request carries as `Authorization: Bearer KEY` or `X-API-Key: KEY`, if any."""
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def key_in(key: str | None, keys: list[str]) -> bool:
    """Whether `key` is one of `keys` (constant-time comparison of each)."""
    if not key:
        return False
    found = False
    for candidate in keys:
        found |= hmac.compare_digest(key.encode(), candidate.encode())
    return found


def auth_required(settings: Settings) -> bool:
    """Whether chat/search/documents need a key in this deployment."""
    return bool(settings.api_keys) and not settings.open_chat


def check_user(settings: Settings, key: str | None) -> None:
    """Allow a user route, or raise AuthRequiredError (no or unknown key)."""
    if not auth_required(settings):
        return
    if key_in(key, settings.api_keys) or key_in(key, settings.admin_keys):
        return
    raise AuthRequiredError("an API key is required: send `Authorization: Bearer KEY` or `X-API-Key: KEY`"
                            if key is None else "the API key is not valid")


def check_admin(settings: Settings, key: str | None) -> None:
    """Allow an admin route (upload, delete, export), or raise AuthRequiredError / ForbiddenError."""
    if not settings.admin_keys:
        raise ForbiddenError("document management is disabled: set POLICYQA_ADMIN_KEYS to enable it")
    if key is None:
        raise AuthRequiredError("an admin key is required: send `Authorization: Bearer KEY` or `X-API-Key: KEY`")
    if not key_in(key, settings.admin_keys):
        raise ForbiddenError("this key may not manage documents or export feedback")


def client_identity(key: str | None, client_host: str | None) -> str:
    """Who a rate limit applies to: the key (as a hash, so the raw key is never kept) or the client address."""
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return "ip:" + (client_host or "unknown")


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per client: `burst` requests at once, refilled at `per_minute` a minute; 0 disables."""

    def __init__(self, per_minute: float, burst: int, max_clients: int = 10_000):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, identity: str, now: float | None = None) -> None:
        """Spend one token of `identity`, or raise RateLimitedError saying when to retry."""
        if self.rate <= 0:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.pop(identity, None) or _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets[identity] = bucket  # most recently used last
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            if bucket.tokens < 1.0:
                wait = math.ceil((1.0 - bucket.tokens) / self.rate)
                raise RateLimitedError(f"too many requests: retry in {wait} s", retry_after=wait)
            bucket.tokens -= 1.0
