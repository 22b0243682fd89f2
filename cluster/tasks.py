"""Section renders as Ray tasks: one sandboxed Manim process per task, one CPU each."""

from __future__ import annotations

import ray

from c2v.models import RenderRequest
from sandbox.backends import make_backend
from sandbox.render import RenderOutput, render_scene

#: Ray retries a task whose worker process or node died (never a scene's own error).
RENDER_TASK_RETRIES = 2


@ray.remote(num_cpus=1, max_retries=RENDER_TASK_RETRIES)
def render_task(request: RenderRequest, backend: str) -> RenderOutput:
    return render_scene(request, make_backend(backend))
