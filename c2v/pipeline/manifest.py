"""The manifest of a run, built from what the run did (the sections, rounds, calls and clocks)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from c2v import __version__
from c2v.case import CallRecord, CaseDir
from c2v.core.tiers import VideoFormat
from c2v.llm.prices import Price
from c2v.models import FeedbackRound, Manifest, RunCounters, SectionRecord, Timings
from c2v.pipeline.sections import SectionRun
from c2v.tokens import token_totals
from sandbox.render import manim_version


class StageClock:
    """Wall-clock seconds per stage; stages never overlap, so they add up to at most the total."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.timings = Timings()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.monotonic()
        try:
            yield
        finally:
            setattr(self.timings, name, round(getattr(self.timings, name) + time.monotonic() - t0, 3))

    def close(self, coder_task_s: float, render_task_s: float) -> Timings:
        self.timings.total = round(time.monotonic() - self.started, 3)
        self.timings.coder_task_s = round(coder_task_s, 3)
        self.timings.render_task_s = round(render_task_s, 3)
        return self.timings


@dataclass(frozen=True)
class RunFacts:
    """Everything of a run that a manifest reports, gathered by the driver."""

    topic: str
    provider: str
    final: VideoFormat
    preview: VideoFormat | None  # None when the critic loop was off
    runs: list[SectionRun]
    missing: list[str]
    rounds: list[FeedbackRound]
    calls: list[CallRecord]
    prices: Mapping[str, Price] | None
    timings: Timings
    counters: RunCounters
    video: str | None
    duration_s: float | None
    normalised: list[str]


def section_records(case: CaseDir, runs: list[SectionRun]) -> list[SectionRecord]:
    records = []
    for r in runs:
        result = case.load_render(r.final_key) if r.final_key else None
        records.append(
            SectionRecord(
                id=r.id,
                title=r.board.title,
                status=r.status,
                attempts=len(r.history),
                video=case.rel(case.render_video(r.final_key)) if r.final_key else None,
                duration_s=result.video_duration_s if result else None,
                layout_issues=result.layout_issues if result else [],
                history=r.history,
                assets=[f.name for f in r.assets.files],
                asset_misses=r.assets.misses,
                chunks=r.chunks,
                chunk_note=r.chunk_note,
            )
        )
    return records


def build_manifest(case: CaseDir, facts: RunFacts) -> Manifest:
    fmt = facts.final
    return Manifest(
        topic=facts.topic,
        slug=case.root.name,
        provider=facts.provider,
        model=",".join(sorted({r.model for c in facts.calls for r in c.replies})),
        tier=fmt.tier,
        orientation=fmt.orientation,
        width=fmt.width,
        height=fmt.height,
        fps=fmt.fps,
        sections=section_records(case, facts.runs),
        missing_sections=facts.missing,
        preview_tier=facts.preview.tier if facts.preview else None,
        feedback=facts.rounds,
        normalised=facts.normalised,
        tokens=token_totals(facts.calls, facts.prices),
        timings_s=facts.timings,
        this_run=facts.counters,
        video=facts.video,
        video_duration_s=facts.duration_s,
        manim_version=manim_version(),
        c2v_version=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
