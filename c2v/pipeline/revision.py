"""A person's note on one section of a finished video: the Coder revises it, only it renders again.

The sections are taken from the case as the last run left them (frozen code, history and
final render of each). The noted section's code goes to the Coder with the note through the
critic loop's revision call (:func:`c2v.pipeline.critic_loop.ask_revision`, journaled), and
the revision is rendered at the final tier with the usual repair ladder. Its attempts are
appended to the section's history, so every version's code stays in its ``attempt-N.py``;
a revision that cannot be used or rendered is reverted, and the video keeps the old version.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import structlog

from c2v.case import CaseDir
from c2v.core.tiers import VideoFormat
from c2v.errors import C2VError, RevisionFailed, UsageError, one_line, stops_topic
from c2v.models import AttemptKind, Manifest, SectionStatus, Storyboard
from c2v.pipeline.critic_loop import Revision, ask_revision
from c2v.pipeline.sections import SectionRun, SectionRunner

log = structlog.get_logger("c2v.pipeline.revision")

#: How the note reaches the Coder: as the one issue its revision must fix.
NOTE_ISSUE = "A person who watched this section asks for this change: {note}"


def finished_sections(case: CaseDir) -> tuple[Storyboard, Manifest, list[SectionRun]]:
    """The storyboard, the manifest and the sections of the case's finished video."""
    manifest = case.load_manifest()
    if manifest is None or manifest.video is None or not case.storyboard.is_file():
        raise UsageError(f"{case.root} has no finished video to revise")
    board = Storyboard.model_validate_json(case.storyboard.read_text(encoding="utf-8"))
    records = {s.id: s for s in manifest.sections}
    runs = []
    for section in board.sections:
        record = records.get(section.id)
        if record is None:
            continue
        # The record names the final render's video, ``renders/<key>/video.mp4``.
        key = PurePosixPath(record.video).parent.name if record.video else None
        final = case.final_code(section.id)
        run = SectionRun.of(
            section,
            code=final.read_text(encoding="utf-8") if final.is_file() else "",
            history=case.load_history(section.id),
            final_key=key,
            result=case.load_render(key) if key else None,
            status=record.status if key else SectionStatus.failed,
        )
        runs.append(run)
    return board, manifest, runs


def revise(sections: SectionRunner, section_id: str, note: str, fmt: VideoFormat) -> None:
    """Revise one section with ``note`` and render it at ``fmt``; raises if it cannot be done."""
    run = next((r for r in sections.runs if r.id == section_id), None)
    if run is None or run.status is not SectionStatus.ok or not run.code:
        raise UsageError(f"section {section_id!r} has no rendered version in {sections.case.root} to revise")
    before = sections.checkpoint(run)
    sections.fmt = fmt
    problems: list[str] = []

    def unusable(exc: C2VError) -> None:
        if stops_topic(exc):
            raise exc
        problems.append(
            f"the Coder's revision of section {section_id} could not be used: {one_line(exc, 300)}"
        )

    sections.report.section(run.id, AttemptKind.note.value)
    revision = Revision(run.code, [NOTE_ISSUE.format(note=note)], len(run.history) + 1, AttemptKind.note)
    ask_revision(sections, sections.ctx.topic, run, revision, unusable)
    sections.drain()
    if not problems and run.status is not SectionStatus.ok:
        why = " ".join((run.result.message if run.result else "not rendered").split())[:300]
        problems.append(f"the revision of section {section_id} never rendered: {why}")
    if problems:
        sections.restore(run, before)
        log.warning("revision_failed", section=section_id, reason=problems[0])
        raise RevisionFailed(f"{problems[0]}; the video keeps the previous version")
    log.info("section_revised", section=section_id, attempts=len(run.history))
