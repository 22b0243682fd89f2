"""Benchmark: a bundled topic's sections rendered by c2v versus plain `manim render` in a loop.

Three ways over the same frozen scene files, in one run:

1. baseline   plain `manim render` (Manim's own CLI, no sandbox), one section after another;
2. sandboxed  c2v's bubblewrap sandbox, one section after another (per-section overhead);
3. farm       c2v's Ray render tasks, all sections at once (what `c2v generate` does).

Usage: .venv/bin/python scripts/bench_render.py [--topic "Pythagorean theorem"] [--tier l]
The scenes come from a finished case (--case DIR); without one, `c2v demo` makes it first
(not timed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ray

from c2v.agents.coder import scene_name_for
from c2v.case import CaseDir
from c2v.core.slug import slugify
from c2v.core.tiers import Orientation, Tier
from c2v.models import RenderRequest, Storyboard
from cluster.runtime import ensure_ray
from cluster.tasks import render_task
from sandbox.bwrap import BwrapBackend
from sandbox.render import OUTPUT_NAME, prepare_workdir, render_scene


def _storyboard(case: Path) -> Storyboard:
    board = CaseDir(case).read_storyboard()
    if board is None:
        raise SystemExit(f"{case} has no storyboard: give a finished case folder")
    return board


def case_topic(case: Path) -> str:
    return _storyboard(case).topic


def frozen_sections(case: Path) -> list[tuple[str, str]]:
    board = _storyboard(case)
    frozen = CaseDir(case).frozen_code(board)
    return [(s.id, frozen[s.id]) for s in board.sections]


def ensure_case(topic: str, case: Path | None, *extra: str) -> Path:
    if case is not None:
        return case
    out = Path(tempfile.mkdtemp(prefix="c2v-bench-"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "c2v.app.cli",
            "generate",
            topic,
            "-o",
            str(out),
            "--folder_prefix",
            "bench",
            *extra,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out / "bench" / slugify(topic)


def bench_request(section_id: str, code: str, tier: str) -> RenderRequest:
    return RenderRequest(
        case_id="bench",
        section_id=section_id,
        scene_name=scene_name_for(section_id),
        code=code,
        tier=Tier(tier),
        orientation=Orientation.landscape,
    )


def timed_farm(requests: list[RenderRequest]) -> float:
    """Seconds for the Ray render tasks to render ``requests`` all at once."""
    t0 = time.perf_counter()
    outs = ray.get([render_task.remote(r, "bwrap") for r in requests])  # type: ignore[attr-defined]
    assert all(o.result.status.value == "ok" for o in outs), [o.result.message for o in outs]
    return time.perf_counter() - t0


def plain_manim(request: RenderRequest) -> float:
    """Manim's own CLI on the same files, no sandbox: the baseline."""
    with tempfile.TemporaryDirectory(prefix="c2v-bench-plain-") as tmp:
        work = Path(tmp)
        prepare_workdir(work, request)
        manim = str(Path(sys.prefix) / "bin" / "manim")
        cmd = [manim, "render", "scene.py", request.scene_name, "--media_dir", "media", "-o", OUTPUT_NAME]
        cmd += ["--format", "mp4", "--silent", "--disable_caching", "-v", "WARNING"]
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=work, check=True, capture_output=True)
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topic", default="Pythagorean theorem")
    ap.add_argument("--case", type=Path, default=None)
    ap.add_argument("--tier", default="l", choices=[t.value for t in Tier])
    args = ap.parse_args()

    case = ensure_case(args.topic, args.case)
    sections = frozen_sections(case)
    requests = [bench_request(sid, code, args.tier) for sid, code in sections]
    print(f"topic: {case_topic(case)}  tier: {args.tier}  sections: {len(requests)}  cores: {os.cpu_count()}")

    base = [plain_manim(r) for r in requests]
    backend = BwrapBackend()
    boxed = []
    for r in requests:
        out = render_scene(r, backend)
        assert out.result.status.value == "ok", out.result.message
        boxed.append(out.result.wall_s)

    t0 = time.perf_counter()
    ensure_ray()
    ray_start = time.perf_counter() - t0
    farm = timed_farm(requests)

    print(f"\n{'section':>8} {'plain manim s':>14} {'c2v sandbox s':>14} {'overhead s':>11} {'ratio':>7}")
    for r, b, s in zip(requests, base, boxed, strict=True):
        print(f"{r.section_id:>8} {b:14.2f} {s:14.2f} {s - b:11.2f} {s / b:7.2f}")
    tb, ts = sum(base), sum(boxed)
    print(f"{'total':>8} {tb:14.2f} {ts:14.2f} {ts - tb:11.2f} {ts / tb:7.2f}")
    print(f"\nmean sandbox overhead per section: {(ts - tb) / len(requests):.2f} s")
    print(
        f"c2v farm (Ray tasks, all sections at once): {farm:.2f} s "
        f"(Ray start {ray_start:.1f} s, not included)"
    )
    print(f"speed-up of the farm over the plain manim loop: {tb / farm:.2f}x")


if __name__ == "__main__":
    main()
