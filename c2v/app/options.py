"""What the commands share: their options, the run config they build, the checks before a run.

Code2Video's spellings (``--knowledge_point``, ``--API``, ``--video_quality``, ...) are
accepted beside c2v's own.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from c2v.assets.commands import SOURCE_OPTION
from c2v.config import RunConfig
from c2v.core.logs import configure_logging
from c2v.core.progress import BatchReporter, Reporter
from c2v.core.tiers import Orientation, Tier
from c2v.errors import ConfigError, UsageError, first_error
from c2v.llm.offline import find_transcript
from c2v.llm.settings import CONFIG_ENV, ProviderKind, require_usable
from c2v.models import SandboxLimits
from c2v.repair import RepairPolicy
from c2v.speech import TTSKind
from sandbox.base import SandboxChoice

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _apply(options: list[Decorator], func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(options):
        func = option(func)
    return func


class ChunkChoice(click.ParamType[str | int, Any]):
    """``auto``, ``off`` or a whole number of chunks from 1 to 32."""

    name = "auto|off|N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str | int:
        text = str(value).strip().lower()
        if text in {"auto", "off"}:
            return text
        if text.isdigit() and 1 <= int(text) <= 32:
            return int(text)
        return self.fail(f"{value!r} is not auto, off or a number of chunks from 1 to 32", param, ctx)


def render_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that renders."""
    return _apply(
        [
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
                "--allow-partial",
                "--allow_partial",
                is_flag=True,
                help="Stitch what rendered; list the rest.",
            ),
            click.option(
                "--sandbox",
                type=click.Choice([c.value for c in SandboxChoice]),
                default=SandboxChoice.auto.value,
                show_default=True,
                help="Where generated code runs: a hardened Docker container, bubblewrap, or "
                "auto (Docker when the engine answers and the sandbox image exists, else bubblewrap).",
            ),
            click.option(
                "--render-timeout",
                "--render_timeout",
                type=float,
                default=180.0,
                show_default=True,
                help="Wall-clock seconds one section render may take.",
            ),
            click.option(
                "--dry-run/--no-dry-run",
                "dry_run",
                default=None,
                help="Run each new scene with manim --dry_run before its full render "
                "(default: at tiers above l, where it pays).",
            ),
            click.option(
                "--precheck/--no-precheck",
                default=True,
                show_default=True,
                help="Check each new scene statically (syntax, class, imports, removed Manim APIs) "
                "before it reaches a sandbox.",
            ),
            click.option("--ray-address", envvar="RAY_ADDRESS", default=None, help="Join this Ray cluster."),
            click.option(
                "--render-pools",
                "--render_pools",
                "render_pools",
                type=click.Path(path_type=Path, dir_okay=False),
                default=None,
                help="JSON file of Ray resources per tier, e.g. "
                '{"k": {"num_gpus": 1, "resources": {"render_gpu": 1}}} (default: $C2V_RENDER_POOLS, '
                "else 1 CPU per render).",
            ),
            click.option(
                "--chunks",
                type=ChunkChoice(),
                envvar="C2V_CHUNKS",
                default="auto",
                show_default=True,
                help="Split final-tier section renders at animation boundaries over several workers: "
                "auto (when the pool has idle slots and a section is long enough), off, or N chunks "
                "(default: $C2V_CHUNKS, else auto).",
            ),
            click.option("--log-json", is_flag=True, help="Structured JSON log lines on stderr."),
        ],
        func,
    )


api_config_option = click.option(
    "--api-config",
    "--api_config",
    "api_config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=CONFIG_ENV,
    default=None,
    help="Code2Video's api_config.json (default: ./api_config.json if present).",
)


NARRATION_OPTIONS = [
    click.option("--tts", type=click.Choice([k.value for k in TTSKind]), default="espeak", show_default=True,
                 help="Speech provider for the narration (espeak is offline)."),
    click.option("--no-narration", is_flag=True, help="A silent video: no speech, no subtitles."),
    click.option("--burn-subtitles", is_flag=True, help="Draw subtitles into the picture (muted shorts)."),
]  # fmt: skip


def generate_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options of every command that asks a model: provider, output folder, repair, critic."""
    return _apply(
        [
            click.option(
                "--api",
                "--API",
                "api",
                default="offline",
                show_default=True,
                help="LLM provider: gemini, gpt51, gpt41, gpt4o, claude, openai-compatible, offline, "
                "or another entry of api_config.json.",
            ),
            api_config_option,
            click.option(
                "--output-dir",
                "-o",
                type=click.Path(path_type=Path),
                default=Path("CASES"),
                show_default=True,
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
            *NARRATION_OPTIONS,
            # Icons for the storyboard's visual elements (c2v.assets).
            click.option(
                "--use-assets/--no-assets",
                "--use_assets/--no_assets",
                default=True,
                show_default=True,
                help="Place icons for the visual elements the Planner names.",
            ),
            SOURCE_OPTION,
        ],
        func,
    )


def run_config(topic: str, **opts: Any) -> RunConfig:
    """The validated config of one topic from the parsed options (usage errors exit 2)."""
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
            sandbox=SandboxChoice(opts["sandbox"]),
            limits=SandboxLimits(wall_s=opts["render_timeout"]),
            dry_run=opts.get("dry_run"),
            precheck=opts.get("precheck", True),
            ray_address=opts["ray_address"],
            render_pools=opts.get("render_pools"),
            chunks=opts.get("chunks", "auto"),
            tts=None if opts.get("no_narration") else TTSKind(opts.get("tts") or "espeak"),
            burn_subtitles=opts.get("burn_subtitles", False),
            use_assets=opts.get("use_assets", True),
            assets_source=opts.get("assets_source", "auto"),
        )
    except ValidationError as exc:
        first = first_error(exc)
        if isinstance(first.cause, UsageError):
            raise first.cause from None
        raise ConfigError(f"invalid {first.where}: {first.msg}") from None


def prepare(cfg: RunConfig, log_json: bool) -> RunConfig:
    """Checks that must pass before anything is written or started; returns the config
    with the sandbox backend resolved (``auto`` becomes the one that will run)."""
    from c2v.core.deps import require_system_dependencies
    from sandbox.backends import resolve_backend

    configure_logging(json_lines=log_json, level=logging.INFO if log_json else logging.ERROR)
    if cfg.llm is not None:
        require_usable(cfg.llm)
        if cfg.llm.kind is ProviderKind.offline:
            find_transcript(cfg.topic)
    require_system_dependencies()
    backend, why = resolve_backend(cfg.sandbox)
    if cfg.sandbox is SandboxChoice.auto or log_json:
        click.echo(why)
    return cfg.model_copy(update={"sandbox": SandboxChoice(backend.name)})


def _quiet(log_json: bool) -> bool:
    """No live progress display: JSON log lines go to stderr, or stderr is not a terminal."""
    return log_json or not sys.stderr.isatty()


def topic_reporter(log_json: bool) -> Reporter:
    from c2v.core.progress import NullReporter, RichReporter

    return NullReporter() if _quiet(log_json) else RichReporter()


def batch_reporter(log_json: bool) -> BatchReporter:
    from c2v.core.progress import NullBatchReporter, RichBatchReporter

    return NullBatchReporter() if _quiet(log_json) else RichBatchReporter()
