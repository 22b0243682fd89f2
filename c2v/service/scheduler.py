"""The scheduler: queued videos and revisions in the store become Ray tasks, at most
``max_in_flight`` of them at once (revisions first: a person is waiting on each).

It runs as one Serve replica (not an HTTP one) with a loop thread. On start it hands every
video and revision left ``running`` by a previous scheduler back to the queue: that
scheduler's tasks died with it (Ray kills the tasks of a dead owner), and the next run of
each resumes from its case folder. Cancels are asked for in the store by the HTTP replicas
and carried out here with ``ray.cancel(force=True, recursive=True)``, since only the owner
of a task can cancel it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

import docker
import ray
import requests
import structlog

from c2v.errors import C2VError
from c2v.service.revising import run_revision
from c2v.service.runner import run_video
from c2v.service.settings import ServiceSettings
from c2v.store.db import Database, migrate
from c2v.store.revisions import (
    RevisionOutcome,
    claim_revisions,
    finish_revision,
    get_revision,
    orphan_revisions,
    requeue_revisions,
    revision_cancels,
)
from c2v.store.schema import VideoStatus
from c2v.store.videos import (
    Outcome,
    cancel_requested,
    claim_queued,
    finish,
    get_video,
    orphans,
    requeue,
)
from sandbox.docker import reap_orphans

log = structlog.get_logger("c2v.service.scheduler")

Submit = Callable[[ServiceSettings, str], Any]
SubmitRevision = Callable[[ServiceSettings, int], Any]


def _submit(settings: ServiceSettings, video_id: str) -> Any:
    return run_video.options(name=f"video-{video_id}").remote(settings, video_id)


def _submit_revision(settings: ServiceSettings, revision_id: int) -> Any:
    return run_revision.options(name=f"revision-{revision_id}").remote(settings, revision_id)


def _reap_containers() -> None:
    """Remove the sandbox containers of this host's dead workers (the killed video's renders)."""
    try:
        removed = reap_orphans()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        log.warning("reap_failed", error=type(exc).__name__)
        return
    log.info("reaped", containers=len(removed))


class Scheduler:
    def __init__(
        self,
        settings: ServiceSettings,
        submit: Submit = _submit,
        start: bool = True,
        submit_revision: SubmitRevision = _submit_revision,
    ) -> None:
        self.settings = settings
        self.db = Database(settings.db_url.get_secret_value())
        migrate(self.db.engine)
        self.runner = f"scheduler-{secrets.token_hex(6)}"
        self._submit = submit
        self._submit_revision = submit_revision
        self._refs: dict[str, Any] = {}
        self._revs: dict[int, Any] = {}
        self._cancelling: set[str | int] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._error: str | None = None
        why = "resumed after a restart of the service"
        resumed = requeue(self.db, orphans(self.db, self.runner), why)
        resumed += requeue_revisions(self.db, orphan_revisions(self.db, self.runner), why)
        log.info("scheduler_started", runner=self.runner, resumed=resumed)
        self._thread = threading.Thread(target=self._loop, name="c2v-scheduler", daemon=True)
        if start:
            self._thread.start()

    # -- called by the HTTP replicas and Serve ------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def check(self) -> None:
        """Serve's health check: a dead loop makes Serve replace this replica."""
        if self._error is not None or (self._thread.ident is not None and not self._thread.is_alive()):
            raise RuntimeError(f"the scheduler loop stopped: {self._error}")

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def running(self) -> list[str]:
        return list(self._refs)

    @property
    def revising(self) -> list[int]:
        return list(self._revs)

    # -- the loop -------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except C2VError as exc:  # the store was briefly unreachable: try again
                log.warning("scheduler_step_failed", error=str(exc))
            except Exception as exc:
                self._error = f"{type(exc).__name__}: {exc}"
                raise
            self._wake.wait(self.settings.poll_s)
            self._wake.clear()

    def step(self) -> None:
        self._cancel()
        self._collect()
        for rid in claim_revisions(self.db, self._free(), self.runner):
            log.info("revision_started", revision=rid)
            self._revs[rid] = self._submit_revision(self.settings, rid)
        for vid in claim_queued(self.db, self._free(), self.runner):
            log.info("video_started", video=vid)
            self._refs[vid] = self._submit(self.settings, vid)

    def _free(self) -> int:
        return self.settings.max_in_flight - len(self._refs) - len(self._revs)

    def _cancel(self) -> None:
        asked: list[str | int] = [*cancel_requested(self.db), *revision_cancels(self.db)]
        for key in asked:
            ref = self._revs.get(key) if isinstance(key, int) else self._refs.get(key)
            if ref is None:
                self._end(key, VideoStatus.cancelled)  # no work of ours runs it
            elif key not in self._cancelling:
                log.info("work_cancel", work=key)
                ray.cancel(ref, force=True, recursive=True)
                self._cancelling.add(key)

    def _collect(self) -> None:
        by_ref: dict[Any, str | int] = {ref: vid for vid, ref in self._refs.items()}
        by_ref.update({ref: rid for rid, ref in self._revs.items()})
        if not by_ref:
            return
        ready, _ = ray.wait(list(by_ref), num_returns=len(by_ref), timeout=0)
        for ref in ready:
            key = by_ref[ref]
            self._cancelling.discard(key)
            if isinstance(key, int):
                del self._revs[key]
            else:
                del self._refs[key]
            try:
                ray.get(ref)
            except ray.exceptions.RayError as exc:
                self._lost(key, exc)

    def _lost(self, key: str | int, exc: Exception) -> None:
        """The task of a video (``str`` id) or revision (``int`` id) did not return:
        cancelled, or its worker or node died."""
        row = get_revision(self.db, key) if isinstance(key, int) else get_video(self.db, key)
        if row is None or row.status is not VideoStatus.running:
            return
        if row.cancel_requested:
            if self.settings.sandbox == "docker":
                _reap_containers()  # bubblewrap dies with the worker; a container must be removed
            self._end(key, VideoStatus.cancelled)
        elif row.runs < self.settings.max_runs:
            why = f"its worker was lost ({type(exc).__name__}); resuming"
            if isinstance(key, int):
                requeue_revisions(self.db, [key], why)
            else:
                requeue(self.db, [key], why)
        else:
            self._end(
                key, VideoStatus.failed, f"its worker was lost {row.runs} times, last: {type(exc).__name__}"
            )

    def _end(self, key: str | int, status: VideoStatus, error: str | None = None) -> None:
        if isinstance(key, int):
            finish_revision(self.db, key, RevisionOutcome(status=status, error=error))
        else:
            finish(self.db, key, Outcome(status=status, error=error))
