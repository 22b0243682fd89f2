"""The ``c2v`` command line: generate, demo, render, batch, status, submit.

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

from c2v.assets.commands import register as register_asset_commands
from c2v.config import RunConfig
from c2v.core.logs import configure_logging
from c2v.core.tiers import Orientation, Tier
from c2v.errors import BatchFailed, C2VError, ClusterError, ConfigError, UsageError, first_error, one_line
from c2v.evaluation.commands import register as register_evaluation
from c2v.llm.offline import find_transcript
from c2v.llm.settings import CONFIG_ENV, ProviderKind, require_usable, resolve_provider
from c2v.models import Manifest, SandboxLimits, SectionStatus, Storyboard
from c2v.repair import RepairPolicy

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
            "--sandbox",
            type=click.Choice(["auto", "docker", "bwrap"]),
            default="auto",
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
    cfg = _prepare(cfg, opts["log_json"])
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

    from c2v.app.doctor import run_doctor

    code = run_doctor(api, api_config, timeout, ray_address, Console())
    if code:
        sys.exit(code)


@cli.command()
@click.argument("topics_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--knowledge-file",
    "--knowledge_file",
    "knowledge_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Same as TOPICS_FILE (Code2Video's spelling).",
)
@click.option(
    "--max-concepts",
    "--max_concepts",
    type=click.IntRange(min=-1),
    default=-1,
    show_default=True,
    help="Run the first N topics of the file; -1 runs all of them.",
)
@click.option(
    "--parallel-groups",
    "--parallel_groups",
    "--parallel_group_num",
    "parallel_groups",
    type=click.IntRange(1, 256),
    default=3,
    show_default=True,
    help="Topics in flight at once (each one's sections render in parallel on Ray).",
)
@click.option(
    "--batch-id",
    "--batch_id",
    default=None,
    help="Name of the batch (logs, published folder); default: <folder-prefix>-<topics file name>, "
    "so the same command resumes the same batch.",
)
@click.option(
    "--storage",
    default=None,
    help="Publish each finished case to a folder or s3://bucket/prefix as <batch-id>/<slug>/.",
)
@click.option(
    "--s3-endpoint-url",
    "--s3_endpoint_url",
    default=None,
    help="S3-compatible endpoint for --storage s3://... (MinIO, Ceph, ...).",
)
@click.option(
    "--num-cpus",
    "--num_cpus",
    type=click.IntRange(1, 4096),
    envvar="C2V_NUM_CPUS",
    default=None,
    help="CPUs of the embedded Ray instance (default: all; ignored when joining a cluster).",
)
@_generate_options
@_render_options
def batch(topics_file: Path | None, knowledge_file: Path | None, **opts: Any) -> None:
    """Generate a video for every topic of TOPICS_FILE (a JSON list, e.g. MMMC's topics.json).

    Re-running the same command resumes: finished topics are skipped, unfinished ones replay
    their stored LLM calls and renders. Writes <output>/<prefix>/batch.json and batch.md;
    exits 1 if any topic failed.
    """
    chosen = knowledge_file if knowledge_file is not None else topics_file
    if chosen is None:
        raise click.UsageError("give a TOPICS_FILE (or --knowledge_file)")
    _run_batch(chosen, **opts)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print batch.json or manifest.json as stored.")
def status(path: Path, as_json: bool) -> None:
    """Show a batch (its folder holds batch.json) or one case (manifest.json), running or done."""
    from c2v.batch.status import raw_json, status_text

    click.echo(raw_json(path) if as_json else status_text(path), nl=False)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--address",
    envvar="RAY_API_SERVER_ADDRESS",
    default="http://127.0.0.1:8265",
    show_default=True,
    help="The Ray dashboard (job server) of the cluster.",
)
@click.option("--submission-id", default=None, help="Ray job id; default: c2v-<batch id>.")
@click.option(
    "--working-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=Path(),
    show_default=True,
    help="Uploaded as the job's working dir (files ignored by .gitignore stay behind).",
)
@click.option("--env", "env_pairs", multiple=True, help="NAME=VALUE for the job's environment (repeatable).")
@click.option("--python", "python_exe", default="python", show_default=True, help="Python on the cluster.")
@click.option("--follow/--no-follow", default=True, help="Print the job's logs until it ends.")
@click.option(
    "--retry-failed/--no-retry-failed",
    default=True,
    help="When the job with this id failed, submit <id>-r2 (the batch resumes); else just report it.",
)
@click.argument("topics_file")
@click.argument("batch_args", nargs=-1, type=click.UNPROCESSED)
def submit(
    address: str,
    submission_id: str | None,
    working_dir: Path,
    env_pairs: tuple[str, ...],
    python_exe: str,
    follow: bool,
    retry_failed: bool,
    topics_file: str,
    batch_args: tuple[str, ...],
) -> None:
    """Run `c2v batch TOPICS_FILE [BATCH_ARGS]...` as a Ray job, once.

    The submission id is stable, so submitting again attaches to the job instead of running
    the batch twice. Put c2v's options first, then TOPICS_FILE (relative to --working-dir),
    then the batch's own options; give the batch an absolute --output-dir on shared storage
    or --storage, since the job's working dir is temporary.
    """
    from cluster import jobs

    args = list(batch_args)
    if not Path(topics_file).is_absolute() and not (working_dir / topics_file).is_file():
        raise UsageError(f"topics file {topics_file} is not in the uploaded working dir {working_dir}")
    if submission_id is None:
        from c2v.batch.runner import check_batch_id, default_batch_id
        from c2v.core.slug import check_prefix

        given = jobs.option_value(args, "--batch-id", "--batch_id")
        prefix = check_prefix(jobs.option_value(args, "--folder-prefix", "--folder_prefix") or "c2v")
        bid = check_batch_id(given) if given else default_batch_id(Path(topics_file), prefix)
        submission_id = f"c2v-{bid}"
    runtime_env: dict[str, Any] = {"working_dir": str(working_dir)}
    env_vars = jobs.parse_env_pairs(env_pairs)
    if env_vars:
        runtime_env["env_vars"] = env_vars
    client = jobs.connect(address, os.environ)
    entry = jobs.batch_entrypoint(topics_file, args, python_exe)
    found = jobs.submit_or_attach(client, submission_id, entry, runtime_env, retry_failed=retry_failed)
    verb = "submitted" if found.submitted else f"attached to existing job ({found.state.value})"
    click.echo(f"job {found.submission_id}: {verb}", err=True)
    if not follow:
        click.echo(found.submission_id)
        return
    final = jobs.follow(client, found.submission_id, jobs.default_write)
    click.echo(f"job {found.submission_id}: {final.value}", err=True)
    if final is not jobs.JobState.succeeded:
        raise ClusterError(f"Ray job {found.submission_id} ended {final.value}; `c2v status` shows the batch")


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
            dry_run=opts.get("dry_run"),
            precheck=opts.get("precheck", True),
            ray_address=opts["ray_address"],
            render_pools=opts.get("render_pools"),
        )
    except ValidationError as exc:
        first = first_error(exc)
        if isinstance(first.cause, UsageError):
            raise first.cause from None
        raise ConfigError(f"invalid {first.where}: {first.msg}") from None


def _prepare(cfg: RunConfig, log_json: bool) -> RunConfig:
    """Checks that must pass before anything is written or started; returns the config
    with the sandbox backend resolved (``auto`` becomes the one that will run)."""
    from c2v.core.deps import require_system_dependencies
    from sandbox.backends import resolve_backend
    from sandbox.base import SandboxKind

    configure_logging(json_lines=log_json, level=logging.INFO if log_json else logging.ERROR)
    if cfg.llm is not None:
        require_usable(cfg.llm)
        if cfg.llm.kind is ProviderKind.offline:
            find_transcript(cfg.topic)
    require_system_dependencies()
    backend, why = resolve_backend(cfg.sandbox)
    if cfg.sandbox == "auto" or log_json:
        click.echo(why)
    return cfg.model_copy(update={"sandbox": SandboxKind(backend.name)})


def _reporter(log_json: bool) -> Any:
    from c2v.core.progress import NullReporter, RichReporter

    if log_json or not sys.stderr.isatty():
        return NullReporter()
    return RichReporter()


def _run_generate(topic: str, **opts: Any) -> None:
    from c2v.pipeline import Pipeline, case_dir_for

    cfg = _config(topic, **opts)
    cfg = cfg.model_copy(update={"llm": resolve_provider(cfg.api, opts.get("api_config"))})
    cfg = _prepare(cfg, opts["log_json"])
    case = case_dir_for(cfg)
    reporter = _reporter(opts["log_json"])
    try:
        manifest = Pipeline(cfg, case, reporter).generate()
    finally:
        reporter.close()
    _print_result(case.root, manifest)


def _run_batch(
    topics_file: Path,
    max_concepts: int,
    parallel_groups: int,
    batch_id: str | None,
    storage: str | None,
    s3_endpoint_url: str | None,
    num_cpus: int | None,
    **opts: Any,
) -> None:
    """Everything a batch needs is checked first (exit 2, nothing started), then it runs."""
    from c2v.batch.report import BatchReport, markdown_table, summary_line
    from c2v.batch.runner import (
        BatchRunner,
        StoragePublisher,
        check_batch_id,
        default_batch_id,
        load_topics,
        select_topics,
    )
    from c2v.core.slug import check_prefix
    from cluster.runtime import ensure_ray

    prefix = check_prefix(opts["folder_prefix"])
    topics = select_topics(load_topics(topics_file), max_concepts)
    bid = check_batch_id(batch_id) if batch_id else default_batch_id(topics_file, prefix)
    llm = resolve_provider(opts["api"], opts.get("api_config"))
    configs = [_config(t, **opts).model_copy(update={"llm": llm, "batch_id": bid}) for t in topics]
    first = _prepare(configs[0], opts["log_json"])
    if llm.kind is ProviderKind.offline:
        for cfg in configs[1:]:
            find_transcript(cfg.topic)
    configs = [c.model_copy(update={"sandbox": first.sandbox}) for c in configs]
    publisher = StoragePublisher(storage, s3_endpoint_url, bid) if storage else None
    report = BatchReport(
        batch_id=bid,
        topics_file=str(topics_file),
        folder_prefix=prefix,
        api=llm.name,
        tier=first.tier.value,
        orientation=first.orientation.value,
        parallel_groups=parallel_groups,
        storage=storage,
    )
    batch_dir = first.output_dir / prefix
    runner = BatchRunner(
        configs,
        report,
        batch_dir,
        parallel_groups,
        publisher=publisher,
        progress=_batch_reporter(opts["log_json"]),
        start_ray=lambda: ensure_ray(first.ray_address, num_cpus=num_cpus),
    )
    report = runner.run()
    click.echo(markdown_table(report), nl=False)
    click.echo(summary_line(report))
    click.echo(f"batch:    {batch_dir / 'batch.json'}")
    failed = [t for t in report.topics if t.status.is_failure()]
    if failed:
        names = ", ".join(repr(t.topic) for t in failed[:5]) + (" ..." if len(failed) > 5 else "")
        raise BatchFailed(
            f"{len(failed)} of {len(report.topics)} topics failed ({names}); "
            "run the same command again to retry them (finished work is kept)"
        )


def _batch_reporter(log_json: bool) -> Any:
    from c2v.core.progress import NullBatchReporter, RichBatchReporter

    if log_json or not sys.stderr.isatty():
        return NullBatchReporter()
    return RichBatchReporter()


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
    for section in manifest.sections:
        if section.status is SectionStatus.failed and section.history:
            last = section.history[-1]
            first = last.message.strip().splitlines()[:1]
            cause = f"{last.status.value}: {first[0][:200]}" if first else last.status.value
            click.echo(f"failed:   section {section.id} ({section.title}): {cause}")


register_evaluation(cli)
register_asset_commands(cli)


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
            f"c2v: internal error: {one_line(exc)}",
            err=True,
        )
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
