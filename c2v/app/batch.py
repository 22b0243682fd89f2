"""``c2v batch``, ``c2v status`` and ``c2v submit``: many topics, on this machine or as a Ray job."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from c2v.app.options import batch_reporter, generate_options, prepare, render_options, run_config
from c2v.errors import BatchFailed, ClusterError, UsageError
from c2v.llm.offline import find_transcript
from c2v.llm.settings import ProviderKind, resolve_provider


@click.command()
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
@generate_options
@render_options
def batch(topics_file: Path | None, knowledge_file: Path | None, **opts: Any) -> None:
    """Generate a video for every topic of TOPICS_FILE (a JSON list, e.g. MMMC's topics.json).

    Re-running the same command resumes: finished topics are skipped, unfinished ones replay
    their stored LLM calls and renders. Writes <output>/<prefix>/batch.json and batch.md;
    exits 1 if any topic failed.
    """
    chosen = knowledge_file if knowledge_file is not None else topics_file
    if chosen is None:
        raise click.UsageError("give a TOPICS_FILE (or --knowledge_file)")
    run_batch(chosen, **opts)


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print batch.json or manifest.json as stored.")
def status(path: Path, as_json: bool) -> None:
    """Show a batch (its folder holds batch.json) or one case (manifest.json), running or done."""
    from c2v.batch.status import raw_json, status_text

    click.echo(raw_json(path) if as_json else status_text(path), nl=False)


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
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
        from c2v.batch.topics import check_batch_id, default_batch_id
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


def run_batch(
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
    from c2v.batch.publish import StoragePublisher
    from c2v.batch.report import BATCH_JSON, BatchReport, markdown_table, summary_line
    from c2v.batch.runner import BatchRunner
    from c2v.batch.topics import check_batch_id, default_batch_id, load_topics, select_topics
    from c2v.core.slug import check_prefix
    from cluster.runtime import ensure_ray

    prefix = check_prefix(opts["folder_prefix"])
    topics = select_topics(load_topics(topics_file), max_concepts)
    bid = check_batch_id(batch_id) if batch_id else default_batch_id(topics_file, prefix)
    llm = resolve_provider(opts["api"], opts.get("api_config"))
    configs = [run_config(t, **opts).model_copy(update={"llm": llm, "batch_id": bid}) for t in topics]
    first = prepare(configs[0], opts["log_json"])
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
        progress=batch_reporter(opts["log_json"]),
        start_ray=lambda: ensure_ray(first.ray_address, num_cpus=num_cpus),
    )
    report = runner.run()
    click.echo(markdown_table(report), nl=False)
    click.echo(summary_line(report))
    click.echo(f"batch:    {batch_dir / BATCH_JSON}")
    failed = [t for t in report.topics if t.status.is_failure()]
    if failed:
        names = ", ".join(repr(t.topic) for t in failed[:5]) + (" ..." if len(failed) > 5 else "")
        raise BatchFailed(
            f"{len(failed)} of {len(report.topics)} topics failed ({names}); "
            "run the same command again to retry them (finished work is kept)"
        )


def register(cli: click.Group) -> None:
    for command in (batch, status, submit):
        cli.add_command(command)
