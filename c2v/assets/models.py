"""The typed contract of asset resolution: an element name in, a resolved asset or a miss out.

Everything here crosses a boundary (the cache index on disk, the case manifest, the render
work dir), so it is a strict pydantic model. A :class:`ResolvedAsset` always carries what its
licence asks for: :class:`License.requires_attribution` licences come with a non-empty
attribution, or the asset is not built at all (the validator refuses it).
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, model_validator

from c2v.models import License, Strict

#: Element names are short English phrases: "magnifying glass", "coin", "planet".
MAX_ELEMENT_CHARS = 60
_WORD = re.compile(r"[a-z0-9]+")


class AssetSource(StrEnum):
    """Where a resolved asset came from; ``cache`` is never stored, only reported."""

    bundled = "bundled"
    iconify = "iconify"
    iconfinder = "iconfinder"


class SourceChoice(StrEnum):
    """``--assets-source``: one source only, or every available one in order (``auto``)."""

    auto = "auto"
    bundled = "bundled"
    iconify = "iconify"
    iconfinder = "iconfinder"

    def sources(self) -> tuple[AssetSource, ...]:
        if self is SourceChoice.auto:
            return (AssetSource.bundled, AssetSource.iconify, AssetSource.iconfinder)
        return (AssetSource(self.value),)


class AssetFormat(StrEnum):
    svg = "svg"  # sanitised, drawn by Manim's SVGMobject
    png = "png"  # rasterised on the host (gradients, filters), drawn by ImageMobject


class MissReason(StrEnum):
    bad_name = "bad_name"  # empty, too long, or no letters
    not_found = "not_found"  # no source had a match
    unsafe = "unsafe"  # every match was refused by the SVG checks
    licence = "licence"  # matches had no usable licence or lacked a required attribution
    unavailable = "unavailable"  # a source could not be reached or kept failing
    disabled = "disabled"  # the chosen source is not configured (no IconFinder key)


class ResolvedAsset(Strict):
    """One element's picture, stored in the content-addressed cache."""

    element: str  # the element name as asked, normalised (see :func:`normalise_element`)
    path: str  # absolute path of the file in the cache
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")  # of the file's bytes (the cache key)
    format: AssetFormat
    width: int = Field(gt=0)  # intrinsic size in px (SVG viewBox, or the PNG)
    height: int = Field(gt=0)
    source: AssetSource
    from_cache: bool = False  # this answer came from the cache, not from ``source`` now
    icon_id: str  # the source's own name: "fluent-emoji-flat:magnifying-glass-tilted-left"
    original_url: str | None = None
    license: License
    author: str | None = None
    attribution: str  # one line, ready for ATTRIBUTION.md and the manifest
    rasterised: bool = False  # an SVG that Manim cannot draw faithfully, turned into PNG
    score: float = 0.0  # how well the name matched (0-100), for logs and `c2v assets search`

    @model_validator(mode="after")
    def _attribution_when_required(self) -> ResolvedAsset:
        if self.license.requires_attribution and not self.attribution.strip():
            raise ValueError(f"{self.icon_id}: licence {self.license.title} requires an attribution")
        return self

    @property
    def file_name(self) -> str:
        """A stable, sandbox-safe name for the render work dir: ``<slug>-<hash8>.<ext>``."""
        slug = "-".join(_WORD.findall(self.element.lower()))[:40] or "asset"
        return f"{slug}-{self.sha256[:8]}.{self.format.value}"


class AssetMiss(Strict):
    """An element no source could supply; the section goes on without it."""

    element: str
    reason: MissReason
    detail: str  # one line, no secret: what was tried and why it failed


class Candidate(Strict):
    """One ranked match of a search, before anything is downloaded."""

    source: AssetSource
    icon_id: str
    score: float
    matched: list[str] = Field(default_factory=list)  # the words or synonyms that matched


AssetResult = ResolvedAsset | AssetMiss


def normalise_element(name: str) -> str:
    """Lower case, words of letters and digits joined by single spaces."""
    return " ".join(_WORD.findall(name.lower()))
