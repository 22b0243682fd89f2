"""Benchmark: how long c2v takes to find out that a generated scene is broken.

In one run, for scenes that fail the way model code does (a removed API, a typo reached only
after several animations, an anchor outside the grid), at each tier of --tiers:

1. precheck   the static check on the host (``c2v.agents.precheck``), no sandbox;
2. dry run    ``manim render --dry_run`` in the sandbox (no frames written);
3. render     the full render in the sandbox, the baseline.

Prints seconds to the verdict and the speed-up of the first two over the full render. The
precheck does not catch a runtime typo (it says "passes"); the dry run catches all three.

Usage: .venv/bin/python scripts/bench_detect.py [--tiers l,h] [--backend bwrap]
"""

from __future__ import annotations

import argparse
import time

from c2v.agents.precheck import precheck
from c2v.models import RenderRequest
from sandbox.backends import check_backend
from sandbox.render import render_scene

HEAD = "from manim import *\nfrom c2v_layout import TeachingScene\n\nclass Section1(TeachingScene):\n"
BODY = """    def construct(self):
        self.show_title("Squares")
        self.show_lecture(["Six squares, one after another"])
        for i in range(6):
            sq = Square(side_length=0.8)
            self.place_at(f"{'ABCDEF'[i]}3", sq)
            self.play(Create(sq), run_time=1.5)
"""
SCENES = {
    "removed API": HEAD + BODY + "        self.play(ShowCreationThenDestruction(Circle()))\n",
    "late typo": HEAD + BODY + '        self.play(Write(Textt("end")))\n',
    "anchor G7": HEAD + BODY + '        self.place_at("G7", Circle())\n        self.wait(1)\n',
}


def timed_render(code: str, tier: str, dry_run: bool, backend_name: str) -> tuple[float, str]:
    request = RenderRequest(
        case_id="bench", section_id="1", scene_name="Section1", code=code, tier=tier,
        orientation="landscape", dry_run=dry_run,
    )  # fmt: skip
    t0 = time.perf_counter()
    out = render_scene(request, check_backend(backend_name))
    return time.perf_counter() - t0, out.result.status.value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", default="l,h")
    parser.add_argument("--backend", default="bwrap")
    args = parser.parse_args()
    print(f"{'scene':<12} {'tier':<4} {'precheck':>16} {'dry run':>18} {'render':>18} {'x dry':>6}")
    for tier in args.tiers.split(","):
        for name, code in SCENES.items():
            t0 = time.perf_counter()
            checked = precheck(code, "Section1")
            pre_s = time.perf_counter() - t0
            pre = "error" if checked.error else "passes"
            dry_s, dry = timed_render(code, tier, True, args.backend)
            full_s, full = timed_render(code, tier, False, args.backend)
            print(
                f"{name:<12} {tier:<4} {pre_s * 1000:>7.1f} ms {pre:<6} {dry_s:>7.2f} s {dry:<10}"
                f" {full_s:>7.2f} s {full:<10} {full_s / dry_s:>5.1f}x"
            )


if __name__ == "__main__":
    main()
