"""``c2v eval teachquiz|aes|efficiency PATH`` and ``c2v report PATH``, registered on the CLI group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from c2v.llm.settings import CONFIG_ENV

_PATH = click.argument("path", type=click.Path(path_type=Path, file_okay=False))


def _judge_options(func: Any) -> Any:
    options = [
        click.option(
            "--api",
            "--API",
            "api",
            required=True,
            help="The judge: a vision model (gemini, gpt41, claude, ...).",
        ),
        click.option(
            "--api-config",
            "--api_config",
            "api_config",
            type=click.Path(path_type=Path, dir_okay=False),
            envvar=CONFIG_ENV,
            default=None,
            help="Code2Video's api_config.json (default: ./api_config.json if present).",
        ),
        click.option(
            "--workers",
            type=click.IntRange(1, 64),
            default=4,
            show_default=True,
            help="Judge calls in flight at once (the provider's rpm/tpm limits still apply).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _judge(path: Path, api: str, api_config: Path | None, workers: int) -> Any:
    from c2v.evaluation.judge import Judge, judge_llm
    from c2v.evaluation.store import eval_dir
    from c2v.llm.settings import resolve_provider

    return Judge(judge_llm(resolve_provider(api, api_config)), eval_dir(path), workers)


def _usage(judge: Any) -> Any:
    from c2v.evaluation.models import JudgeUsage

    return JudgeUsage(calls=judge.calls, reused=judge.reused, tokens=judge.totals())


def _done(written: Path, judge: Any | None = None) -> None:
    if judge is not None:
        click.echo(f"judge:    {judge.calls} calls, {judge.reused} reused from {written.parent / 'calls'}")
    click.echo(f"results:  {written}")
    click.echo(f"summary:  {written.parent / 'summary.md'}")


@click.group("eval")
def eval_group() -> None:
    """Evaluate finished cases (a case folder or a batch folder); results go to PATH/eval/."""


@eval_group.command()
@_PATH
@click.option(
    "--questions",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="MMMC-style quiz file: {topic: [{question, options: {A..D}, answer}]}.",
)
@click.option(
    "--permutations",
    type=click.IntRange(1, 24),
    default=3,
    show_default=True,
    help="Orders of the options each question is asked in (shuffled against letter bias).",
)
@_judge_options
def teachquiz(
    path: Path, questions: Path, permutations: int, api: str, api_config: Path | None, workers: int
) -> None:
    """TeachQuiz: accuracy plain, unlearned and unlearned with the video; the gain and its t-test."""
    from c2v.evaluation.models import Stage
    from c2v.evaluation.questions import load_questions
    from c2v.evaluation.store import save_result
    from c2v.evaluation.targets import find_targets
    from c2v.evaluation.teachquiz import run_teachquiz

    targets = find_targets(path)
    quiz = load_questions(questions)
    judge = _judge(path, api, api_config, workers)
    result = run_teachquiz(judge, targets, quiz, str(questions), permutations)
    result = result.model_copy(update={"judge": _usage(judge)})
    written = save_result(path, result)
    overall = result.overall
    click.echo(
        f"teachquiz: {len(result.topics)} topics, gain {result.gain * 100:+.1f} points "
        f"(plain {overall[Stage.plain].accuracy:.1%}, unlearned {overall[Stage.unlearned].accuracy:.1%}, "
        f"with video {overall[Stage.video].accuracy:.1%})"
    )
    if result.skipped:
        click.echo(f"skipped:  no questions for {', '.join(repr(t) for t in result.skipped)}")
    _done(written, judge)


@eval_group.command()
@_PATH
@click.option(
    "--repeats",
    type=click.IntRange(1, 20),
    default=1,
    show_default=True,
    help="Times the judge scores each video (for its mean and spread).",
)
@_judge_options
def aes(path: Path, repeats: int, api: str, api_config: Path | None, workers: int) -> None:
    """AES: element layout, attractiveness, logic flow, accuracy & depth, visual consistency (0-20 each)."""
    from c2v.evaluation.aes import run_aes
    from c2v.evaluation.store import save_result
    from c2v.evaluation.targets import find_targets

    targets = find_targets(path)
    judge = _judge(path, api, api_config, workers)
    result = run_aes(judge, targets, repeats)
    result = result.model_copy(update={"judge": _usage(judge)})
    written = save_result(path, result)
    total = f"{result.total:.1f}/100" if result.total is not None else "no usable score"
    click.echo(f"aes:      {len(result.topics)} videos, mean total {total}")
    _done(written, judge)


@eval_group.command()
@_PATH
def efficiency(path: Path) -> None:
    """Wall time, LLM calls, tokens, cost, renders and render seconds per topic, from the manifests."""
    from c2v.evaluation.efficiency import run_efficiency
    from c2v.evaluation.store import save_result
    from c2v.evaluation.targets import find_targets

    result = run_efficiency(find_targets(path))
    written = save_result(path, result)
    if result.total is not None:
        t = result.total
        click.echo(
            f"efficiency: {len(result.topics)} topics, {t.wall_s:.1f} s, {t.llm_calls} LLM calls, "
            f"{t.tokens} tokens, {t.renders} renders ({t.render_s:.1f} s)"
        )
    _done(written)


@click.command()
@_PATH
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Default: PATH/report.html.",
)
def report(path: Path, output: Path | None) -> None:
    """A self-contained report.html for a case or a batch: keyframes, lint boxes, attempts, plots, eval."""
    from c2v.report.build import write_report

    written = write_report(path, output)
    click.echo(f"report:   {written}")


def register(cli: click.Group) -> None:
    """Add ``eval`` and ``report`` to the ``c2v`` command group."""
    cli.add_command(eval_group)
    cli.add_command(report)
