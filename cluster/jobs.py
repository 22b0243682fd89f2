"""Submit a batch as a Ray job, idempotently: a stable submission id attaches, never runs twice.

``c2v submit`` derives the submission id from the batch id. Ray rejects a second job with the
same id, so submitting is "look it up first":

- no job with that id: submit it;
- the job is pending, running or succeeded: attach to it (follow its logs, report its end);
- the job failed or was stopped: submit the next attempt, ``<id>-r2``, ``<id>-r3``, ... The
  batch resumes from its case folders, so an attempt redoes no finished topic, LLM call or
  render (``--no-retry-failed`` only reports the failed job).

Token authentication (Ray >= 2.52; on by default for new local clusters in 2.59+, and
``ray start --head`` turns it on when ``~/.ray/auth_token`` exists): every request to the
dashboard needs ``Authorization: Bearer <token>``. The token is taken, in Ray's own order,
from ``RAY_AUTH_TOKEN``, the file named by ``RAY_AUTH_TOKEN_PATH``, or ``~/.ray/auth_token``
(``ray get-auth-token`` prints the head node's). ``RAY_AUTH_MODE=disabled`` sends none.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import structlog
from ray.exceptions import AuthenticationError
from ray.job_submission import JobSubmissionClient

from c2v.errors import ClusterError, ConfigError, one_line

log = structlog.get_logger("c2v.jobs")

DEFAULT_DASHBOARD = "http://127.0.0.1:8265"
AUTH_MODE_ENV = "RAY_AUTH_MODE"
AUTH_TOKEN_ENV = "RAY_AUTH_TOKEN"  # noqa: S105 - a variable name, not a secret
AUTH_TOKEN_PATH_ENV = "RAY_AUTH_TOKEN_PATH"  # noqa: S105


class JobState(StrEnum):
    """Ray's job status (``ray.job_submission.JobStatus``), as c2v reports it."""

    pending = "PENDING"
    running = "RUNNING"
    stopped = "STOPPED"
    succeeded = "SUCCEEDED"
    failed = "FAILED"

    def is_terminal(self) -> bool:
        return self in {JobState.stopped, JobState.succeeded, JobState.failed}

    def is_live_or_done(self) -> bool:
        """True for a job that a re-submission attaches to instead of running again."""
        return self in {JobState.pending, JobState.running, JobState.succeeded}


class JobsClient(Protocol):
    """The part of ``ray.job_submission.JobSubmissionClient`` c2v uses (a fake in tests)."""

    def get_job_info(self, job_id: str) -> Any: ...
    def submit_job(self, *, entrypoint: str, submission_id: str, runtime_env: dict[str, Any]) -> str: ...
    def get_job_logs(self, job_id: str) -> str: ...


@dataclass(frozen=True)
class Attachment:
    submission_id: str
    submitted: bool  # False: an existing job was found and attached to
    state: JobState


# --- authentication ----------------------------------------------------------------------
def default_token_path() -> Path:
    return Path.home() / ".ray" / "auth_token"


def auth_token(env: Mapping[str, str]) -> str | None:
    """The cluster token, looked up where Ray looks (see the module docstring)."""
    if env.get(AUTH_MODE_ENV, "").strip().lower() == "disabled":
        return None
    token = env.get(AUTH_TOKEN_ENV, "").strip()
    if token:
        return token
    named = env.get(AUTH_TOKEN_PATH_ENV, "").strip()
    path = Path(named).expanduser() if named else default_token_path()
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    except OSError as exc:
        raise ConfigError(f"cannot read the Ray token file {path}: {exc.strerror}") from None
    if named and not token:
        raise ConfigError(f"{AUTH_TOKEN_PATH_ENV}={named} names an empty or missing token file")
    if not token and env.get(AUTH_MODE_ENV, "").strip().lower() == "token":
        raise ConfigError(
            f"{AUTH_MODE_ENV}=token but no token was found: set {AUTH_TOKEN_ENV}, or copy the output "
            f"of `ray get-auth-token` on the head node to {default_token_path()}"
        )
    return token or None


def auth_headers(env: Mapping[str, str]) -> dict[str, str]:
    token = auth_token(env)
    return {"Authorization": f"Bearer {token}"} if token else {}


def connect(address: str, env: Mapping[str, str]) -> JobsClient:
    """A job submission client for the dashboard at ``address``, with the token if there is one."""
    try:
        client: JobsClient = JobSubmissionClient(address, headers=auth_headers(env))
    except AuthenticationError as exc:
        raise ClusterError(_auth_hint(address, exc)) from None
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Ray job server at {address}: {_first(exc)}") from None
    return client


def _auth_hint(address: str, exc: BaseException) -> str:
    return (
        f"the Ray job server at {address} rejected the request ({_first(exc)}); it uses token "
        f"authentication: set {AUTH_TOKEN_ENV}, or put the head node's token (`ray get-auth-token`) "
        f"in {default_token_path()}"
    )


def _first(exc: BaseException) -> str:
    return one_line(exc, 300, typed=False)


# --- submit or attach --------------------------------------------------------------------
def job_state(client: JobsClient, submission_id: str) -> JobState | None:
    """The job's state, or None when the cluster has no job with that submission id."""
    try:
        info = client.get_job_info(submission_id)
    except AuthenticationError as exc:
        raise ClusterError(_auth_hint("the cluster", exc)) from None
    except RuntimeError as exc:
        if "404" in str(exc) or "does not exist" in str(exc):
            return None
        raise ClusterError(f"cannot look up Ray job {submission_id}: {_first(exc)}") from None
    except ConnectionError as exc:
        raise ClusterError(f"cannot reach the Ray job server: {_first(exc)}") from None
    return JobState(str(getattr(info.status, "value", info.status)))


def submit_or_attach(
    client: JobsClient,
    submission_id: str,
    entrypoint: str,
    runtime_env: dict[str, Any],
    retry_failed: bool = True,
    max_attempts: int = 50,
) -> Attachment:
    """Attach to the job with ``submission_id`` if it is live or done, else submit it.

    A failed or stopped job is followed by the next free ``<id>-r<n>`` when ``retry_failed``.
    """
    candidate = submission_id
    for attempt in range(1, max_attempts + 1):
        if attempt > 1:
            candidate = f"{submission_id}-r{attempt}"
        state = job_state(client, candidate)
        if state is None:
            return _submit(client, candidate, entrypoint, runtime_env)
        if state.is_live_or_done() or not retry_failed:
            return Attachment(candidate, submitted=False, state=state)
    raise ClusterError(f"Ray job {submission_id} failed {max_attempts} times; not submitting it again")


def _submit(
    client: JobsClient, submission_id: str, entrypoint: str, runtime_env: dict[str, Any]
) -> Attachment:
    try:
        client.submit_job(entrypoint=entrypoint, submission_id=submission_id, runtime_env=runtime_env)
    except RuntimeError as exc:
        if "already exists" not in str(exc):
            raise ClusterError(f"cannot submit Ray job {submission_id}: {_first(exc)}") from None
        # Another submitter won the race for this id: attach to its job.
        state = job_state(client, submission_id) or JobState.pending
        return Attachment(submission_id, submitted=False, state=state)
    return Attachment(submission_id, submitted=True, state=JobState.pending)


# --- following a job ---------------------------------------------------------------------
def follow(
    client: JobsClient,
    submission_id: str,
    write: Callable[[str], None],
    poll_s: float = 1.0,
) -> JobState:
    """Print the job's logs as they grow until it ends; return its final state.

    Streams over the job server's websocket when the client can; if that breaks, polls.
    """
    shown = 0
    tail = getattr(client, "tail_job_logs", None)
    if tail is not None:

        async def stream() -> None:
            nonlocal shown
            async for chunk in tail(submission_id):
                write(chunk)
                shown += len(chunk)

        try:
            asyncio.run(stream())
        except Exception as exc:  # a broken websocket (aiohttp, proxies): poll for the rest instead
            log.warning("job_log_stream_broken", job=submission_id, error=_first(exc))
        else:
            return _wait_terminal(client, submission_id, poll_s, timeout_s=30.0)
    return _poll(client, submission_id, write, poll_s, shown)


def _wait_terminal(client: JobsClient, submission_id: str, poll_s: float, timeout_s: float) -> JobState:
    deadline = time.monotonic() + timeout_s
    while True:
        state = job_state(client, submission_id) or JobState.failed
        if state.is_terminal() or time.monotonic() > deadline:
            return state
        time.sleep(poll_s)


def _poll(
    client: JobsClient, submission_id: str, write: Callable[[str], None], poll_s: float, shown: int
) -> JobState:
    while True:
        state = job_state(client, submission_id) or JobState.failed
        logs = client.get_job_logs(submission_id)
        if len(logs) > shown:
            write(logs[shown:])
            shown = len(logs)
        if state.is_terminal():
            return state
        time.sleep(poll_s)


# --- the batch entry point ---------------------------------------------------------------
def batch_entrypoint(topics_file: str, batch_args: Sequence[str], python: str = "python") -> str:
    """The shell command a Ray job runs: ``python -m c2v batch TOPICS ...``."""
    return shlex.join([python, "-m", "c2v", "batch", topics_file, *batch_args])


def option_value(args: Sequence[str], *names: str) -> str | None:
    """The value of the last ``--name VALUE`` or ``--name=VALUE`` among ``args``."""
    found = None
    for n, arg in enumerate(args):
        for name in names:
            if arg == name and n + 1 < len(args):
                found = args[n + 1]
            elif arg.startswith(name + "="):
                found = arg[len(name) + 1 :]
    return found


def parse_env_pairs(pairs: Sequence[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--env wants NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


def default_write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
