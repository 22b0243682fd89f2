"""The Iconify API (no key): search icons by words, download one as SVG.

``GET {base}/search?query=...&limit=32`` answers ``{"icons": ["prefix:name", ...],
"collections": {prefix: {"name", "author": {"name", "url"}, "license": {"title", "spdx",
"url"}, "palette"}}}``; ``GET {base}/{prefix}/{name}.svg`` answers the SVG. Only sets with an
SPDX licence outside the GPL family are used; colourful sets (``palette``) come first, since
a teaching video wants pictures rather than glyphs; a set whose licence asks for attribution
and names no author is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx2

from c2v.assets.http import get as http_get
from c2v.assets.iconset import license_from
from c2v.assets.models import AssetSource
from c2v.assets.remote import Fetched, credit
from c2v.assets.settings import AssetSettings
from c2v.errors import AssetFetchError, AssetServiceUnavailable

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*:[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_REFUSED_SPDX = ("GPL", "LGPL", "AGPL")
SEARCH_LIMIT = 32  # the API's minimum page


class IconifySource:
    source = AssetSource.iconify

    def __init__(self, client: httpx2.Client, settings: AssetSettings) -> None:
        self._client = client
        self._settings = settings

    def candidates(self, element: str) -> Iterator[Fetched]:
        s = self._settings
        found = http_get(
            self._client,
            "iconify",
            f"{s.iconify_url}/search",
            s,
            params={"query": element, "limit": SEARCH_LIMIT},
        )
        try:
            body = found.json()
            icons = [i for i in body.get("icons", []) if isinstance(i, str) and _ID.match(i)]
            collections: dict[str, Any] = dict(body.get("collections", {}))
        except (ValueError, AttributeError, TypeError):
            raise AssetFetchError("iconify /search: the answer is not the expected JSON") from None
        usable = [(rank, i) for rank, i in enumerate(icons) if _usable(collections.get(i.split(":")[0]))]
        usable.sort(key=lambda ri: (not collections[ri[1].split(":")[0]].get("palette", False), ri[0]))
        for rank, icon_id in usable[: s.results_per_search]:
            prefix, name = icon_id.split(":")
            info = collections[prefix]
            url = f"{s.iconify_url}/{prefix}/{name}.svg"
            try:
                svg = http_get(self._client, "iconify", url, s)
            except AssetServiceUnavailable:
                raise
            except AssetFetchError:
                continue  # this icon is gone (404): the next one
            lic = info.get("license", {})
            licence = license_from(lic.get("spdx"), lic.get("title"), lic.get("url"))
            author = (info.get("author") or {}).get("name")
            set_name = str(info.get("name", prefix))
            yield Fetched(
                source=self.source,
                icon_id=icon_id,
                data=svg.content,
                is_svg=True,
                license=licence,
                author=author,
                attribution=credit(
                    f"{name} ({set_name})",
                    author,
                    licence,
                    f"https://icon-sets.iconify.design/{prefix}/{name}/",
                ),
                original_url=f"https://icon-sets.iconify.design/{prefix}/{name}/",
                score=max(1.0, 80.0 - 2 * rank),
            )


def _usable(info: Any) -> bool:
    if not isinstance(info, dict):
        return False
    spdx = (info.get("license") or {}).get("spdx")
    if not isinstance(spdx, str) or spdx.upper().startswith(_REFUSED_SPDX):
        return False
    needs_credit = license_from(spdx, None, None).requires_attribution
    return not needs_credit or bool((info.get("author") or {}).get("name"))
