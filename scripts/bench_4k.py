"""Benchmark: 4K at scale. Chunked section renders and the pipelined final tier, in one run.

Parts (``--parts``, all by default), each against its baseline in the same run:

long    one long section of our own (``--plays`` plays of ``--play-s`` seconds) at ``--tier``:
        whole (one Ray render task) vs chunked (``--chunks`` tasks at once, joined by copy),
        plus the exactness check at ``l`` and the per-chunk overhead (process start, skipped
        animations, LaTeX) that predicts the gain on N cores;
demo    the bundled demo topic at ``--tier``: plain ``manim render`` in a loop vs ``c2v render``
        per section (``--chunks off``) vs chunked (``--chunks N``);
critic  ``c2v demo``'s critic run at ``--critic-tier`` with the final tier after the loop
        (sequential) vs started per section as the critic passes it (pipelined).

Usage: .venv/bin/python scripts/bench_4k.py [--tier k] [--parts long,demo,critic] [--chunks 2]
A smaller variant for a shared machine: --tier m --plays 8 --parts long,critic --critic-tier m
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ray

from c2v.config import RunConfig
from c2v.core.tiers import Orientation, Tier, video_format
from c2v.llm.settings import resolve_provider
from c2v.media.stitch import picture_only, stitch
from c2v.models import RenderRequest, SandboxLimits
from c2v.pipeline import Pipeline, case_dir_for
from c2v.pipeline.chunks import compare_frames, frame_hashes, plan_ranges
from cluster.runtime import ensure_ray
from cluster.tasks import render_task
from sandbox.backends import resolve_config
from sandbox.render import RenderOutput

sys.path.insert(0, str(Path(__file__).parent))
from bench_render import bench_request, ensure_case, frozen_sections, plain_manim

LONG = """from manim import *

class Section1(Scene):
    def construct(self):
        label = MathTex(r"\\sum_{{k=1}}^{{n}} k = \\frac{{n(n+1)}}{{2}}").to_edge(UP)
        self.play(Write(label), run_time={play_s})
        shapes = VGroup()
        for i in range({plays} - 1):
            s = RegularPolygon(3 + i % 5, color=[BLUE, RED, GREEN, YELLOW][i % 4]).scale(0.6)
            s.move_to(LEFT * 5 + RIGHT * (i % 6) * 2 + DOWN * (i // 6 % 2) * 2)
            shapes.add(s)
            self.play(Create(s), s.animate.rotate(PI / 3), run_time={play_s})
"""

#: 4K on a loaded 2-core machine outlasts the default 180 s render limit.
LIMITS = SandboxLimits(wall_s=1200, cpu_s=2400)
EMPTY = "from manim import *\n\nclass Section1(Scene):\n    def construct(self):\n        self.wait(0.1)\n"


def run_tasks(requests: list[RenderRequest]) -> tuple[float, list[RenderOutput]]:
    backend = resolve_config("bwrap")
    t0 = time.perf_counter()
    outs: list[RenderOutput] = ray.get([render_task.remote(r, backend) for r in requests])  # type: ignore[attr-defined]
    wall = time.perf_counter() - t0
    bad = [o.result.message for o in outs if o.result.status.value != "ok"]
    assert not bad, bad
    return wall, outs


def join(outs: list[RenderOutput], work: Path) -> tuple[float, Path]:
    t0 = time.perf_counter()
    parts = []
    for i, out in enumerate(outs):
        raw, part = work / f"raw{i}.mp4", work / f"part{i}.mp4"
        raw.write_bytes(out.video or b"")
        picture_only(raw, part)
        parts.append(part)
    joined = work / "joined.mp4"
    stitch(parts, joined)
    return time.perf_counter() - t0, joined


def bench_long(tier: str, plays: int, play_s: float, n: int, repeat: int) -> None:
    """Whole vs chunked, alternated ``repeat`` times (the best of each kept: the machine is shared)."""
    code = LONG.format(plays=plays, play_s=play_s)
    whole_req = bench_request("1", code, tier).model_copy(update={"limits": LIMITS})
    fps = video_format(Tier(tier), Orientation.landscape).fps
    with tempfile.TemporaryDirectory(prefix="c2v-bench-4k-") as tmp:
        work = Path(tmp)
        t_whole, (whole,) = run_tasks([whole_req])
        ranges = plan_ranges(whole.result.play_ends, fps, n)
        chunk_reqs = [whole_req.model_copy(update={"animations": r}) for r in ranges]
        t_chunks, outs = run_tasks(chunk_reqs)
        for _ in range(repeat - 1):
            t, (again,) = run_tasks([whole_req])
            if t < t_whole:
                t_whole, whole = t, again
            t, more = run_tasks(chunk_reqs)
            if t < t_chunks:
                t_chunks, outs = t, more
        serial = [run_tasks([c])[1][0].result.wall_s for c in chunk_reqs]  # one at a time: no contention
        t_join, joined = join(outs, work)
        (work / "whole.mp4").write_bytes(whole.video or b"")
        exact = compare_frames(frame_hashes(work / "whole.mp4"), [frame_hashes(joined)])
        check = [whole_req, *chunk_reqs]
        t_check, _ = run_tasks([c.model_copy(update={"tier": Tier.l}) for c in check])
        t_start, _ = run_tasks([bench_request("1", EMPTY, tier).model_copy(update={"limits": LIMITS})])
    task_sum = sum(o.result.wall_s for o in outs)
    overhead = (sum(serial) - whole.result.wall_s) / max(1, len(outs) - 1)
    seconds = whole.result.video_duration_s or 0
    print(f"\n[long] {plays} plays, {seconds:.1f} s of video at {tier}, {len(outs)} chunks "
          f"{[r.argv() for r in ranges]}, best of {repeat}")  # fmt: skip
    print(f"  whole, one task:             {t_whole:7.2f} s (sandbox {whole.result.wall_s:.2f} s)")
    print(f"  chunked, {len(outs)} tasks at once:    {t_chunks:7.2f} s + join {t_join:.2f} s "
          f"-> {t_whole / (t_chunks + t_join):.2f}x")  # fmt: skip
    print(f"  exactness check at l:        {t_check:7.2f} s (whole + chunks; once per code version)")
    print(f"  frames identical to whole:   {exact is None} {exact or ''}")
    print(f"  chunk walls at once: {[round(o.result.wall_s, 2) for o in outs]} (sum {task_sum:.2f} s)")
    print(f"  chunk walls one at a time: {[round(w, 2) for w in serial]} (sum {sum(serial):.2f} s)")
    print(f"  overhead per extra chunk:    {overhead:7.2f} s (one at a time vs whole; an empty scene "
          f"takes {t_start:.2f} s)")  # fmt: skip
    print(f"  predicted on N free cores:   about {whole.result.wall_s:.1f} s / N + {overhead:.1f} s")


def c2v_render(case: Path, tier: str, chunks: str) -> float:
    """``c2v render`` of a fresh copy of ``case`` (no cached renders), in seconds."""
    with tempfile.TemporaryDirectory(prefix="c2v-bench-4k-case-") as tmp:
        copy = Path(tmp) / case.name
        shutil.copytree(case, copy, ignore=shutil.ignore_patterns("renders", "video.mp4", ".lock"))
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "c2v.app.cli", "render", str(copy), "-q", tier, "--chunks", chunks]
        subprocess.run([*cmd, "--sandbox", "bwrap"], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def bench_demo(tier: str, n: int) -> None:
    case = ensure_case("Pythagorean theorem", None, "--api", "offline", "--no-narration")
    requests = [bench_request(sid, code, tier) for sid, code in frozen_sections(case)]
    plain = sum(plain_manim(r) for r in requests)
    per_section = c2v_render(case, tier, "off")
    chunked = c2v_render(case, tier, str(n))
    print(f"\n[demo] {len(requests)} sections at {tier}")
    print(f"  plain manim render, in a loop: {plain:7.2f} s")
    print(f"  c2v render, per section:       {per_section:7.2f} s  ({plain / per_section:.2f}x)")
    print(f"  c2v render, {n} chunks each:     {chunked:7.2f} s  ({plain / chunked:.2f}x)")


def bench_critic(tier: str, topic: str) -> None:
    walls = {}
    for pipelined in (False, True):
        with tempfile.TemporaryDirectory(prefix="c2v-bench-4k-critic-") as tmp:
            cfg = RunConfig(topic=topic, api="offline", llm=resolve_provider("offline"),
                            output_dir=Path(tmp), tier=tier, use_feedback=True, feedback_rounds=2,
                            sandbox="bwrap", chunks="off", pipeline_final=pipelined)  # fmt: skip
            t0 = time.perf_counter()
            Pipeline(cfg, case_dir_for(cfg)).generate()
            walls[pipelined] = time.perf_counter() - t0
    print(f"\n[critic] {topic}, offline, with the critic loop, final tier {tier}")
    print(f"  final tier after the loop (sequential): {walls[False]:7.2f} s")
    print(f"  final tier as the critic passes (pipelined): {walls[True]:7.2f} s "
          f"({walls[False] / walls[True]:.2f}x)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tier", default="k", choices=[t.value for t in Tier])
    ap.add_argument("--parts", default="long,demo,critic")
    ap.add_argument("--chunks", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--plays", type=int, default=12)
    ap.add_argument("--play-s", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=2, help="alternate whole and chunked this often")
    ap.add_argument("--critic-topic", default="Binary search", help="a bundled topic the critic flags")
    ap.add_argument("--critic-tier", default="h", choices=[t.value for t in Tier])
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    print(f"tier {args.tier}, {os.cpu_count()} cores, parts {sorted(parts)}")
    ensure_ray()
    if "long" in parts:
        bench_long(args.tier, args.plays, args.play_s, args.chunks, args.repeat)
    if "demo" in parts:
        bench_demo(args.tier, args.chunks)
    if "critic" in parts:
        bench_critic(args.critic_tier, args.critic_topic)


if __name__ == "__main__":
    main()
