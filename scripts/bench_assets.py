"""Benchmark asset resolution per element, in one run: from the cache, the bundled set, a remote fake.

Each round resolves the same element names with a fresh resolver: "bundled" and "iconify
(fake)" start from an empty cache (so every element is looked up, checked and stored),
"cache" reruns the bundled round's names against its filled cache (the baseline). The Iconify
fake is the wire-level one of the tests, on 127.0.0.1, so "remote" measures c2v's own HTTP,
checking and rasterising cost, not the internet.

With ``--render N`` it also renders the *Binary search* demo's section 1 (tier l, bubblewrap)
N times with its icon and N times with the same code and no icon (the baseline: the scene's
``place_image`` then draws nothing), and prints the added render seconds per section.

Usage: .venv/bin/python scripts/bench_assets.py [--rounds 3] [--render 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from c2v.agents.coder import scene_name_for
from c2v.assets import AssetResolver, AssetSettings, ResolvedAsset, SourceChoice
from c2v.assets.iconset import bundled_sets
from c2v.core.tiers import Tier
from c2v.llm.offline import find_transcript
from c2v.llm.parsing import extract_json, extract_python
from c2v.models import RenderRequest, Storyboard
from c2v.pipeline.assets import RunAssets
from sandbox.bwrap import BwrapBackend
from sandbox.render import render_scene
from tests.asset_fakes import GRADIENT_SVG, PLAIN_SVG, IconifyWire, collection
from tests.llm_fakes import FakeProvider

ELEMENTS = ["magnifying glass", "coin", "planet", "light bulb", "probability", "rocket", "brain", "atom"]
ELEMENTS += ["hourglass", "balance scale"]
ELEMENTS += ["trophy", "microscope", "globe", "gear", "key", "books"]


def remote_wire() -> IconifyWire:
    icons = {}
    for i, name in enumerate(ELEMENTS):
        slug = name.replace(" ", "-")
        icons[f"{'noto' if i % 4 == 0 else 'mdi'}:{slug}"] = GRADIENT_SVG if i % 4 == 0 else PLAIN_SVG
    sets = {"noto": collection("Noto", "Apache-2.0"), "mdi": collection("MDI", "Apache-2.0", palette=False)}
    return IconifyWire(icons=icons, collections=sets)


def timed(settings: AssetSettings, names: list[str]) -> tuple[list[float], int]:
    per: list[float] = []
    hits = 0
    with AssetResolver(settings) as resolver:
        for name in names:
            t = time.perf_counter()
            hits += isinstance(resolver.resolve(name), ResolvedAsset)
            per.append((time.perf_counter() - t) * 1000)
    return per, hits


def render_cost(times: int) -> None:
    """Seconds a section's render takes with its icon and without, interleaved in one run."""
    transcript = find_transcript("Binary search")
    board = extract_json(transcript.reply("planner.storyboard"), Storyboard)
    section = board.section("1")
    code = extract_python(transcript.reply("coder.code.1"), scene_name_for("1"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {"C2V_ASSETS_OFFLINE": "1", "C2V_ASSETS_DIR": str(Path(tmp) / "cache")}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            found = RunAssets.from_settings(SourceChoice.bundled).for_sections([section])["1"]
        finally:
            for k, v in old.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    base = RenderRequest(
        case_id="bench", section_id="1", scene_name=scene_name_for("1"), code=code,
        tier=Tier.l, orientation="landscape",
    )  # fmt: skip
    backend = BwrapBackend()
    walls: dict[str, list[float]] = {"no icon": [], f"{len(found.files)} icon(s)": []}
    for _ in range(times):
        for label, request in zip(
            walls, (base, base.model_copy(update={"assets": found.files})), strict=True
        ):
            out = render_scene(request, backend)
            assert out.result.status.value == "ok", out.result.message
            walls[label].append(out.result.wall_s)
    print(f"render of section 1, tier l, {times} run(s) each, seconds:")
    for label, per in walls.items():
        print(f"  {label:<12} median {statistics.median(per):6.2f}  mean {statistics.mean(per):6.2f}")
    icons, none = (statistics.median(v) for v in reversed(walls.values()))
    print(f"  added by the icons: {icons - none:+.2f} s per section ({(icons / none - 1) * 100:+.1f} %)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--render", type=int, default=0, help="renders per variant (0: skip)")
    args = ap.parse_args()
    t = time.perf_counter()
    bundled_sets()
    print(f"load bundled set (once per process): {(time.perf_counter() - t) * 1000:.0f} ms")
    results: dict[str, list[float]] = {"cache": [], "bundled": [], "iconify (fake)": []}
    hits: dict[str, int] = dict.fromkeys(results, 0)
    with FakeProvider(remote_wire()) as fake:
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                base = {"backoff_s": 0.0, "iconify_url": fake.url}
                bundled = AssetSettings.model_validate(
                    {"cache_dir": Path(tmp) / "b", "choice": "bundled", **base}
                )
                remote = AssetSettings.model_validate(
                    {"cache_dir": Path(tmp) / "r", "choice": "iconify", **base}
                )
                for label, s in (("bundled", bundled), ("cache", bundled), ("iconify (fake)", remote)):
                    per, n = timed(s, ELEMENTS)
                    results[label] += per
                    hits[label] += n
    total = len(ELEMENTS) * args.rounds
    print(f"{len(ELEMENTS)} elements x {args.rounds} rounds; ms per element:")
    print(f"{'source':<16}{'median':>8}{'mean':>8}{'p90':>8}{'max':>8}  hits")
    for label, per in results.items():
        p90 = statistics.quantiles(per, n=10)[-1]
        print(f"{label:<16}{statistics.median(per):8.2f}{statistics.mean(per):8.2f}{p90:8.2f}{max(per):8.2f}"
              f"  {hits[label]}/{total}")  # fmt: skip
    if args.render:
        render_cost(args.render)


if __name__ == "__main__":
    main()
