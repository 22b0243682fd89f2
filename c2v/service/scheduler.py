"""The scheduler: queued videos in the store become Ray tasks, at most ``max_in_flight`` at once.

It runs as one Serve replica (not an HTTP one) with a loop thread. On start it hands every
video left ``running`` by a previous scheduler back to the queue: that scheduler's tasks
died with it (Ray kills the tasks of a dead owner), and the next run of each video resumes
from its case folder. Cancels are asked for in the store by the HTTP replicas and carried
out here with ``ray.cancel(force=True, recursive=True)``, since only the owner of a task
can cancel it.
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
from c2v.service.runner import run_video
from c2v.service.settings import ServiceSettings
from c2v.store.db import Database, migrate
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


def _submit(settings: ServiceSettings, video_id: str) -> Any:
    return run_video.options(name=f"video-{video_id}").remote(settings, video_id)


def _reap_containers() -> None:
    """Remove the sandbox containers of this host's dead workers (the killed video's renders)."""
    try:
        removed = reap_orphans()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        log.warning("reap_failed", error=type(exc).__name__)
        return
    log.info("reaped", containers=len(removed))


class Scheduler:
    def __init__(self, settings: ServiceSettings, submit: Submit = _submit, start: bool = True) -> None:
        self.settings = settings
        self.db = Database(settings.db_url.get_secret_value())
        migrate(self.db.engine)
        self.runner = f"scheduler-{secrets.token_hex(6)}"
        self._submit = submit
        self._refs: dict[str, Any] = {}
        self._cancelling: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._error: str | None = None
        resumed = requeue(self.db, orphans(self.db, self.runner), "resumed after a restart of the service")
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
        free = self.settings.max_in_flight - len(self._refs)
        for vid in claim_queued(self.db, free, self.runner):
            log.info("video_started", video=vid)
            self._refs[vid] = self._submit(self.settings, vid)

    def _cancel(self) -> None:
        for vid in cancel_requested(self.db):
            ref = self._refs.get(vid)
            if ref is None:
                finish(self.db, vid, Outcome(status=VideoStatus.cancelled))  # no work of ours runs it
            elif vid not in self._cancelling:
                log.info("video_cancel", video=vid)
                ray.cancel(ref, force=True, recursive=True)
                self._cancelling.add(vid)

    def _collect(self) -> None:
        if not self._refs:
            return
        by_ref = {ref: vid for vid, ref in self._refs.items()}
        ready, _ = ray.wait(list(by_ref), num_returns=len(by_ref), timeout=0)
        for ref in ready:
            vid = by_ref[ref]
            del self._refs[vid]
            self._cancelling.discard(vid)
            try:
                ray.get(ref)
            except ray.exceptions.RayError as exc:
                self._lost(vid, exc)

    def _lost(self, vid: str, exc: Exception) -> None:
        """The task did not return: cancelled, or its worker or node died."""
        video = get_video(self.db, vid)
        if video is None or video.status is not VideoStatus.running:
            return
        if video.cancel_requested:
            if self.settings.sandbox == "docker":
                _reap_containers()  # bubblewrap dies with the worker; a container must be removed
            finish(self.db, vid, Outcome(status=VideoStatus.cancelled))
        elif video.runs < self.settings.max_runs:
            requeue(self.db, [vid], f"its worker was lost ({type(exc).__name__}); resuming")
        else:
            why = f"its worker was lost {video.runs} times, last: {type(exc).__name__}"
            finish(self.db, vid, Outcome(status=VideoStatus.failed, error=why))
