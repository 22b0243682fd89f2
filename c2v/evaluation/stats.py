"""Figures over asked questions: accuracies per stage, gains, position bias, the paired t-test."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from statistics import fmean, stdev

from scipy import stats

from c2v.evaluation.models import LETTERS, AskedQuestion, Letter, PairedTest, Spread, Stage, StageFigures


def stage_figures(records: Iterable[AskedQuestion]) -> dict[Stage, StageFigures]:
    out = {stage: StageFigures() for stage in Stage}
    for r in records:
        fig = out[r.stage]
        fig.asked += 1
        fig.correct += int(r.correct)
        fig.unusable += int(not r.usable)
    for fig in out.values():
        fig.accuracy = round(fig.correct / fig.asked, 6) if fig.asked else 0.0
    return out


def gain(figures: dict[Stage, StageFigures]) -> float:
    """Stage 3 (with the video) minus stage 2 (unlearned): what the video taught."""
    return round(figures[Stage.video].accuracy - figures[Stage.unlearned].accuracy, 6)


def position_shares(letters: Iterable[Letter | None]) -> dict[Letter, float]:
    """Share of each shown letter among the given ones (None is left out)."""
    counts = dict.fromkeys(LETTERS, 0)
    for letter in letters:
        if letter is not None:
            counts[letter] += 1
    total = sum(counts.values())
    return {k: round(v / total, 6) if total else 0.0 for k, v in counts.items()}  # type: ignore[misc]


def _finite(value: float) -> float | None:
    return round(float(value), 6) if math.isfinite(value) else None


def paired_test(video: Sequence[float], unlearned: Sequence[float]) -> PairedTest:
    """Paired t-test over topics of stage-3 against stage-2 accuracy, with its 95% interval."""
    n = len(video)
    diffs = [v - u for v, u in zip(video, unlearned, strict=True)]
    mean = round(fmean(diffs), 6) if diffs else 0.0
    if n < 2:
        return PairedTest(topics=n, mean_gain=mean, note="a t-test needs at least 2 topics")
    if all(d == diffs[0] for d in diffs):
        return PairedTest(
            topics=n, mean_gain=mean, ci95_low=mean, ci95_high=mean, note="every topic has the same gain"
        )
    result = stats.ttest_rel(video, unlearned)
    ci = result.confidence_interval(confidence_level=0.95)
    return PairedTest(
        topics=n,
        mean_gain=mean,
        t=_finite(result.statistic),
        p_value=_finite(result.pvalue),
        ci95_low=_finite(ci.low),
        ci95_high=_finite(ci.high),
    )


def spread(values: Sequence[float]) -> Spread | None:
    if not values:
        return None
    return Spread(
        mean=round(fmean(values), 4),
        std=round(stdev(values), 4) if len(values) > 1 else 0.0,
        low=min(values),
        high=max(values),
    )
