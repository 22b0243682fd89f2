"""``c2v status PATH``: a batch's table (``batch.json``) or a case's sections (``manifest.json``).

Reads only files: it works while a batch runs (``batch.json`` is rewritten as topics start
and finish; a running topic's sections are counted from its case folder), after it ended,
and on a copy of the output folder.
"""

from __future__ import annotations

from pathlib import Path

from c2v.batch.report import (
    BATCH_JSON,
    BatchReport,
    TopicRecord,
    TopicState,
    load_report,
    markdown_table,
    summary_line,
)
from c2v.case import CaseDir
from c2v.errors import CaseFileError, UsageError
from c2v.models import Manifest, SectionStatus, Storyboard


def status_text(path: Path) -> str:
    """What ``c2v status`` prints for ``path`` (a batch folder, its batch.json, or a case folder)."""
    folder = path.parent if path.is_file() else path
    if not folder.is_dir():
        raise UsageError(f"{path} does not exist")
    report = load_report(folder)
    if report is not None:
        return batch_text(folder, report)
    case = CaseDir(folder)
    manifest = _manifest(case)
    if manifest is not None:
        return case_text(folder, manifest)
    if case.is_started():
        return running_case_text(folder)
    if (folder / BATCH_JSON).is_file():
        raise UsageError(f"{folder / BATCH_JSON} is not a c2v batch record")
    raise UsageError(f"{path} is neither a c2v batch folder (batch.json) nor a case folder (manifest.json)")


def raw_json(path: Path) -> str:
    """The batch's ``batch.json`` or the case's ``manifest.json``, as stored."""
    folder = path.parent if path.is_file() else path
    for stored in (folder / BATCH_JSON, CaseDir(folder).manifest):
        if stored.is_file():
            return stored.read_text(encoding="utf-8")
    raise UsageError(f"{path} has no batch.json or manifest.json")


def _manifest(case: CaseDir) -> Manifest | None:
    try:
        return case.read_manifest()
    except CaseFileError as exc:
        raise UsageError(str(exc)) from None


# --- a batch -----------------------------------------------------------------------------
def batch_text(folder: Path, report: BatchReport) -> str:
    shown = report.model_copy(
        update={
            "topics": [
                _live(folder / t.slug, t) if t.status is TopicState.running else t for t in report.topics
            ]
        }
    )
    return f"{markdown_table(shown)}\n{summary_line(shown)}\nupdated {report.updated_at}\n"


def _live(case_root: Path, record: TopicRecord) -> TopicRecord:
    """A running topic's record with its sections counted from the case folder so far."""
    total, ok, attempts = _case_progress(case_root)
    if total == 0:
        return record
    return record.model_copy(update={"sections_total": total, "sections_ok": ok, "attempts": attempts})


def _case_progress(case_root: Path) -> tuple[int, int, int]:
    """Sections planned, sections with frozen code, render attempts: from the case's files."""
    case = CaseDir(case_root)
    board = _storyboard(case)
    if board is None:
        return 0, 0, 0
    ok = sum(1 for s in board.sections if case.has_final(s.id))
    attempts = sum(len(case.load_history(s.id)) for s in board.sections)
    return len(board.sections), ok, attempts


def _storyboard(case: CaseDir) -> Storyboard | None:
    """The storyboard, or None while there is none (or a half-upgraded case holds another)."""
    try:
        return case.read_storyboard()
    except CaseFileError:
        return None


# --- a case ------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def case_text(root: Path, m: Manifest) -> str:
    rows = [
        "| section | title | status | attempts | seconds | layout issues |",
        "|---|---|---|---:|---:|---:|",
    ]
    for s in m.sections:
        duration = f"{s.duration_s:.1f}" if s.duration_s is not None else "-"
        rows.append(
            f"| {s.id} | {_cell(s.title)} | {s.status.value} | {s.attempts} | {duration} "
            f"| {len(s.layout_issues)} |"
        )
    ok = sum(1 for s in m.sections if s.status is SectionStatus.ok)
    lines = [
        f"{m.topic} ({m.slug}): {ok}/{len(m.sections)} sections ok, {m.width}x{m.height}@{m.fps}, "
        f"{m.tokens.total} tokens",
        "",
        *rows,
        "",
        f"video: {CaseDir(root).path(m.video)}" if m.video else "video: (none)",
    ]
    if m.missing_sections:
        lines.append(f"missing: sections {', '.join(m.missing_sections)}")
    published = getattr(m, "published", None)
    if published is not None:
        lines.append(f"published: {published.video_url or published.location}")
    run = m.this_run
    lines.append(
        f"last run: {run.llm_calls} LLM calls ({run.llm_calls_reused} reused), "
        f"{run.renders} renders ({run.renders_reused} reused), {m.timings_s.total:.1f} s"
    )
    return "\n".join(lines) + "\n"


def running_case_text(root: Path) -> str:
    case = CaseDir(root)
    board = _storyboard(case)
    if board is None:
        return f"{root.name}: planning (no storyboard yet)\n"
    rows = ["| section | title | status | attempts |", "|---|---|---|---:|"]
    for s in board.sections:
        history = case.load_history(s.id)
        if case.has_final(s.id):
            state = "ok"
        elif history:
            state = f"repairing ({history[-1].status.value})"
        else:
            state = "coding"
        rows.append(f"| {s.id} | {_cell(s.title)} | {state} | {len(history)} |")
    total, ok, _ = _case_progress(root)
    return (
        f"{board.topic} ({root.name}): in progress, {ok}/{total} sections rendered\n\n"
        + "\n".join(rows)
        + "\n"
    )
