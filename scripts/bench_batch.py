"""Benchmark: `c2v batch` on the embedded Ray instance versus plain `manim render` in a loop.

In one run, over the same topics (default: every bundled offline topic, tier l):

1. farm      `c2v batch` with Ray capped at each of --cpus (default 1 and 2): the whole
             pipeline, offline LLM replies, every render attempt (repairs included), stitching;
2. baseline  the same sections' final code (read from the farm's case folders) rendered by
             Manim's own CLI, no sandbox, one section after another.

Prints wall time, sections per minute, the speed-up of each farm run over the baseline, and
how the farm scales from the fewest to the most CPUs.

Usage: .venv/bin/python scripts/bench_batch.py [--topics 4] [--tier l] [--cpus 1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_render import bench_request, frozen_sections, plain_manim

from c2v.core.tiers import Tier
from c2v.llm.offline import bundled_transcripts


def run_batch(topics: Path, out: Path, tier: str, cpus: int, sandbox: str) -> tuple[float, dict]:
    """Wall seconds of one `c2v batch` run (Ray start included) and its batch.json."""
    cmd = [sys.executable, "-m", "c2v", "batch", str(topics), "-o", str(out), "--folder-prefix", "bench"]
    cmd += ["--video-quality", tier, "--parallel-groups", str(len(json.loads(topics.read_text())))]
    cmd += ["--num-cpus", str(cpus), "--sandbox", sandbox, "--log-json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"c2v batch failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return wall, json.loads((out / "bench" / "batch.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bundled = [t.topic for t in bundled_transcripts()]
    ap.add_argument("--topics", type=int, default=len(bundled), help=f"how many of {bundled}")
    ap.add_argument("--tier", default="l", choices=[t.value for t in Tier])
    ap.add_argument("--cpus", default="1,2", help="Ray CPU caps to compare, comma-separated")
    ap.add_argument("--sandbox", default="bwrap", choices=["bwrap", "docker"])
    args = ap.parse_args()

    chosen = bundled[: args.topics]
    caps = sorted({int(c) for c in args.cpus.split(",")})
    work = Path(tempfile.mkdtemp(prefix="c2v-bench-batch-"))
    topics = work / "topics.json"
    topics.write_text(json.dumps(chosen, ensure_ascii=False), encoding="utf-8")
    print(f"topics: {len(chosen)} {chosen}  tier: {args.tier}  machine cores: {os.cpu_count()}")

    farm: dict[int, tuple[float, dict]] = {}
    for cpus in caps:
        farm[cpus] = run_batch(topics, work / f"farm-{cpus}cpu", args.tier, cpus, args.sandbox)
        wall, record = farm[cpus]
        renders = sum(t["renders"] for t in record["topics"])
        print(f"c2v batch, Ray capped at {cpus} CPU(s): {wall:.1f} s, {renders} renders")

    cases = work / f"farm-{caps[-1]}cpu" / "bench"
    requests = [
        bench_request(sid, code, args.tier)
        for t in farm[caps[-1]][1]["topics"]
        for sid, code in frozen_sections(cases / t["slug"])
    ]
    base = sum(plain_manim(r) for r in requests)
    sections = len(requests)
    print(f"plain `manim render` loop over the {sections} final sections: {base:.1f} s")

    def spm(seconds: float) -> float:
        return sections / (seconds / 60)

    print(f"\n{'run':<34} {'wall s':>8} {'sections/min':>13} {'vs baseline':>12}")
    print(f"{'plain manim, one after another':<34} {base:8.1f} {spm(base):13.2f} {1.0:11.2f}x")
    for cpus in caps:
        wall = farm[cpus][0]
        print(f"{f'c2v batch, {cpus} CPU(s)':<34} {wall:8.1f} {spm(wall):13.2f} {base / wall:11.2f}x")
    if len(caps) > 1:
        lo, hi = caps[0], caps[-1]
        print(
            f"\nscaling {lo} -> {hi} CPUs: {farm[lo][0] / farm[hi][0]:.2f}x faster "
            f"(ideal {hi / lo:.0f}x); the farm also renders repair attempts, plans, and stitches, "
            "which the baseline does not"
        )
    print(f"\ncases kept in {work}")


if __name__ == "__main__":
    main()
