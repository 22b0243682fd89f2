"""``PATH/eval/``: the result files, each written atomically, and ``summary.md`` over them."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from c2v.core.fsio import write_model_atomic, write_text_atomic
from c2v.evaluation.models import AES_DIMENSIONS, AesResult, EfficiencyResult, Stage, TeachQuizResult

M = TypeVar("M", bound=BaseModel)
FILES: dict[type[BaseModel], str] = {
    TeachQuizResult: "teachquiz.json",
    AesResult: "aes.json",
    EfficiencyResult: "efficiency.json",
}


def eval_dir(path: Path) -> Path:
    return path / "eval"


def save_result(path: Path, result: BaseModel) -> Path:
    """Write ``result`` to its file under ``PATH/eval/`` and refresh ``summary.md``."""
    target = eval_dir(path) / FILES[type(result)]
    write_model_atomic(target, result)
    write_text_atomic(eval_dir(path) / "summary.md", summary(path))
    return target


def load_result(path: Path, model: type[M]) -> M | None:
    try:
        return model.model_validate_json((eval_dir(path) / FILES[model]).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, ValidationError):
        return None


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _teachquiz_md(r: TeachQuizResult) -> list[str]:
    lines = [
        "## TeachQuiz",
        "",
        f"Judge {r.api} ({r.model}), {r.permutations} option orders per question, "
        f"questions from `{r.questions_file}`.",
        "",
        "| topic | questions | plain | unlearned | with video | gain | unlearning held |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for t in r.topics:
        accuracies = " | ".join(_pct(t.stages[stage].accuracy) for stage in Stage)
        held = "yes" if t.unlearning_held else "no"
        lines.append(f"| {t.topic} | {t.questions} | {accuracies} | {t.gain * 100:+.1f} | {held} |")
    o = r.overall
    lines.append(
        f"| **all** | {sum(t.questions for t in r.topics)} | {_pct(o[Stage.plain].accuracy)} "
        f"| {_pct(o[Stage.unlearned].accuracy)} | {_pct(o[Stage.video].accuracy)} | {r.gain * 100:+.1f} "
        f"| {_pct(r.unlearning_held_share)} of topics |"
    )
    unusable = sum(f.unusable for f in o.values())
    bias = ", ".join(f"{k} {_pct(v)}" for k, v in r.position_bias.items())
    key = ", ".join(f"{k} {_pct(v)}" for k, v in r.key_positions.items())
    pt = r.test
    test = f"mean gain {pt.mean_gain * 100:+.1f} points over {pt.topics} topics"
    if pt.t is not None:
        test += f", t = {pt.t:.3f}, p = {pt.p_value:.4g}"
    if pt.ci95_low is not None and pt.ci95_high is not None:
        test += f", 95% interval [{pt.ci95_low * 100:+.1f}, {pt.ci95_high * 100:+.1f}]"
    if pt.note:
        test += f" ({pt.note})"
    lines += [
        "",
        f"- answers by shown position: {bias} (right answers shown at: {key})",
        f"- unusable replies: {unusable} of {sum(f.asked for f in o.values())} (counted as wrong)",
        f"- paired t-test, with video vs unlearned: {test}",
    ]
    if r.skipped:
        lines.append(f"- no questions for: {', '.join(r.skipped)}")
    lines.append(
        f"- judge calls: {r.judge.calls} asked, {r.judge.reused} reused; {r.judge.tokens.total} tokens"
    )
    return lines


def _aes_md(r: AesResult) -> list[str]:
    head = " | ".join(AES_DIMENSIONS)
    lines = [
        "## AES",
        "",
        f"Judge {r.api} ({r.model}), {r.repeats} repeat(s) per video; mean ± standard deviation, 0-20 each.",
        "",
        f"| topic | {head} | total (0-100) | unusable |",
        "|---|" + "---:|" * (len(AES_DIMENSIONS) + 2),
    ]
    for t in r.topics:
        cells = [
            f"{t.dimensions[d].mean:.1f} ± {t.dimensions[d].std:.1f}" if d in t.dimensions else "-"
            for d in AES_DIMENSIONS
        ]
        total = f"{t.total.mean:.1f} ± {t.total.std:.1f}" if t.total else "-"
        lines.append(f"| {t.topic} | {' | '.join(cells)} | {total} | {t.unusable} |")
    means = " | ".join(f"{r.dimensions[d]:.1f}" for d in AES_DIMENSIONS)
    lines.append(f"| **mean** | {means} | {r.total:.1f} | |" if r.total is not None else "")
    lines.append(
        f"- judge calls: {r.judge.calls} asked, {r.judge.reused} reused; {r.judge.tokens.total} tokens"
    )
    return lines


def _efficiency_md(r: EfficiencyResult) -> list[str]:
    lines = [
        "## Efficiency",
        "",
        "| topic | wall s | LLM calls | tokens | cost $ | renders | render s | sections ok |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [*r.topics, *([r.total] if r.total is not None else [])]
    for t in rows:
        lines.append(
            f"| {t.topic} | {t.wall_s:.1f} | {t.llm_calls} | {t.tokens} | {t.cost_usd:.4f} | {t.renders} "
            f"| {t.render_s:.1f} | {t.sections_ok}/{t.sections} |"
        )
    return lines


def summary(path: Path) -> str:
    lines = [f"# Evaluation of {path.name or path}", ""]
    if (tq := load_result(path, TeachQuizResult)) is not None:
        lines += [*_teachquiz_md(tq), ""]
    if (aes := load_result(path, AesResult)) is not None:
        lines += [*_aes_md(aes), ""]
    if (eff := load_result(path, EfficiencyResult)) is not None:
        lines += [*_efficiency_md(eff), ""]
    return "\n".join(lines).rstrip() + "\n"
