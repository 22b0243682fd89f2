"""IconifyJSON icon sets: the bundled offline set, loaded once, and SVG documents built from it.

The format is Iconify's (https://iconify.design/docs/types/iconify-json.html): a ``prefix``,
``icons`` (``body`` plus optional ``left``/``top``/``width``/``height``/``rotate``/``hFlip``/
``vFlip``), ``aliases`` pointing at a ``parent`` with the same optional transformations,
set-wide default sizes, and ``info`` (name, author, licence). c2v adds ``categories`` from the
package's ``metadata.json``, which the search index uses as weak keywords.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from c2v.errors import AssetError
from c2v.models import License

BUNDLED_SETS = ("fluent-emoji-flat",)
#: SPDX ids whose terms ask for the author to be credited where the work is shown.
ATTRIBUTION_SPDX_PREFIXES = ("CC-BY", "OFL", "GPL", "LGPL")


@dataclass(frozen=True)
class IconData:
    body: str
    left: float = 0
    top: float = 0
    width: float = 16
    height: float = 16
    rotate: int = 0
    h_flip: bool = False
    v_flip: bool = False


@dataclass(frozen=True)
class IconSet:
    prefix: str
    name: str
    author: str | None
    author_url: str | None
    license: License
    icons: dict[str, dict[str, Any]]
    aliases: dict[str, dict[str, Any]]
    width: float
    height: float
    categories: dict[str, list[str]] = field(default_factory=dict)
    version: str | None = None

    def names(self) -> list[str]:
        return sorted({*self.icons, *self.aliases})

    def icon(self, name: str) -> IconData:
        """The icon ``name`` with its alias chain applied; :class:`AssetError` when absent."""
        flips = {"rotate": 0, "hFlip": False, "vFlip": False}
        seen: set[str] = set()
        while name in self.aliases and name not in self.icons:
            if name in seen:
                raise AssetError(f"icon set {self.prefix}: alias loop at {name!r}")
            seen.add(name)
            alias = self.aliases[name]
            flips["rotate"] = (int(flips["rotate"]) + int(alias.get("rotate", 0))) % 4
            flips["hFlip"] = bool(flips["hFlip"]) ^ bool(alias.get("hFlip", False))
            flips["vFlip"] = bool(flips["vFlip"]) ^ bool(alias.get("vFlip", False))
            name = str(alias["parent"])
        if name not in self.icons:
            raise AssetError(f"icon set {self.prefix} has no icon {name!r}")
        raw = self.icons[name]
        return IconData(
            body=str(raw["body"]),
            left=float(raw.get("left", 0)),
            top=float(raw.get("top", 0)),
            width=float(raw.get("width", self.width)),
            height=float(raw.get("height", self.height)),
            rotate=(int(raw.get("rotate", 0)) + int(flips["rotate"])) % 4,
            h_flip=bool(raw.get("hFlip", False)) ^ bool(flips["hFlip"]),
            v_flip=bool(raw.get("vFlip", False)) ^ bool(flips["vFlip"]),
        )

    def svg(self, name: str) -> str:
        """A standalone SVG document for ``name`` (sized in px, not Iconify's ``1em``)."""
        return icon_svg(self.icon(name))


def icon_svg(icon: IconData) -> str:
    w, h = icon.width, icon.height
    body = icon.body
    transforms: list[str] = []
    if icon.h_flip:
        transforms.append(f"translate({w + 2 * icon.left:g} 0) scale(-1 1)")
    if icon.v_flip:
        transforms.append(f"translate(0 {h + 2 * icon.top:g}) scale(1 -1)")
    if icon.rotate:
        cx, cy = icon.left + w / 2, icon.top + h / 2
        transforms.append(f"rotate({90 * icon.rotate} {cx:g} {cy:g})")
    if transforms:
        body = f'<g transform="{" ".join(transforms)}">{body}</g>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:g}" height="{h:g}" '
        f'viewBox="{icon.left:g} {icon.top:g} {w:g} {h:g}">{body}</svg>'
    )


def license_from(spdx: str | None, title: str | None, url: str | None) -> License:
    """A licence record; attribution is required for CC BY (and relatives) or an unknown licence."""
    known_free = spdx is not None and not spdx.upper().startswith(ATTRIBUTION_SPDX_PREFIXES)
    return License(spdx=spdx, title=title or spdx or "unknown", url=url, requires_attribution=not known_free)


def parse_icon_set(data: dict[str, Any]) -> IconSet:
    info = data.get("info", {})
    lic = info.get("license", {})
    author = info.get("author", {})
    return IconSet(
        prefix=str(data["prefix"]),
        name=str(info.get("name", data["prefix"])),
        author=author.get("name"),
        author_url=author.get("url"),
        license=license_from(lic.get("spdx"), lic.get("title"), lic.get("url")),
        icons=dict(data["icons"]),
        aliases=dict(data.get("aliases", {})),
        width=float(data.get("width", 16)),
        height=float(data.get("height", 16)),
        categories={str(k): list(v) for k, v in data.get("categories", {}).items()},
        version=info.get("version"),
    )


def load_icon_set(path: Path) -> IconSet:
    try:
        return parse_icon_set(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssetError(f"icon set {path} cannot be read: {type(exc).__name__}") from None


@cache
def bundled_sets() -> tuple[IconSet, ...]:
    """The icon sets shipped as package data (loaded once per process)."""
    data = resources.files("c2v.assets") / "data"
    return tuple(
        parse_icon_set(json.loads((data / f"{p}.json").read_text(encoding="utf-8"))) for p in BUNDLED_SETS
    )
