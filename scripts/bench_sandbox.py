"""Benchmark: what each sandbox costs over bare `manim render`, for one scene at two tiers.

For the same scene file, in one run: bare `manim render` (Manim's CLI, no sandbox), the
bubblewrap backend and the Docker backend (hardened container from the sandbox image),
each repeated and the median taken. Prints seconds, overhead in seconds and the ratio to
bare Manim.

Usage: .venv/bin/python scripts/bench_sandbox.py [--section 2] [--tiers l h] [--repeat 3]
The scene is a section of a finished case (--case DIR); without one, the demo topic is
generated first (not timed). Needs the Docker engine and `make sandbox-image`.
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Callable
from pathlib import Path

from bench_render import bench_request, case_topic, ensure_case, frozen_sections, plain_manim

from c2v.app.generate import DEMO_TOPIC
from c2v.core.tiers import Tier
from c2v.models import RenderRequest
from sandbox.backends import check_backend
from sandbox.render import render_scene


def sandboxed(name: str) -> Callable[[RenderRequest], float]:
    backend = check_backend(name)

    def run(request: RenderRequest) -> float:
        out = render_scene(request, backend)
        assert out.result.status.value == "ok", out.result.message
        return out.result.wall_s

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topic", default=DEMO_TOPIC)
    ap.add_argument("--case", type=Path, default=None)
    ap.add_argument("--section", type=int, default=2, help="1-based section number of the case")
    ap.add_argument("--tiers", nargs="+", default=["l", "h"], choices=[t.value for t in Tier])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    case = ensure_case(args.topic, args.case, "--sandbox", "bwrap")
    section_id, code = frozen_sections(case)[args.section - 1]
    ways: dict[str, Callable[[RenderRequest], float]] = {
        "bare manim": plain_manim,
        "bwrap": sandboxed("bwrap"),
        "docker": sandboxed("docker"),
    }
    print(
        f"topic: {case_topic(case)}  section: {section_id}  repeat: {args.repeat} (median)  "
        f"cores: {os.cpu_count()}"
    )
    print(f"\n{'tier':>4} {'way':>11} {'seconds':>8} {'overhead s':>11} {'ratio':>6}")
    for tier in args.tiers:
        request = bench_request(section_id, code, tier)
        for run in ways.values():
            run(request)  # warm caches (TeX, fonts, the image's page cache); not timed
        medians = {
            name: statistics.median(run(request) for _ in range(args.repeat)) for name, run in ways.items()
        }
        bare = medians["bare manim"]
        for name, seconds in medians.items():
            print(f"{tier:>4} {name:>11} {seconds:8.2f} {seconds - bare:11.2f} {seconds / bare:6.2f}")


if __name__ == "__main__":
    main()
