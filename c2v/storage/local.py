"""Local publishing: the case folder itself (the default), or a copy into another folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import structlog

from c2v.core.fsio import atomic_writer, write_bytes_atomic, write_model_atomic
from c2v.errors import C2VError, StorageError
from c2v.models import Publication, PublishedObject
from c2v.storage.base import (
    MANIFEST,
    CasePlan,
    PublishedCase,
    check_component,
    forget_publication,
    manifest_bytes,
    now_utc,
    plan_case,
    published_manifest,
    published_video,
)
from c2v.storage.checksums import digest_file

log = structlog.get_logger("c2v.storage")
_BLOCK = 1024 * 1024


class LocalDefault:
    """No copy: the case folder in the output directory already is the published case.

    Nothing is written, not even the case manifest: the result only reports the files.
    """

    def describe(self) -> str:
        return "local (the case folder in the output directory)"

    def link(self, key: str) -> str | None:
        return None

    def publish_case(self, case_root: Path, batch: str, slug: str) -> PublishedCase:
        batch, slug = check_component(batch, "batch"), check_component(slug, "slug")
        plan = plan_case(case_root)
        objects = []
        for f in plan.files:
            try:
                digest = digest_file(f.source)
            except OSError as exc:
                raise StorageError(f"cannot read {f.source}: {exc.strerror}") from exc
            objects.append(
                PublishedObject(
                    name=f.name,
                    key=str(f.source),
                    size=digest.size,
                    sha256=digest.sha256,
                    url=f.source.as_uri(),
                )
            )
        return PublishedCase(
            **_publication(self.describe(), batch, slug, plan.root, plan.manifest_path, objects).model_dump(),
            copied=False,
        )


class DirectoryStorage:
    """Copies each case into ``<root>/<batch>/<slug>/``: temp file + rename, manifest last."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return self.root.as_uri()

    def link(self, key: str) -> str | None:
        return None

    def publish_case(self, case_root: Path, batch: str, slug: str) -> PublishedCase:
        batch, slug = check_component(batch, "batch"), check_component(slug, "slug")
        plan = plan_case(case_root)
        dest = self.root.resolve() / batch / slug
        if dest == plan.root or dest.is_relative_to(plan.root) or plan.root.is_relative_to(dest):
            raise StorageError(
                f"cannot publish {plan.root} into {dest}: the two folders overlap "
                "(leave --storage unset to publish the case folder itself)"
            )
        try:
            return self._copy(plan, dest, batch, slug)
        except C2VError:
            raise
        except OSError as exc:
            where = exc.filename or dest
            raise StorageError(
                f"cannot publish {plan.root} to {dest}: {where}: {exc.strerror or exc}"
            ) from exc

    def _copy(self, plan: CasePlan, dest: Path, batch: str, slug: str) -> PublishedCase:
        dest.mkdir(parents=True, exist_ok=True)
        # Unpublish first: the old manifest must not name files this run is about to replace.
        (dest / MANIFEST).unlink(missing_ok=True)
        forget_publication(plan, str(dest))
        objects = []
        for f in plan.files:
            target = dest / f.name
            size, sha256 = copy_atomic(f.source, target)
            objects.append(
                PublishedObject(name=f.name, key=str(target), size=size, sha256=sha256, url=target.as_uri())
            )
        publication = _publication(self.describe(), batch, slug, dest, dest / MANIFEST, objects)
        manifest = published_manifest(plan, publication)
        write_bytes_atomic(dest / MANIFEST, manifest_bytes(manifest))  # last: names complete files only
        write_model_atomic(plan.manifest_path, manifest)
        log.info("case published", location=str(dest), objects=len(objects))
        return PublishedCase(**publication.model_dump(), copied=True)


def copy_atomic(source: Path, target: Path) -> tuple[int, str]:
    """Copy through a hidden ``.part`` file renamed into place; returns (size, sha256 hex)."""
    sha = hashlib.sha256()
    size = 0
    with atomic_writer(target) as out, source.open("rb") as inp:
        while block := inp.read(_BLOCK):
            sha.update(block)
            out.write(block)
            size += len(block)
    return size, sha.hexdigest()


def _publication(
    storage: str, batch: str, slug: str, location: Path, manifest: Path, objects: list[PublishedObject]
) -> Publication:
    video = published_video(objects)
    return Publication(
        storage=storage,
        batch=batch,
        slug=slug,
        location=str(location),
        manifest_key=str(manifest),
        manifest_url=manifest.as_uri(),
        video_url=video.url if video else None,
        objects=objects,
        published_at=now_utc().isoformat(),
    )
