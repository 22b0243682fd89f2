"""``c2v generate``, ``c2v demo`` and ``c2v render``: one topic, from a model or from a case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from c2v.app.options import generate_options, prepare, render_options, run_config, topic_reporter
from c2v.case import CaseDir
from c2v.errors import CaseFileError, UsageError
from c2v.llm.settings import resolve_provider
from c2v.models import Manifest, SectionStatus
from c2v.speech import resolve_speech

DEMO_TOPIC = "Binary search"


@click.command()
@click.argument("topic", required=False)
@click.option(
    "--knowledge-point", "--knowledge_point", "knowledge_point", default=None, help="Same as TOPIC."
)
@generate_options
@render_options
def generate(topic: str | None, knowledge_point: str | None, **opts: Any) -> None:
    """Plan, code, render and stitch a video for TOPIC."""
    chosen = knowledge_point if knowledge_point is not None else topic
    if chosen is None:
        raise click.UsageError("give a TOPIC (or --knowledge_point)")
    run_generate(chosen, **opts)


@click.command()
@click.option("--topic", default=DEMO_TOPIC, show_default=True, help="A bundled offline topic.")
@click.option("--output-dir", "-o", type=click.Path(path_type=Path), default=Path("CASES"), show_default=True)
@click.option(
    "--use-feedback/--no-feedback",
    "--use_feedback/--no_feedback",
    default=True,
    show_default=True,
    help="Run the critic loop (scripted offline).",
)
@render_options
def demo(topic: str, output_dir: Path, use_feedback: bool, **opts: Any) -> None:
    """Render a bundled topic with the offline provider (no API key needed)."""
    run_generate(
        topic,
        api="offline",
        output_dir=output_dir,
        folder_prefix="demo",
        max_fix_bug_tries=3,
        max_regenerate_tries=2,
        use_feedback=use_feedback,
        feedback_rounds=2,
        preview_tier="l",
        **opts,
    )


@click.command()
@click.argument("case_dir", type=click.Path(path_type=Path, file_okay=False))
@render_options
def render(case_dir: Path, **opts: Any) -> None:
    """Re-render an existing case at another tier or orientation, with no LLM call."""
    from c2v.pipeline import Pipeline

    try:
        board = CaseDir(case_dir).read_storyboard()
        stored = CaseDir(case_dir).read_manifest()
    except CaseFileError as exc:
        raise UsageError(f"{case_dir} is not a usable c2v case folder: {exc}") from None
    if board is None:
        raise UsageError(f"{case_dir} is not a c2v case folder (no storyboard.json)")
    case = CaseDir.create(case_dir)
    cfg = run_config(
        board.topic,
        api=stored.provider if stored is not None else "offline",
        output_dir=case_dir.parent.parent,
        folder_prefix="c2v",
        max_fix_bug_tries=0,
        max_regenerate_tries=0,
        **opts,
    )
    cfg = prepare(cfg, opts["log_json"])
    reporter = topic_reporter(opts["log_json"])
    try:
        manifest = Pipeline(cfg, case, reporter).rerender(board, case.frozen_code(board))
    finally:
        reporter.close()
    print_result(case, manifest)


def run_generate(topic: str, **opts: Any) -> None:
    from c2v.pipeline import Pipeline, case_dir_for

    cfg = run_config(topic, **opts)
    cfg = cfg.model_copy(update={"llm": resolve_provider(cfg.api, opts.get("api_config"))})
    if cfg.tts is not None:  # a speech provider without its key fails here, before any work
        cfg = cfg.model_copy(update={"speech": resolve_speech(cfg.tts.value, opts.get("api_config"))})
    cfg = prepare(cfg, opts["log_json"])
    case = case_dir_for(cfg)
    reporter = topic_reporter(opts["log_json"])
    try:
        manifest = Pipeline(cfg, case, reporter).generate()
    finally:
        reporter.close()
    print_result(case, manifest)


def print_result(case: CaseDir, manifest: Manifest) -> None:
    ok = sum(1 for s in manifest.sections if s.status is SectionStatus.ok)
    click.echo(f"video:    {case.path(manifest.video)}" if manifest.video else "video:    (none)")
    click.echo(f"manifest: {case.manifest}")
    duration = f"{manifest.video_duration_s:.1f} s" if manifest.video_duration_s else "-"
    cost = f" (~${manifest.tokens.cost_usd:.4f})" if manifest.tokens.cost_usd > 0 else ""
    click.echo(
        f"sections: {ok}/{len(manifest.sections)} ok, "
        f"{manifest.width}x{manifest.height}@{manifest.fps}, {duration}, "
        f"{manifest.tokens.total} tokens{cost}, {manifest.this_run.llm_calls} LLM calls and "
        f"{manifest.this_run.renders} renders this run"
    )
    if manifest.missing_sections:
        click.echo(f"missing:  sections {', '.join(manifest.missing_sections)}")
    for section in manifest.sections:
        if section.status is SectionStatus.failed and section.history:
            last = section.history[-1]
            first = last.message.strip().splitlines()[:1]
            cause = f"{last.status.value}: {first[0][:200]}" if first else last.status.value
            click.echo(f"failed:   section {section.id} ({section.title}): {cause}")


def register(cli: click.Group) -> None:
    for command in (generate, demo, render):
        cli.add_command(command)
