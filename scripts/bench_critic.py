"""Benchmark the critic loop's two savings, in one run, on a bundled topic's frozen scenes.

1. targeted re-render: one feedback round that re-renders only the flagged section,
   versus re-rendering all N sections (both on the Ray render farm, at the preview tier);
2. preview tier: the loop's re-render at the preview tier (l), versus the same re-render at
   the final tier (h) as a loop without a preview tier would do.

Usage: .venv/bin/python scripts/bench_critic.py [--case DIR] [--final-tier h]
Without --case, `c2v generate` makes the demo case first (not timed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_render import bench_request, case_topic, ensure_case, frozen_sections, timed_farm

from c2v.case import CaseDir
from c2v.core.tiers import Tier
from c2v.models import ReviewChange
from cluster.runtime import ensure_ray


def flagged_section(case: Path, ids: list[str]) -> str:
    manifest = CaseDir(case).read_manifest()
    for rnd in manifest.feedback if manifest is not None else []:
        for review in rnd.sections:
            if review.change is not ReviewChange.none:
                return review.id
    return ids[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topic", default="Binary search")
    ap.add_argument("--case", type=Path, default=None)
    ap.add_argument("--final-tier", default="h", choices=[t.value for t in Tier])
    args = ap.parse_args()

    case = ensure_case(args.topic, args.case, "--use_feedback")
    sections = frozen_sections(case)
    flagged = flagged_section(case, [sid for sid, _ in sections])

    ensure_ray()
    code = dict(sections)[flagged]
    one = timed_farm([bench_request(flagged, code, "l")])
    every = timed_farm([bench_request(sid, c, "l") for sid, c in sections])
    at_final = timed_farm([bench_request(flagged, code, args.final_tier)])

    print(f"topic: {case_topic(case)}  sections: {len(sections)}  flagged: section {flagged}")
    print(f"\n{'one feedback round':<44}{'seconds':>10}")
    print(f"{'re-render the flagged section only (l)':<44}{one:10.2f}")
    print(f"{'re-render all sections (l)':<44}{every:10.2f}")
    print(f"{'re-render the flagged section at ' + args.final_tier:<44}{at_final:10.2f}")
    print(f"\ntargeted re-render saves {every / one:.2f}x over re-rendering all {len(sections)} sections")
    print(
        f"preview tier l makes a round {at_final / one:.2f}x cheaper than a round at tier {args.final_tier}"
    )


if __name__ == "__main__":
    main()
