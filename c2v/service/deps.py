"""What every route depends on: the replica's state, the authenticated caller, own videos."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from c2v.errors import C2VError, StoreError
from c2v.service.settings import ServiceSettings
from c2v.storage import Storage, open_storage
from c2v.store import keys, limits, videos
from c2v.store.db import Database
from c2v.store.schema import Video


@dataclass
class ServiceState:
    db: Database
    settings: ServiceSettings
    wake: Callable[[], None]

    @cached_property
    def storage(self) -> Storage:
        """The ``--storage`` finished videos are published to, opened once per replica."""
        return open_storage(self.settings.storage, self.settings.s3_endpoint_url)

    @cached_property
    def storage_origin(self) -> str | None:
        """The origin of the storage's signed links (the studio's player loads videos from it)."""
        try:
            link = self.storage.link("origin")  # signing is local: no request is sent
        except C2VError:
            return None
        parts = urlsplit(link or "")
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


#: The state of this process's replica (Serve hands its replica a copy of the app object).
_installed: list[ServiceState] = []


def install(state: ServiceState) -> None:
    _installed[:] = [state]


def _state(request: Request) -> ServiceState:
    state: ServiceState | None = getattr(request.app.state, "service", None)
    if state is None:
        if not _installed:
            raise StoreError("the service is not configured in this process")
        state = _installed[0]
    return state


State = Annotated[ServiceState, Depends(_state)]
_bearer = HTTPBearer(auto_error=False)


def _caller(
    state: State, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> keys.Caller:
    challenge = {"WWW-Authenticate": "Bearer"}
    if creds is None:
        raise HTTPException(401, "missing API key: send Authorization: Bearer KEY", headers=challenge)
    caller = keys.authenticate(state.db, creds.credentials)
    if caller is None:
        raise HTTPException(401, "unknown or revoked API key", headers=challenge)
    wait = limits.hit(state.db, caller.tenant_id, caller.rpm or state.settings.tenant_rpm)
    if wait is not None:
        raise HTTPException(
            429, "too many requests for this tenant; retry later", headers={"Retry-After": str(wait)}
        )
    return caller


Caller = Annotated[keys.Caller, Depends(_caller)]


def own(state: ServiceState, caller: keys.Caller, video_id: str) -> Video:
    video = videos.get_video(state.db, video_id, caller.tenant_id)
    if video is None:
        raise HTTPException(404, f"no video {video_id!r}")
    return video
