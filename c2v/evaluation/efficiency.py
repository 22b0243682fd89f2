"""Efficiency: wall time, LLM calls, tokens, cost and renders per topic, from the manifests."""

from __future__ import annotations

from c2v.evaluation.models import EfficiencyResult, TopicEfficiency
from c2v.evaluation.targets import Target
from c2v.models import RenderStatus, SectionStatus

_SUMMED = (
    "wall_s",
    "llm_calls",
    "llm_replies",
    "tokens",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "renders",
    "render_s",
    "sections",
    "sections_ok",
)


def topic_efficiency(target: Target) -> TopicEfficiency:
    m = target.manifest
    calls = target.case.all_calls()
    results = [r for r in target.case.all_renders() if r.status is not RenderStatus.infra_error]
    renders, render_s = len(results), sum(r.wall_s for r in results)
    return TopicEfficiency(
        topic=m.topic,
        case=target.rel,
        wall_s=round(m.timings_s.total, 3),
        stage_s={k: round(v, 3) for k, v in m.timings_s.stages().items()},
        llm_calls=len(calls),
        llm_replies=sum(len(c.replies) for c in calls),
        tokens=m.tokens.total,
        input_tokens=m.tokens.input,
        output_tokens=m.tokens.output,
        cost_usd=m.tokens.cost_usd,
        renders=renders,
        render_s=round(render_s, 3),
        sections=len(m.sections),
        sections_ok=sum(1 for s in m.sections if s.status is SectionStatus.ok),
    )


def run_efficiency(targets: list[Target]) -> EfficiencyResult:
    topics = [topic_efficiency(t) for t in targets]
    if not topics:
        return EfficiencyResult(topics=[], total=None, mean={})
    sums = {name: sum(getattr(t, name) for t in topics) for name in _SUMMED}
    stage_s: dict[str, float] = {}
    for t in topics:
        for k, v in t.stage_s.items():
            stage_s[k] = round(stage_s.get(k, 0.0) + v, 3)
    total = TopicEfficiency.model_validate(
        {"topic": "(all topics)", "case": ".", "stage_s": stage_s}
        | {k: round(v, 6) if isinstance(v, float) else v for k, v in sums.items()}
    )
    mean = {name: round(sums[name] / len(topics), 4) for name in _SUMMED}
    return EfficiencyResult(topics=topics, total=total, mean=mean)
