"""The local asset cache: content-addressed files plus a name index, shared by every case.

Layout under the root (``$C2V_ASSETS_DIR``, else ``$XDG_CACHE_HOME/c2v/assets``, else
``~/.cache/c2v/assets``)::

    blobs/ab/ab12...ef.svg        the sanitised (or rasterised) file, named by its SHA-256
    names/auto/<sha256 of name>.json   what "magnifying glass" resolved to under --assets-source auto
    names/iconify/...                  ... under --assets-source iconify, and so on

Every file is written atomically (:mod:`c2v.core.fsio`), so render workers and concurrent runs
share one cache safely: two writers of one blob write the same bytes. A record whose blob is
gone or no longer matches its hash is treated as absent (and resolved again). Misses of kind
``not_found`` are remembered for :data:`MISS_TTL_S`, so a rerun asks no service again.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from c2v.assets.models import AssetFormat, AssetMiss, MissReason, ResolvedAsset, SourceChoice
from c2v.core.fsio import write_bytes_atomic, write_model_atomic
from c2v.models import Strict

CACHE_ENV = "C2V_ASSETS_DIR"
MISS_TTL_S = 24 * 3600.0


class _MissRecord(Strict):
    miss: AssetMiss
    checked_at: float


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "c2v" / "assets"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class AssetCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def blob_path(self, sha256: str, fmt: AssetFormat) -> Path:
        return self.root / "blobs" / sha256[:2] / f"{sha256}.{fmt.value}"

    def _record_path(self, element: str, choice: SourceChoice) -> Path:
        key = sha256_hex(element.encode("utf-8"))
        return self.root / "names" / choice.value / f"{key}.json"

    def put_blob(self, data: bytes, fmt: AssetFormat) -> tuple[Path, str]:
        """Store ``data`` (once; a damaged copy is replaced) and return its path and hash."""
        digest = sha256_hex(data)
        path = self.blob_path(digest, fmt)
        try:
            intact = sha256_hex(path.read_bytes()) == digest
        except OSError:
            intact = False
        if not intact:
            write_bytes_atomic(path, data)
        return path, digest

    def remember(self, asset: ResolvedAsset, choice: SourceChoice) -> None:
        write_model_atomic(self._record_path(asset.element, choice), asset)

    def remember_miss(self, miss: AssetMiss, choice: SourceChoice) -> None:
        if miss.reason is MissReason.not_found:
            write_model_atomic(
                self._record_path(miss.element, choice), _MissRecord(miss=miss, checked_at=time.time())
            )

    def lookup(self, element: str, choice: SourceChoice) -> ResolvedAsset | AssetMiss | None:
        """The remembered answer for ``element``, or ``None`` (absent, stale, or damaged)."""
        path = self._record_path(element, choice)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        try:
            asset = ResolvedAsset.model_validate_json(text)
        except ValidationError:
            try:
                record = _MissRecord.model_validate_json(text)
            except ValidationError:
                return None
            fresh = time.time() - record.checked_at < MISS_TTL_S
            return record.miss if fresh and record.miss.element == element else None
        blob = self.blob_path(asset.sha256, asset.format)
        try:
            intact = sha256_hex(blob.read_bytes()) == asset.sha256
        except OSError:
            return None
        if not intact or asset.element != element:
            return None
        return asset.model_copy(update={"path": str(blob), "from_cache": True})
