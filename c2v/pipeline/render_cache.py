"""Renders by content: the cache in the case's ``renders/``, and the retry of sandbox failures.

A render's key (:meth:`RenderCache.key`, the one place it is computed) hashes everything that
decides its verdict (code, runtime, Manim version, tier, orientation, limits, dry run or not,
and the sandbox backend with its image), so an unchanged section is never rendered twice, in
this run or a later one, and a verdict is never replayed under other limits or another
sandbox. Results that say something about the code are cached; failures of the
infrastructure are not, and are retried here up to :data:`INFRA_RETRIES` times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import structlog

from c2v.case import CaseDir
from c2v.core.progress import Reporter
from c2v.models import RenderRequest, RenderResult, RenderStatus, RunCounters
from c2v.pipeline.loop import EventLoop
from sandbox.render import RenderOutput, render_key

log = structlog.get_logger("c2v.pipeline")

#: Sandbox failures that are not the scene's fault are retried this many times.
INFRA_RETRIES = 2


class RenderCache:
    def __init__(
        self,
        case: CaseDir,
        loop: EventLoop,
        counters: RunCounters,
        reporter: Reporter,
        backend: str = "",
    ) -> None:
        """``backend``: the sandbox that renders, with its image (:func:`backend_identity`)."""
        self.case = case
        self.backend = backend
        self.loop = loop
        self.counters = counters
        self.report = reporter
        #: Seconds the render tasks took, summed over tasks (they run in parallel).
        self.task_s = 0.0

    def key(self, request: RenderRequest) -> str:
        return verdict_key(request, self.backend)

    def render(self, request: RenderRequest, then: Callable[[str, RenderResult], None]) -> None:
        """Hand ``then`` the request's key and result: from the cache, or from a render."""
        key = self.key(request)
        cached = self.case.load_render(key, needs_video=not request.dry_run)
        if cached is not None:
            self.counters.renders_reused += 1
            log.info("render_reused", section=request.section_id, key=key)
            then(key, cached)
            return
        self._submit(request, key, then, tries=0)

    def _submit(
        self, request: RenderRequest, key: str, then: Callable[[str, RenderResult], None], tries: int
    ) -> None:
        self.report.section(request.section_id, f"rendering {request.tier.value}")

        def on_done(out: RenderOutput) -> None:
            self.counters.renders += 1
            self.task_s += out.result.wall_s
            self.case.save_render(key, out.result, out.video)
            status = out.result.status
            log.info("rendered", section=request.section_id, status=status.value, wall_s=out.result.wall_s)
            if status in (RenderStatus.infra_error, RenderStatus.killed) and tries < INFRA_RETRIES:
                log.warning(
                    "render_retry", section=request.section_id, status=status.value, reason=out.result.message
                )
                self._submit(request, key, then, tries + 1)
                return
            then(key, out.result)

        self.loop.render(request, on_done)


def verdict_key(request: RenderRequest, backend: str = "") -> str:
    """The cache key of a render: :func:`sandbox.render.render_key` and the sandbox backend."""
    if not backend:
        return render_key(request)
    return hashlib.sha256(f"{render_key(request)}\0{backend}".encode()).hexdigest()[:20]


def backend_identity(sandbox: str) -> str:
    """The sandbox a run renders in, as part of a render key: Docker with its image tag."""
    if sandbox == "docker":
        from sandbox.docker import image_setting  # noqa: PLC0415 - docker only when used

        return f"docker:{image_setting()}"
    return sandbox
