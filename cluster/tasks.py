"""Section renders as Ray tasks: one sandboxed Manim process per task.

The task's resources come from the run's render pool for the request's tier
(``render_task.options(**pool.task_options())``, see :mod:`cluster.pools`); the decorator's
single CPU is only the default for callers that pass no pool.
"""

from __future__ import annotations

import time

import ray
import structlog

from c2v.core.logs import task_context
from c2v.models import RenderRequest
from sandbox.backends import BackendConfig, build_backend
from sandbox.render import RenderOutput, render_scene

log = structlog.get_logger("c2v.render")

#: Ray retries a task whose worker process or node died (never a scene's own error).
RENDER_TASK_RETRIES = 2


@ray.remote(num_cpus=1, max_retries=RENDER_TASK_RETRIES)
def render_task(request: RenderRequest, backend: BackendConfig) -> RenderOutput:
    with task_context(
        batch=request.batch_id,
        topic=request.case_id,
        section=request.section_id,
        attempt=request.attempt,
        tier=request.tier.value,
    ):
        started = time.monotonic()
        log.info("render_start", backend=backend.kind.value, orientation=request.orientation.value)
        try:
            out = render_scene(request, build_backend(backend))
        except Exception as exc:
            log.error("render_crashed", error=type(exc).__name__, wall_s=round(time.monotonic() - started, 3))
            raise
        log.info("render_done", status=out.result.status.value, wall_s=round(out.result.wall_s, 3))
        return out
