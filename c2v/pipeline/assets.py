"""A run's icons: each section's visual elements resolved once, on the driver, before coding.

Hits become files the sandbox gets (``assets/<file name>``, bytes in the render request, so
no host path ever reaches a render worker or the sandbox) and names the Coder is told; misses
are dropped from the prompt with a note in the section's manifest record, never a failure.
The manifest credits every asset, and ``ATTRIBUTION.md`` is written beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from c2v.assets import (
    AssetMiss,
    AssetResolver,
    MissReason,
    ResolvedAsset,
    SourceChoice,
    attribution_markdown,
    resolve_asset_settings,
)
from c2v.assets.attribution import ATTRIBUTION_FILE
from c2v.assets.cache import sha256_hex
from c2v.core.fsio import write_text_atomic
from c2v.models import (
    AssetCredit,
    AssetNote,
    RenderAsset,
    SectionImage,
    StoryboardSection,
)

log = structlog.get_logger("c2v.assets")


@dataclass(frozen=True)
class SectionAssets:
    """What one section gets: the images the Coder is told of, their files, and the misses."""

    images: list[SectionImage] = field(default_factory=list)
    files: list[RenderAsset] = field(default_factory=list)
    misses: list[AssetNote] = field(default_factory=list)


NO_ASSETS = SectionAssets()


def credit_of(asset: ResolvedAsset) -> AssetCredit:
    """The manifest's record of an asset: everything but the host path."""
    shared = set(AssetCredit.model_fields) - {"file"}
    return AssetCredit.model_validate(
        {**asset.model_dump(mode="json", include=shared), "file": asset.file_name}
    )


class RunAssets:
    """Resolves every section's elements with one resolver, and remembers what the run used."""

    def __init__(self, open_resolver: Callable[[], AssetResolver]) -> None:
        self._open = open_resolver
        self.used: dict[str, ResolvedAsset] = {}  # by file name

    @classmethod
    def from_settings(cls, choice: SourceChoice) -> RunAssets:
        return cls(lambda: AssetResolver(resolve_asset_settings(choice)))

    def for_sections(self, boards: list[StoryboardSection]) -> dict[str, SectionAssets]:
        if not any(b.visual_elements for b in boards):
            return {b.id: NO_ASSETS for b in boards}
        with self._open() as resolver:
            return {b.id: self._section(resolver, b) for b in boards}

    def _section(self, resolver: AssetResolver, board: StoryboardSection) -> SectionAssets:
        out = SectionAssets()
        for element in board.visual_elements:
            result = resolver.resolve(element.name)
            data = _read(result) if isinstance(result, ResolvedAsset) else None
            if not isinstance(result, ResolvedAsset) or data is None:
                miss = result if isinstance(result, AssetMiss) else _gone(element.name)
                out.misses.append(
                    AssetNote(element=element.name, reason=miss.reason.value, detail=miss.detail)
                )
                log.warning("asset_miss", section=board.id, element=element.name, reason=miss.reason.value)
                continue
            name = result.file_name
            if any(f.name == name for f in out.files):
                continue
            out.files.append(RenderAsset(name=name, sha256=result.sha256, data=data))
            out.images.append(SectionImage(file=name, element=element.name, purpose=element.purpose))
            self.used[name] = result
            log.info("asset", section=board.id, element=element.name, file=name, source=result.source.value)
        return out

    def credits(self) -> list[AssetCredit]:
        return [credit_of(a) for _, a in sorted(self.used.items())]

    def write_attribution(self, case_root: Path, title: str) -> Path | None:
        """``ATTRIBUTION.md`` in the case folder when the run used any asset."""
        if not self.used:
            return None
        path = case_root / ATTRIBUTION_FILE
        write_text_atomic(path, attribution_markdown(self.used.values(), title=title))
        return path


def _read(asset: ResolvedAsset) -> bytes | None:
    """The asset's bytes from the cache, checked against its hash (None if gone or changed)."""
    try:
        data = Path(asset.path).read_bytes()
    except OSError:
        return None
    return data if sha256_hex(data) == asset.sha256 else None


def _gone(element: str) -> AssetMiss:
    return AssetMiss(
        element=element, reason=MissReason.unavailable, detail="the cached file is gone or changed"
    )
