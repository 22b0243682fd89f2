"""What a remote icon source hands the resolver: downloaded bytes with their licence."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from c2v.assets.models import AssetSource
from c2v.models import License


@dataclass(frozen=True)
class Fetched:
    source: AssetSource
    icon_id: str
    data: bytes
    is_svg: bool  # else a PNG
    license: License
    author: str | None
    attribution: str
    original_url: str | None
    score: float


class RemoteSource(Protocol):
    source: AssetSource

    def candidates(self, element: str) -> Iterator[Fetched]:
        """Downloaded matches for ``element``, best first; raises AssetFetchError when the
        service fails (the resolver then moves on)."""
        ...


def credit(title: str, author: str | None, license: License, url: str | None) -> str:
    """One attribution line: '"Coin" by Microsoft, from Fluent Emoji Flat (MIT)'."""
    parts = [f'"{title}"']
    if author:
        parts.append(f"by {author}")
    lic = license.title + (f", {license.url}" if license.url else "")
    line = " ".join(parts) + f" ({lic})"
    return line + (f", {url}" if url else "")
