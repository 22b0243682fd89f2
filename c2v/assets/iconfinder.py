"""IconFinder API v4, with ``Authorization: Bearer <key>``: free icons only, SVG preferred.

``GET {base}/icons/search?query=...&count=N&premium=0`` answers ``{"icons": [{"icon_id",
"vector_sizes": [{"formats": [{"format": "svg", "download_url"}]}], "raster_sizes": [{"size",
"formats": [{"format": "png", "download_url"}]}], "iconset": {"iconset_id", "author", "license"}}]}``.
A licence missing from the search answer is read from ``GET {base}/iconsets/{id}``. Download
URLs are resolved against the configured base and must stay on its host: the key is never
sent anywhere else. IconFinder's licences are titles, not SPDX ids, so every icon is credited.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx2

from c2v.assets.http import get as http_get
from c2v.assets.models import AssetSource
from c2v.assets.remote import Fetched, credit
from c2v.assets.settings import AssetSettings
from c2v.errors import AssetFetchError, AssetServiceUnavailable
from c2v.models import License

MAX_RASTER = 512


class IconFinderSource:
    source = AssetSource.iconfinder

    def __init__(self, client: httpx2.Client, settings: AssetSettings) -> None:
        if settings.iconfinder_key is None:
            raise AssetFetchError("iconfinder: no key (set ICONFINDER_API_KEY or iconfinder.api_key)")
        self._client = client
        self._settings = settings
        self._auth = {"authorization": f"Bearer {settings.iconfinder_key.get_secret_value()}"}
        self._origin = urlsplit(settings.iconfinder_url).netloc

    def _get(self, url: str, params: dict[str, str | int] | None = None) -> httpx2.Response:
        if urlsplit(url).netloc != self._origin:
            raise AssetFetchError(f"iconfinder: a download points to another host ({urlsplit(url).netloc})")
        return http_get(self._client, "iconfinder", url, self._settings, params=params, headers=self._auth)

    def candidates(self, element: str) -> Iterator[Fetched]:
        s = self._settings
        params: dict[str, str | int] = {"query": element, "count": s.results_per_search, "premium": 0}
        try:
            icons = list(self._get(f"{s.iconfinder_url}/icons/search", params).json().get("icons", []))
        except (ValueError, AttributeError, TypeError):
            raise AssetFetchError("iconfinder /icons/search: the answer is not the expected JSON") from None
        for rank, icon in enumerate(i for i in icons if isinstance(i, dict) and not i.get("is_premium")):
            link = _download(icon)
            if link is None:
                continue
            url, is_svg = link
            try:
                licence, author = self._licence(icon)
                data = self._get(urljoin(s.iconfinder_url + "/", url.lstrip("/"))).content
            except AssetServiceUnavailable:
                raise
            except AssetFetchError:
                continue
            icon_id = f"iconfinder:{icon.get('icon_id')}"
            page = f"https://www.iconfinder.com/icons/{icon.get('icon_id')}"
            yield Fetched(
                source=self.source,
                icon_id=icon_id,
                data=data,
                is_svg=is_svg,
                license=licence,
                author=author,
                attribution=credit(f"icon {icon.get('icon_id')} (IconFinder)", author, licence, page),
                original_url=page,
                score=max(1.0, 70.0 - 2 * rank),
            )

    def _licence(self, icon: dict[str, Any]) -> tuple[License, str | None]:
        found = icon.get("iconset")
        iconset: dict[str, Any] = found if isinstance(found, dict) else {}
        raw = icon.get("license") or iconset.get("license")
        author = (iconset.get("author") or {}).get("name")
        if not isinstance(raw, dict) and iconset.get("iconset_id") is not None:
            detail = self._get(
                f"{self._settings.iconfinder_url}/iconsets/{int(iconset['iconset_id'])}"
            ).json()
            raw = detail.get("license")
            author = author or (detail.get("author") or {}).get("name")
        if not isinstance(raw, dict) or not raw.get("name"):
            raise AssetFetchError(f"iconfinder icon {icon.get('icon_id')}: no licence given")
        if not author:
            raise AssetFetchError(f"iconfinder icon {icon.get('icon_id')}: no author to credit")
        return License(
            spdx=None, title=str(raw["name"]), url=raw.get("url"), requires_attribution=True
        ), author


def _download(icon: dict[str, Any]) -> tuple[str, bool] | None:
    """The SVG download path, else the largest PNG up to MAX_RASTER px."""
    for size in icon.get("vector_sizes") or []:
        for fmt in size.get("formats") or []:
            if fmt.get("format") == "svg" and fmt.get("download_url"):
                return str(fmt["download_url"]), True
    best: tuple[int, str] | None = None
    for size in icon.get("raster_sizes") or []:
        px = int(size.get("size", 0))
        for fmt in size.get("formats") or []:
            wanted = fmt.get("format") == "png" and fmt.get("download_url") and px <= MAX_RASTER
            if wanted and (best is None or px > best[0]):
                best = (px, str(fmt["download_url"]))
    return (best[1], False) if best is not None else None
