"""Element name in, a file out: cache, bundled set, Iconify, IconFinder, first hit wins.

:meth:`AssetResolver.resolve` never raises for anything a source, a file or the network can
do: the answer is then an :class:`AssetMiss` whose one-line ``detail`` says what each source
said. A source that cannot be reached (connection refused, 5xx or 429 on every try) is not
asked again by the same resolver, so an offline machine pays the connect timeout once.
Every file is checked by :mod:`c2v.assets.svgsafe` before it is stored, and rasterised when
Manim cannot draw it faithfully.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from types import TracebackType

import httpx2
import structlog

from c2v.assets.cache import AssetCache
from c2v.assets.http import make_client
from c2v.assets.iconfinder import IconFinderSource
from c2v.assets.iconify import IconifySource
from c2v.assets.iconset import IconSet, bundled_sets
from c2v.assets.index import IconIndex
from c2v.assets.models import (
    MAX_ELEMENT_CHARS,
    AssetFormat,
    AssetMiss,
    AssetResult,
    AssetSource,
    Candidate,
    MissReason,
    ResolvedAsset,
    normalise_element,
)
from c2v.assets.raster import rasterise
from c2v.assets.remote import Fetched, RemoteSource, credit
from c2v.assets.settings import AssetSettings
from c2v.assets.svgsafe import MAX_SIDE, sanitize_svg
from c2v.errors import AssetError, AssetServiceUnavailable, UnsafeAssetError

log = structlog.get_logger("c2v.assets")

#: A bundled match below this score is no match ("binary" should not pick a random icon).
MIN_BUNDLED_SCORE = 40.0
MAX_PNG_BYTES = 5_000_000


class AssetResolver:
    def __init__(
        self,
        settings: AssetSettings,
        client: httpx2.Client | None = None,
        sets: tuple[IconSet, ...] | None = None,
    ) -> None:
        self.settings = settings
        self.cache = AssetCache(settings.cache_dir)
        self._sets = sets if sets is not None else bundled_sets()
        self._index = IconIndex(self._sets)
        self._own_client = client is None
        self._client = client if client is not None else make_client(settings)
        self._down: dict[AssetSource, str] = {}  # sources that could not be reached, and why

    def __enter__(self) -> AssetResolver:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    # -- the interface --------------------------------------------------------------------
    def resolve(self, element: str) -> AssetResult:
        name = normalise_element(element)
        if not name or len(name) > MAX_ELEMENT_CHARS or not any(c.isalpha() for c in name):
            return AssetMiss(
                element=element[:MAX_ELEMENT_CHARS], reason=MissReason.bad_name, detail="not a short name"
            )
        remembered = self.cache.lookup(name, self.settings.choice)
        if remembered is not None:
            return remembered
        notes: list[tuple[MissReason, str]] = []
        for source in self.settings.choice.sources():
            try:
                for fetched in self._fetch(source, name, notes):
                    try:
                        asset = self._store(name, fetched)
                    except UnsafeAssetError as exc:
                        notes.append((MissReason.unsafe, str(exc)))
                        log.warning("asset_refused", element=name, icon=fetched.icon_id, reason=str(exc))
                        continue
                    except ValueError as exc:  # the licence asks for a credit the source did not give
                        notes.append((MissReason.licence, f"{fetched.icon_id}: {exc}"))
                        continue
                    self.cache.remember(asset, self.settings.choice)
                    return asset
            except AssetServiceUnavailable as exc:
                self._down[source] = str(exc)
                notes.append((MissReason.unavailable, str(exc)))
            except AssetError as exc:
                notes.append((MissReason.not_found, str(exc)))
            except OSError as exc:
                notes.append(
                    (MissReason.unavailable, f"asset cache {self.settings.cache_dir}: {exc.strerror}")
                )
        miss = _miss(name, notes)
        if {r for r, _ in notes} <= {MissReason.not_found}:  # every source was asked and said no
            self.cache.remember_miss(miss, self.settings.choice)
        log.info("asset_miss", element=name, reason=miss.reason.value, detail=miss.detail)
        return miss

    def resolve_all(self, elements: Iterable[str]) -> list[AssetResult]:
        return [self.resolve(e) for e in elements]

    def search(self, element: str, limit: int = 10) -> list[Candidate]:
        """Ranked candidates of the bundled set, with no download (for ``c2v assets search``)."""
        return self._index.search(normalise_element(element), limit)

    # -- sources --------------------------------------------------------------------------
    def _fetch(
        self, source: AssetSource, name: str, notes: list[tuple[MissReason, str]]
    ) -> Iterator[Fetched]:
        if source is AssetSource.bundled:
            yield from self._bundled(name, notes)
            return
        if not self.settings.online:
            notes.append((MissReason.disabled, f"{source.value}: offline (C2V_ASSETS_OFFLINE)"))
            return
        if source in self._down:
            notes.append((MissReason.unavailable, f"{source.value}: skipped, unreachable earlier"))
            return
        remote: RemoteSource
        if source is AssetSource.iconify:
            remote = IconifySource(self._client, self.settings)
        else:
            if self.settings.iconfinder_key is None:
                notes.append(
                    (MissReason.disabled, "iconfinder: no key (ICONFINDER_API_KEY or iconfinder.api_key)")
                )
                return
            remote = IconFinderSource(self._client, self.settings)
        found = False
        for fetched in remote.candidates(name):
            found = True
            yield fetched
        if not found:
            notes.append((MissReason.not_found, f"{source.value}: no match"))

    def _bundled(self, name: str, notes: list[tuple[MissReason, str]]) -> Iterator[Fetched]:
        by_prefix = {s.prefix: s for s in self._sets}
        good = [c for c in self._index.search(name, 3) if c.score >= MIN_BUNDLED_SCORE]
        if not good:
            notes.append((MissReason.not_found, "bundled: no match"))
        for cand in good:
            prefix, icon = cand.icon_id.split(":", 1)
            icon_set = by_prefix[prefix]
            url = icon_set.author_url
            yield Fetched(
                source=AssetSource.bundled,
                icon_id=cand.icon_id,
                data=icon_set.svg(icon).encode("utf-8"),
                is_svg=True,
                license=icon_set.license,
                author=icon_set.author,
                attribution=credit(f"{icon} ({icon_set.name})", icon_set.author, icon_set.license, url),
                original_url=url,
                score=cand.score,
            )

    def _store(self, name: str, fetched: Fetched) -> ResolvedAsset:
        rasterised = False
        if fetched.is_svg:
            clean = sanitize_svg(fetched.data, fetched.icon_id)
            if clean.raster:
                data, width, height = rasterise(clean)
                fmt, rasterised = AssetFormat.png, True
            else:
                data, fmt = clean.text.encode("utf-8"), AssetFormat.svg
                width, height = max(1, round(clean.width)), max(1, round(clean.height))
        else:
            width, height = png_size(fetched.data, fetched.icon_id)
            data, fmt = fetched.data, AssetFormat.png
        path, digest = self.cache.put_blob(data, fmt)
        return ResolvedAsset(
            element=name,
            path=str(path),
            sha256=digest,
            format=fmt,
            width=width,
            height=height,
            source=fetched.source,
            icon_id=fetched.icon_id,
            original_url=fetched.original_url,
            license=fetched.license,
            author=fetched.author,
            attribution=fetched.attribution,
            rasterised=rasterised,
            score=fetched.score,
        )


def png_size(data: bytes, origin: str) -> tuple[int, int]:
    """Width and height from a PNG's IHDR, refusing anything that is not a sane PNG."""
    if len(data) > MAX_PNG_BYTES:
        raise UnsafeAssetError(f"{origin}: PNG of {len(data)} bytes, more than {MAX_PNG_BYTES}")
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        raise UnsafeAssetError(f"{origin}: not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    if not 0 < width <= MAX_SIDE or not 0 < height <= MAX_SIDE:
        raise UnsafeAssetError(f"{origin}: PNG of {width}x{height} px, outside 1..{MAX_SIDE:g}")
    return width, height


_REASON_ORDER = (MissReason.unsafe, MissReason.licence, MissReason.unavailable, MissReason.not_found)


def _miss(name: str, notes: list[tuple[MissReason, str]]) -> AssetMiss:
    reasons = {r for r, _ in notes}
    reason = next(
        (r for r in _REASON_ORDER if r in reasons), MissReason.disabled if reasons else MissReason.not_found
    )
    detail = "; ".join(dict.fromkeys(text for _, text in notes)) or "no source was asked"
    return AssetMiss(element=name, reason=reason, detail=detail[:400])
