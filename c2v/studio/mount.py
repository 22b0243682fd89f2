"""Serve the studio's static files (package data) with a strict Content-Security-Policy.

The page is plain HTML, CSS and ES modules with no build step. Nothing on it runs inline
script or style, so the policy allows scripts, styles and API calls from this origin only,
images and media also from ``blob:`` (keyframes and the video are fetched with the API key
in a header, never in a URL), and no form submission at all (the forms are handled in script).
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
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
    def page() -> Response:
        return Response(index, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)

    api.mount("/studio", StudioFiles(packages=[("c2v.studio", "static")]), name="studio")
