"""Dependencies of the routes: the shared state, the ready pipeline, API keys, roles and rate limits."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ..auth import check_admin, check_user, client_identity, key_in
from ..qa import Pipeline
from ..settings import Settings
from .state import ServiceState

_bearer = HTTPBearer(auto_error=False, description="An API key from POLICYQA_API_KEYS or POLICYQA_ADMIN_KEYS.")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Same keys as the bearer scheme.")


def service_state(request: Request) -> ServiceState:
    """The app's shared state."""
    return request.app.state.service


StateDep = Annotated[ServiceState, Depends(service_state)]


def app_settings(state: StateDep) -> Settings:
    """The settings the app was built with."""
    return state.settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def ready_pipeline(state: StateDep) -> Pipeline:
    """The loaded pipeline (NotReadyError, i.e. 503, while there is none)."""
    return state.holder.ready()


PipelineDep = Annotated[Pipeline, Depends(ready_pipeline)]


def request_key(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> str | None:
    """The API key the request carries (X-API-Key first, then Authorization: Bearer), if any."""
    if header_key and header_key.strip():
        return header_key.strip()
    return bearer.credentials.strip() if bearer and bearer.credentials.strip() else None


KeyDep = Annotated[str | None, Depends(request_key)]


def rate_limit(request: Request, state: StateDep, key: KeyDep) -> None:
    """Spend a token of the caller: a valid key has its own bucket, anything else shares its address's."""
    settings = state.settings
    valid = key if key_in(key, settings.api_keys) or key_in(key, settings.admin_keys) else None
    state.limiter.take(client_identity(valid, request.client.host if request.client else None))


def require_user(state: StateDep, key: KeyDep) -> None:
    """A user route: a key is needed when the deployment sets api_keys and does not open chat."""
    check_user(state.settings, key)


def require_admin(state: StateDep, key: KeyDep) -> None:
    """An admin route: an admin key is needed."""
    check_admin(state.settings, key)


RateLimited = Depends(rate_limit)
UserOnly = Depends(require_user)
AdminOnly = Depends(require_admin)
