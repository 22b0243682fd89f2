"""The ``c2v`` command line: generate, demo, render.

Code2Video's spellings (``--knowledge_point``, ``--API``, ``--video_quality``, ...) are
accepted beside c2v's own. Usage errors exit with code 2, runtime errors with 1; either way
the user sees one line, never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from c2v.config import RunConfig
from c2v.errors import C2VError, ConfigError, UsageError
from c2v.llm.offline import find_transcript
from c2v.llm.settings import CONFIG_ENV, ProviderKind, require_usable, resolve_provider
from c2v.logs import configure_logging
from c2v.models import Manifest, SandboxLimits, Storyboard
from c2v.repair import RepairPolicy
from c2v.tiers import Orientation, Tier

DEMO_TOPIC = "Binary search"


def _render_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that renders."""
    options = [
        click.option(
            "--video-quality",
            "--video_quality",
            "-q",
            "tier",
            type=click.Choice([t.value for t in Tier]),
            default="l",
            show_default=True,
            help="l 854x480@15, m 1280x720@30, h 1920x1080@60, k 3840x2160@60.",
        ),
        click.option("--portrait/--landscape", default=False, help="9:16 for phones, or 16:9 (default)."),
        click.option(
            "--allow-partial", "--allow_partial", is_flag=True, help="Stitch what rendered; list the rest."
        ),
        click.option(
            "--sandbox", default="bwrap", show_default=True, help="Sandbox backend for generated code."
        ),
        click.option(
            "--render-timeout",
            "--render_timeout",
            type=float,
            default=180.0,
            show_default=True,
            help="Wall-clock seconds one section render may take.",
        ),
        click.option("--ray-address", envvar="RAY_ADDRESS", default=None, help="Join this Ray cluster."),
        click.option("--log-json", is_flag=True, help="Structured JSON log lines on stderr."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


_API_CONFIG_OPTION = click.option(
    "--api-config",
    "--api_config",
    "api_config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=CONFIG_ENV,
    default=None,
    help="Code2Video's api_config.json (default: ./api_config.json if present).",
)


def _generate_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--api",
            "--API",
            "api",
            default="offline",
            show_default=True,
            help="LLM provider: gemini, gpt51, gpt41, gpt4o, claude, openai-compatible, offline, "
            "or another entry of api_config.json.",
        ),
        _API_CONFIG_OPTION,
        click.option(
            "--output-dir", "-o", type=click.Path(path_type=Path), default=Path("CASES"), show_default=True
        ),
        click.option(
            "--folder-prefix",
            "--folder_prefix",
            default="c2v",
            show_default=True,
            help="Sub-folder of the output dir for this run's cases.",
        ),
        click.option(
            "--max-fix-bug-tries",
            "--max_fix_bug_tries",
            type=click.IntRange(0, 20),
            default=3,
            show_default=True,
            help="Fixes of one generated scene before regenerating it.",
        ),
        click.option(
            "--max-regenerate-tries",
            "--max_regenerate_tries",
            type=click.IntRange(0, 20),
            default=2,
            show_default=True,
            help="Fresh regenerations of a section that keeps failing.",
        ),
        click.option(
            "--use-feedback/--no-feedback",
            "--use_feedback/--no_feedback",
            default=False,
            help="Critic loop: lint + critic review at the preview tier, revise flagged sections.",
        ),
        click.option(
            "--feedback-rounds",
            "--feedback_rounds",
            type=click.IntRange(0, 10),
            default=2,
            show_default=True,
            help="Critic rounds at most (stops early when nothing is left to fix).",
        ),
        click.option(
            "--preview-tier",
            "--preview_tier",
            type=click.Choice([t.value for t in Tier]),
            default="l",
            show_default=True,
            help="Tier the critic loop renders at; the final tier renders once the code is frozen.",
        ),
        click.option(
            "--language",
            default=None,
            help="Language of lecture lines and labels; detected from the topic if omitted.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="c2v")
def cli() -> None:
    """Turn a knowledge point into an educational video with LLM-written Manim code."""


@cli.command()
@click.argument("topic", required=False)
@click.option(
    "--knowledge-point", "--knowledge_point", "knowledge_point", default=None, help="Same as TOPIC."
)
@_generate_options
@_render_options
def generate(topic: str | None, knowledge_point: str | None, **opts: Any) -> None:
    """Plan, code, render and stitch a video for TOPIC."""
    chosen = knowledge_point if knowledge_point is not None else topic
    if chosen is None:
        raise click.UsageError("give a TOPIC (or --knowledge_point)")
    _run_generate(chosen, **opts)


@cli.command()
@click.option("--topic", default=DEMO_TOPIC, show_default=True, help="A bundled offline topic.")
@click.option("--output-dir", "-o", type=click.Path(path_type=Path), default=Path("CASES"), show_default=True)
@click.option(
    "--use-feedback/--no-feedback",
    "--use_feedback/--no_feedback",
    default=True,
    show_default=True,
    help="Run the critic loop (scripted offline).",
)
@_render_options
def demo(topic: str, output_dir: Path, use_feedback: bool, **opts: Any) -> None:
    """Render a bundled topic with the offline provider (no API key needed)."""
    _run_generate(
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


@cli.command()
@click.argument("case_dir", type=click.Path(path_type=Path, file_okay=False))
@_render_options
def render(case_dir: Path, **opts: Any) -> None:
    """Re-render an existing case at another tier or orientation, with no LLM call."""
    from c2v.case import CaseDir
    from c2v.pipeline import Pipeline

    board_path = case_dir / "storyboard.json"
    if not board_path.is_file():
        raise UsageError(f"{case_dir} is not a c2v case folder (no storyboard.json)")
    board = Storyboard.model_validate_json(board_path.read_text(encoding="utf-8"))
    case = CaseDir.create(case_dir)
    frozen = {
        s.id: case.final_code(s.id).read_text(encoding="utf-8")
        for s in board.sections
        if case.final_code(s.id).is_file()
    }
    provider = "offline"
    if case.manifest.is_file():
        provider = Manifest.model_validate_json(case.manifest.read_text(encoding="utf-8")).provider
    cfg = _config(
        board.topic,
        api=provider,
        output_dir=case_dir.parent.parent,
        folder_prefix="c2v",
        max_fix_bug_tries=0,
        max_regenerate_tries=0,
        **opts,
    )
    _prepare(cfg, opts["log_json"])
    reporter = _reporter(opts["log_json"])
    try:
        manifest = Pipeline(cfg, case, reporter).rerender(board, frozen)
    finally:
        reporter.close()
    _print_result(case.root, manifest)


@cli.command()
@click.option("--api", "--API", "api", default="offline", show_default=True, help="The provider to check.")
@_API_CONFIG_OPTION
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 120),
    default=5.0,
    show_default=True,
    help="Seconds each provider endpoint may take to answer.",
)
@click.option("--ray-address", envvar="RAY_ADDRESS", default=None, help="Check joining this Ray cluster.")
def doctor(api: str, api_config: Path | None, timeout: float, ray_address: str | None) -> None:
    """Check providers (keys, endpoints) and the render toolchain; exit 1 if --api cannot work."""
    from rich.console import Console

    from c2v.doctor import run_doctor

    code = run_doctor(api, api_config, timeout, ray_address, Console())
    if code:
        sys.exit(code)


def _config(topic: str, **opts: Any) -> RunConfig:
    try:
        return RunConfig(
            topic=topic,
            api=opts["api"],
            tier=Tier(opts["tier"]),
            orientation=Orientation.portrait if opts["portrait"] else Orientation.landscape,
            output_dir=opts["output_dir"],
            folder_prefix=opts["folder_prefix"],
            repair=RepairPolicy(
                max_fix_bug_tries=opts["max_fix_bug_tries"], max_regenerate_tries=opts["max_regenerate_tries"]
            ),
            allow_partial=opts["allow_partial"],
            use_feedback=opts.get("use_feedback", False),
            feedback_rounds=opts.get("feedback_rounds", 0),
            preview_tier=Tier(opts.get("preview_tier", opts["tier"])),
            language=opts.get("language"),
            sandbox=opts["sandbox"],
            limits=SandboxLimits(wall_s=opts["render_timeout"]),
            ray_address=opts["ray_address"],
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, UsageError):
            raise cause from None
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid {where}: {first['msg']}") from None


def _prepare(cfg: RunConfig, log_json: bool) -> None:
    """Checks that must pass before anything is written or started."""
    from c2v.deps import require_system_dependencies
    from sandbox.backends import check_backend

    configure_logging(json_lines=log_json, level=logging.INFO if log_json else logging.ERROR)
    if cfg.llm is not None:
        require_usable(cfg.llm)
        if cfg.llm.kind is ProviderKind.offline:
            find_transcript(cfg.topic)
    require_system_dependencies()
    check_backend(cfg.sandbox)


def _reporter(log_json: bool) -> Any:
    from c2v.progress import NullReporter, RichReporter

    if log_json or not sys.stderr.isatty():
        return NullReporter()
    return RichReporter()


def _run_generate(topic: str, **opts: Any) -> None:
    from c2v.pipeline import Pipeline, case_dir_for

    cfg = _config(topic, **opts)
    cfg = cfg.model_copy(update={"llm": resolve_provider(cfg.api, opts.get("api_config"))})
    _prepare(cfg, opts["log_json"])
    case = case_dir_for(cfg)
    reporter = _reporter(opts["log_json"])
    try:
        manifest = Pipeline(cfg, case, reporter).generate()
    finally:
        reporter.close()
    _print_result(case.root, manifest)


def _print_result(root: Path, manifest: Manifest) -> None:
    ok = sum(1 for s in manifest.sections if s.status.value == "ok")
    click.echo(f"video:    {root / manifest.video}" if manifest.video else "video:    (none)")
    click.echo(f"manifest: {root / 'manifest.json'}")
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


def main(argv: list[str] | None = None) -> None:
    """Console entry point: map every failure to one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="c2v", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("c2v: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except C2VError as exc:
        click.echo(f"c2v: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("c2v: interrupted; finished work is kept, run the same command to resume", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("C2V_DEBUG"):
            raise
        click.echo(
            f"c2v: internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            err=True,
        )
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
