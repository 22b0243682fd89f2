"""Benchmark asset resolution per element, in one run: from the cache, the bundled set, a remote fake.

Each round resolves the same element names with a fresh resolver: "bundled" and "iconify
(fake)" start from an empty cache (so every element is looked up, checked and stored),
"cache" reruns the bundled round's names against its filled cache (the baseline). The Iconify
fake is the wire-level one of the tests, on 127.0.0.1, so "remote" measures c2v's own HTTP,
checking and rasterising cost, not the internet.

Usage: .venv/bin/python scripts/bench_assets.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from c2v.assets import AssetResolver, AssetSettings, ResolvedAsset
from c2v.assets.iconset import bundled_sets
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
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


if __name__ == "__main__":
    main()
