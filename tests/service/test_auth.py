"""API keys and the token-bucket rate limiter."""
from __future__ import annotations

import pytest

from service.auth import RateLimiter, check_admin, check_user, client_identity, presented_key
from service.errors import AuthRequiredError, ForbiddenError, RateLimitedError
from service.settings import Settings


def test_presented_key_reads_both_headers():
    assert presented_key("Bearer abc", None) == "abc"
    assert presented_key("bearer  abc ", None) == "abc"
    assert presented_key("Basic abc", None) is None
    assert presented_key("Bearer abc", "def") == "def"
    assert presented_key(None, None) is None


def test_roles():
    settings = Settings(api_keys=["u"], admin_keys=["a"])
    check_user(settings, "u"), check_user(settings, "a"), check_admin(settings, "a")
    with pytest.raises(AuthRequiredError):
        check_user(settings, None)
    with pytest.raises(AuthRequiredError):
        check_user(settings, "x")
    with pytest.raises(ForbiddenError):
        check_admin(settings, "u")
    check_user(Settings(), None)  # no keys configured: open
    with pytest.raises(ForbiddenError, match="POLICYQA_ADMIN_KEYS"):
        check_admin(Settings(), "anything")


def test_token_bucket_refills_at_the_configured_rate():
    limiter = RateLimiter(per_minute=60, burst=2)
    limiter.take("k", now=0), limiter.take("k", now=0)
    with pytest.raises(RateLimitedError) as caught:
        limiter.take("k", now=0.5)
    assert caught.value.retry_after == 1
    limiter.take("k", now=1.6)  # one token back after a second
    limiter.take("other", now=1.6)
    RateLimiter(per_minute=0, burst=1).take("k")  # 0 disables


def test_identity_never_holds_the_raw_key():
    identity = client_identity("super-secret", "10.0.0.1")
    assert "super-secret" not in identity and identity.startswith("key:")
    assert client_identity(None, "10.0.0.1") == "ip:10.0.0.1"
