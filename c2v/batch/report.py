"""The record of a batch: ``<output>/<prefix>/batch.json`` and its markdown table ``batch.md``.

``c2v batch`` rewrites both atomically whenever a topic starts or finishes, so ``c2v status``
(or anyone reading the folder) sees the batch's progress while it runs, and a resumed batch
knows which topics were published where.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pydantic import Field, ValidationError

from c2v.core.fsio import write_model_atomic, write_text_atomic
from c2v.models import Manifest, SectionStatus, Strict

BATCH_JSON = "batch.json"
BATCH_MD = "batch.md"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class TopicState(StrEnum):
    pending = "pending"
    running = "running"
    ok = "ok"
    partial = "partial"  # --allow-partial: a video without some sections
    failed = "failed"

    def is_done(self) -> bool:
        return self in {TopicState.ok, TopicState.partial, TopicState.failed}

    def is_failure(self) -> bool:
        return self is TopicState.failed


class TopicRecord(Strict):
    """One topic of a batch: what happened to it and where its video is."""

    index: int = Field(ge=1)
    topic: str
    slug: str
    status: TopicState = TopicState.pending
    #: True when the case was already finished before this run (nothing was asked or rendered).
    resumed: bool = False
    sections_ok: int = 0
    sections_total: int = 0
    attempts: int = 0  # render attempts over all sections (repairs included)
    llm_calls: int = 0  # this run
    llm_calls_reused: int = 0
    renders: int = 0  # this run
    renders_reused: int = 0
    tokens: int = 0  # over the case's whole life
    cost_usd: float = 0.0
    seconds: float = 0.0  # this run's wall time for the topic (the first run's when resumed)
    video: str | None = None  # relative to the batch folder
    link: str | None = None  # where the published video can be fetched
    published_to: str | None = None  # the --storage URL it was published to
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None

    def with_manifest(self, manifest: Manifest, case_rel: str) -> TopicRecord:
        """This record with the counts of ``manifest`` (the case's ``manifest.json``)."""
        ok = sum(1 for s in manifest.sections if s.status is SectionStatus.ok)
        return self.model_copy(
            update={
                "sections_ok": ok,
                "sections_total": len(manifest.sections) + _unplanned(manifest),
                "attempts": sum(s.attempts for s in manifest.sections),
                "llm_calls": manifest.this_run.llm_calls,
                "llm_calls_reused": manifest.this_run.llm_calls_reused,
                "renders": manifest.this_run.renders,
                "renders_reused": manifest.this_run.renders_reused,
                "tokens": manifest.tokens.total,
                "cost_usd": manifest.tokens.cost_usd,
                "video": f"{case_rel}/{manifest.video}" if manifest.video else None,
            }
        )


def _unplanned(manifest: Manifest) -> int:
    """Sections the storyboard has but the manifest could not list (no code for them)."""
    listed = {s.id for s in manifest.sections}
    return sum(1 for m in manifest.missing_sections if m not in listed)


class BatchCounts(Strict):
    total: int = 0
    ok: int = 0
    partial: int = 0
    failed: int = 0
    running: int = 0
    pending: int = 0


class BatchReport(Strict):
    batch_id: str
    topics_file: str
    folder_prefix: str
    api: str
    tier: str
    orientation: str
    parallel_groups: int
    storage: str | None = None
    started_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    finished: bool = False
    seconds: float = 0.0
    topics: list[TopicRecord] = Field(default_factory=list)

    def counts(self) -> BatchCounts:
        counts = BatchCounts(total=len(self.topics))
        for t in self.topics:
            setattr(counts, t.status.value, getattr(counts, t.status.value) + 1)
        return counts

    def failed(self) -> bool:
        return any(t.status.is_failure() for t in self.topics)

    def record(self, slug: str) -> TopicRecord | None:
        for t in self.topics:
            if t.slug == slug:
                return t
        return None


# --- reading and writing -----------------------------------------------------------------
def write_report(folder: Path, report: BatchReport) -> None:
    """``batch.json`` and ``batch.md``, each replaced atomically (json last: it is the record)."""
    write_text_atomic(folder / BATCH_MD, markdown(report))
    write_model_atomic(folder / BATCH_JSON, report)


def load_report(folder: Path) -> BatchReport | None:
    """The batch record in ``folder``, or None when there is none (or it is unreadable)."""
    try:
        return BatchReport.model_validate_json((folder / BATCH_JSON).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, ValidationError):
        return None


# --- the markdown table ------------------------------------------------------------------
_STATUS_MARK = {
    TopicState.ok: "ok",
    TopicState.partial: "partial",
    TopicState.failed: "FAILED",
    TopicState.running: "running",
    TopicState.pending: "pending",
}


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_line(report: BatchReport) -> str:
    c = report.counts()
    parts = [f"{c.ok} ok"]
    if c.partial:
        parts.append(f"{c.partial} partial")
    parts.append(f"{c.failed} failed")
    if c.running:
        parts.append(f"{c.running} running")
    if c.pending:
        parts.append(f"{c.pending} pending")
    state = "finished" if report.finished else "in progress"
    sections_ok = sum(t.sections_ok for t in report.topics)
    sections = sum(t.sections_total for t in report.topics)
    tokens = sum(t.tokens for t in report.topics)
    return (
        f"batch {report.batch_id} ({state}): {c.total} topics, {', '.join(parts)}; "
        f"{sections_ok}/{sections} sections ok, {tokens} tokens"
    )


def markdown_table(report: BatchReport) -> str:
    head = "| # | topic | status | sections | attempts | tokens | seconds | video | error |"
    rule = "|---:|---|---|---:|---:|---:|---:|---|---|"
    rows = [head, rule]
    for t in report.topics:
        status = _STATUS_MARK[t.status] + (" (resumed)" if t.resumed else "")
        sections = f"{t.sections_ok}/{t.sections_total}" if t.sections_total else "-"
        video = t.link or t.video or "-"
        rows.append(
            f"| {t.index} | {_cell(t.topic)} | {status} | {sections} | {t.attempts} | {t.tokens} | "
            f"{t.seconds:.1f} | {_cell(video)} | {_cell(_short(t.error or ''))} |"
        )
    return "\n".join(rows) + "\n"


def markdown(report: BatchReport) -> str:
    lines = [
        f"# Batch {report.batch_id}",
        "",
        f"- topics file: `{report.topics_file}`",
        f"- provider: {report.api}, tier {report.tier} {report.orientation}, "
        f"{report.parallel_groups} topic(s) in flight",
    ]
    if report.storage:
        lines.append(f"- published to: {report.storage}")
    lines += [f"- {summary_line(report)}", f"- updated: {report.updated_at}", "", markdown_table(report)]
    return "\n".join(lines)
