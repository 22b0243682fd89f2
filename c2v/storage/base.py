"""What every storage backend shares: the protocol, its result, and what a case publishes.

A published case is read by people and programs that trust its ``manifest.json``: every
backend writes the other files first and the manifest last, and removes the previous
manifest before it replaces any file, so a manifest only ever names complete files.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from c2v.assets.attribution import ATTRIBUTION_FILE
from c2v.case import MANIFEST_FILE, CaseDir
from c2v.core.fsio import write_model_atomic
from c2v.errors import CaseFileError, ConfigError, StorageError
from c2v.models import Manifest, Publication, PublishedObject

MANIFEST = MANIFEST_FILE
_SECTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".json": "application/json",
    ".py": "text/x-python; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}


class PublishedCase(Publication):
    """What ``publish_case`` returns: the publication, and whether files were copied."""

    copied: bool

    def publication(self) -> Publication:
        return Publication.model_validate(self.model_dump(exclude={"copied"}))


@runtime_checkable
class Storage(Protocol):
    def describe(self) -> str:
        """Where cases go, for logs and the manifest; never credentials."""
        ...

    def publish_case(self, case_root: Path, batch: str, slug: str) -> PublishedCase:
        """Publish a finished case folder as ``<batch>/<slug>/`` and return what was published."""
        ...

    def link(self, key: str) -> str | None:
        """A download link for the published object ``key``, signed now; None where the
        storage is a file system (whoever serves the file reads it from there)."""
        ...


def published_video(objects: list[PublishedObject]) -> PublishedObject | None:
    """The stitched video among a publication's objects (None: the case had none)."""
    return next((o for o in objects if o.name == "video.mp4"), None)


@dataclass(frozen=True)
class CaseFile:
    name: str  # path relative to the case folder, "/"-separated: also the published name
    source: Path
    content_type: str


@dataclass(frozen=True)
class CasePlan:
    """The files of one finished case, read from its manifest (the manifest itself not included)."""

    root: Path
    manifest: Manifest
    files: list[CaseFile]

    @property
    def manifest_path(self) -> Path:
        return CaseDir(self.root).manifest


def check_component(value: str, what: str) -> str:
    """A batch name or slug becomes one path component (and one S3 key segment): no traversal."""
    text = unicodedata.normalize("NFC", value)
    bad = (
        not text
        or text in {".", ".."}
        or len(text) > 120
        or any(ch in text for ch in "/\\")
        or any(unicodedata.category(ch).startswith(("C", "Z")) for ch in text)
    )
    if bad:
        raise ConfigError(
            f"{what} {value!r} cannot name a published folder: use letters, digits, '.', '_', '-'"
        )
    return text


def plan_case(case_root: Path) -> CasePlan:
    """Read the case's manifest and list the files it publishes; a missing file stops the publish."""
    case = CaseDir(case_root.resolve())
    root = case.root
    try:
        manifest = case.read_manifest()
    except CaseFileError as exc:
        raise StorageError(f"cannot publish {root}: {exc.name} {exc.reason}") from exc
    if manifest is None:
        raise StorageError(f"cannot publish {root}: it has no {MANIFEST} (the run did not finish)")

    files: list[CaseFile] = []
    if manifest.video:
        files.append(_case_file(case, case.rel(case.video), manifest.video))
    files.append(_case_file(case, case.rel(case.storyboard), case.rel(case.storyboard)))
    files.append(_case_file(case, case.rel(case.outline), case.rel(case.outline)))
    if manifest.assets:  # icons travel with their credits, or the case is not published
        files.append(_case_file(case, ATTRIBUTION_FILE, ATTRIBUTION_FILE))
    for section in manifest.sections:
        if not section.video:
            continue
        if not _SECTION_ID.match(section.id):
            raise StorageError(f"cannot publish {root}: section id {section.id!r} is not a safe name")
        # Published beside its frozen code, under the section's id (the case keeps it in its render cache).
        files.append(_case_file(case, f"sections/{section.id}/video.mp4", section.video))
        if case.has_final(section.id):
            final = case.rel(case.final_code(section.id))
            files.append(_case_file(case, final, final))
    return CasePlan(root=root, manifest=manifest, files=files)


def _case_file(case: CaseDir, name: str, relative: str) -> CaseFile:
    source = case.resolved(relative)
    if source is None:
        raise StorageError(f"cannot publish {case.root}: {relative!r} points outside the case folder")
    if not source.is_file():
        raise StorageError(f"cannot publish {case.root}: {relative} is missing")
    return CaseFile(name=name, source=source, content_type=content_type(name))


def content_type(name: str) -> str:
    return _CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def forget_publication(plan: CasePlan, location: str) -> None:
    """Drop the case's record of a publication at ``location`` once its manifest is removed.

    Called when a new publish to the same place begins, so that ``c2v status`` never shows
    links to a publication that a failed republish left without its manifest.
    """
    if plan.manifest.published is None or plan.manifest.published.location != location:
        return
    try:
        write_model_atomic(plan.manifest_path, plan.manifest.model_copy(update={"published": None}))
    except OSError as exc:
        raise StorageError(f"cannot update {plan.manifest_path}: {exc.strerror}") from exc


def published_manifest(plan: CasePlan, publication: Publication) -> Manifest:
    return plan.manifest.model_copy(update={"published": publication})


def manifest_bytes(manifest: Manifest) -> bytes:
    """The same bytes ``write_model_atomic`` writes, so local and published copies compare equal."""
    return (manifest.model_dump_json(indent=2) + "\n").encode("utf-8")
