"""``c2v report PATH``: one self-contained ``report.html`` for a case or a batch.

Everything the page shows is inside it (keyframes as JPEG data URIs, plots as SVG data
URIs, no scripts, no fonts or styles fetched), so it opens from the file system with no
server. Videos are linked by relative path.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import jinja2

from c2v.core.fsio import write_text_atomic
from c2v.core.slug import slugify
from c2v.evaluation.models import AES_DIMENSIONS, AesResult, EfficiencyResult, Stage, TeachQuizResult
from c2v.evaluation.store import load_result
from c2v.evaluation.targets import find_targets
from c2v.models import STAGES
from c2v.report.collect import CaseView, case_view
from c2v.report.plots import grouped_bars, stacked_bars

REPORT_NAME = "report.html"


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("c2v.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def case_plots(view: CaseView) -> dict[str, str]:
    m = view.manifest
    plots: dict[str, str] = {}
    stages = sorted(m.tokens.by_stage)
    if stages:
        plots["tokens"] = stacked_bars(
            "Tokens per stage",
            stages,
            {
                "input": [m.tokens.by_stage[s].input for s in stages],
                "output": [m.tokens.by_stage[s].output for s in stages],
            },
            "tokens",
        )
    if any(m.tokens.cost_by_stage.values()):
        priced = sorted(m.tokens.cost_by_stage)
        plots["cost"] = stacked_bars(
            "Estimated cost per stage", priced, {"cost": [m.tokens.cost_by_stage[s] for s in priced]}, "US$"
        )
    timings = m.timings_s.stages()
    plots["time"] = stacked_bars(
        "Wall time per stage", list(timings), {"seconds": list(timings.values())}, "s"
    )
    return plots


def batch_plots(views: list[CaseView]) -> dict[str, str]:
    labels = [v.manifest.topic for v in views]
    return {
        "tokens": stacked_bars(
            "Tokens per topic",
            labels,
            {
                "input": [v.manifest.tokens.input for v in views],
                "output": [v.manifest.tokens.output for v in views],
            },
            "tokens",
        ),
        "time": stacked_bars(
            "Wall time per topic",
            labels,
            {stage: [v.manifest.timings_s.stages()[stage] for v in views] for stage in STAGES},
            "s",
        ),
    }


def eval_plots(tq: TeachQuizResult | None, aes: AesResult | None) -> dict[str, str]:
    plots: dict[str, str] = {}
    if tq is not None and tq.topics:
        plots["teachquiz"] = grouped_bars(
            "TeachQuiz accuracy per stage",
            [t.topic for t in tq.topics],
            {stage.value: [t.stages[stage].accuracy * 100 for t in tq.topics] for stage in Stage},
            "% correct",
            top=100,
        )
    scored = [t for t in aes.topics if t.dimensions] if aes is not None else []
    if scored:
        plots["aes"] = grouped_bars(
            "AES per dimension (0-20)",
            [d.replace("_", " ") for d in AES_DIMENSIONS],
            {t.topic: [t.dimensions[d].mean for d in AES_DIMENSIONS] for t in scored},
            "score",
            top=20,
        )
    return plots


def render_report(path: Path, output: Path) -> str:
    targets = find_targets(path)
    base = output.parent.resolve()
    views = []
    for t in targets:
        rel = os.path.relpath(t.case.root.resolve(), base)
        views.append(
            case_view(t.case, t.manifest, rel, f"case-{slugify(t.rel if t.rel != '.' else t.topic)}")
        )
    tq = load_result(path, TeachQuizResult)
    aes = load_result(path, AesResult)
    eff = load_result(path, EfficiencyResult)
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            title=views[0].manifest.topic if len(views) == 1 else f"Batch {path.resolve().name}",
            batch=len(views) > 1,
            cases=views,
            case_plots={v.anchor: case_plots(v) for v in views},
            batch_plots=batch_plots(views) if len(views) > 1 else {},
            teachquiz=tq,
            aes=aes,
            efficiency=eff,
            eval_plots=eval_plots(tq, aes),
            stages=list(Stage),
            dimensions=AES_DIMENSIONS,
            generated=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    )


def write_report(path: Path, output: Path | None = None) -> Path:
    """Write the report (default ``PATH/report.html``) atomically; return where it went."""
    target = output if output is not None else path / REPORT_NAME
    html = render_report(path, target)
    write_text_atomic(target, html)
    return target
