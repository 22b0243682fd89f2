"""Serve the studio's static files (package data) with a strict Content-Security-Policy.

The page is plain HTML, CSS and ES modules with no build step. Nothing on it runs inline
script or style, so the policy allows scripts, styles and API calls from this origin only,
images and media also from ``blob:`` (keyframes and the video are fetched with the API key
in a header, never in a URL), media also from the origin of the storage's signed links when
the service publishes to S3 (the player loads the video from there, with no key), and no form
submission at all (the forms are handled in script).
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from c2v.service.deps import State


def content_security_policy(media_origin: str | None = None) -> str:
    media = "media-src 'self' blob:" + (f" {media_origin}" if media_origin else "")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' blob:",
            media,
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(media_origin: str | None = None) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(media_origin),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS = security_headers()
STATIC = resources.files("c2v.studio") / "static"


class StudioFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def mount_studio(api: FastAPI) -> None:
    """The page at ``/`` and its files under ``/studio/``."""
    index = (STATIC / "index.html").read_bytes()

    @api.get("/", include_in_schema=False)
    def page(state: State) -> Response:
        headers = security_headers(state.storage_origin)
        return Response(index, media_type="text/html; charset=utf-8", headers=headers)

    api.mount("/studio", StudioFiles(packages=[("c2v.studio", "static")]), name="studio")
