"""Benchmark: what the repair ladder costs per recovered section, with and without the cheap checks.

In one run, the same broken scenes (from the messy-model corpus, tests/messy_corpus.py) go
through the pipeline in this process under four settings:

- baseline   no static check, no dry run: every broken scene costs a full render;
- precheck   the static check before each render (``c2v.agents.precheck``);
- dry run    ``manim render --dry_run`` before each full render;
- both       the static check, then the dry run.

For each: sections ok, Coder calls and sandbox seconds in all; sections recovered (a broken
first version that ended rendered), Coder calls and sandbox seconds per recovered section;
and seconds from a broken version's submission to its verdict (the precheck's own time when
it caught it, else its sandbox runs). A renamed API the precheck rewrites is never broken, so
that section needs no recovery at all.

``--sandbox bwrap`` (the default) renders for real at tier l, on a few one-section cases whose
breakage only Manim or the static check can tell; ``--sandbox fake`` runs every corpus case
on :class:`c2v.testing.FakeSandbox`, which acts out ``# c2v-fake:`` verdicts (so it counts
calls but cannot show what the static check saves: its verdicts ignore the code).

Usage: .venv/bin/python scripts/bench_repair.py [--sandbox bwrap|fake]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from c2v.agents.precheck import precheck
from c2v.core.logs import configure_logging
from c2v.models import RenderStatus, SandboxLimits, SectionStatus
from c2v.pipeline import case_dir_for
from c2v.testing import FakeSandbox, pipeline_for
from sandbox.backends import check_backend
from sandbox.base import ProcessOutcome, SandboxBackend
from tests.messy_corpus import CASES, GOOD_PLAY, CorpusLLM, MessyCase, edit, plan, py, run_config, scene

SETTINGS = {
    "baseline": (False, False),
    "precheck": (True, False),
    "dry run": (False, True),
    "both": (True, True),
}

TYPO = "        self.play(FadeIn(dott), run_time=0.5)"
REMOVED = "        self.play(ShowCreation(dot), run_time=0.5)"
#: One-section cases broken the way model code is, each with the fix a model gives.
REAL_CASES = [
    MessyCase(
        "runtime typo",
        "Bench typo",
        {
            **plan("Bench typo", 1),
            "coder.code.1": py(scene("1", TYPO)),
            "coder.fix_lines.1": edit(TYPO, GOOD_PLAY),
        },
    ),
    MessyCase(
        "removed API",
        "Bench removed",
        {
            **plan("Bench removed", 1),
            "coder.code.1": py(scene("1", REMOVED)),
            "coder.fix_lines.1": edit(REMOVED, GOOD_PLAY),
        },
    ),
    MessyCase(
        "anchor G7",
        "Bench anchor",
        {
            **plan("Bench anchor", 1),
            "coder.code.1": py(scene("1").replace('"B2"', '"G7"')),
            "coder.fix_lines.1": edit('        self.place_at("G7", dot)', '        self.place_at("B2", dot)'),
            "coder.fix_file.1": py(scene("1")),
        },
    ),
]


@dataclass
class Timed:
    """A backend that times each sandbox run, by section, dry run or not, and its verdict."""

    inner: SandboxBackend
    runs: list[tuple[str, bool, float, bool]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def python(self) -> str:
        return self.inner.python

    def unavailable_reason(self) -> str | None:
        return self.inner.unavailable_reason()

    def run(
        self,
        workdir: Path,
        argv: list[str],
        env: dict[str, str],
        limits: SandboxLimits,
        labels: dict[str, str] | None = None,
    ) -> ProcessOutcome:
        t0 = time.perf_counter()
        out = self.inner.run(workdir, argv, env, limits, labels)
        ok = out.exit_code == 0 and not out.timed_out
        self.runs.append(
            ((labels or {}).get("c2v.section", "?"), "--dry_run" in argv, time.perf_counter() - t0, ok)
        )
        return out


@dataclass
class Tally:
    ok: int = 0
    all_calls: int = 0
    all_render_s: float = 0.0
    recovered: int = 0
    failed: int = 0
    calls: int = 0
    render_s: float = 0.0
    detect_s: list[float] = field(default_factory=list)


def run_case(
    case: MessyCase, out: Path, backend: SandboxBackend, check: bool, dry: bool, tally: Tally
) -> None:
    cfg = run_config(case, out).model_copy(update={"precheck": check, "dry_run": dry})
    folder = case_dir_for(cfg)
    llm, timed = CorpusLLM(case), Timed(backend)
    pipeline, _ = pipeline_for(cfg, folder, llm, timed)  # type: ignore[arg-type]
    try:
        m = pipeline.generate()
    finally:
        folder.unlock()
    recovered = {
        s.id
        for s in m.sections
        if s.status is SectionStatus.ok and any(h.status is not RenderStatus.ok for h in s.history)
    }
    tally.recovered += len(recovered)
    tally.ok += sum(s.status is SectionStatus.ok for s in m.sections)
    tally.all_calls += sum(r.tag.agent == "coder" for r in llm.requests)
    tally.all_render_s += sum(wall for _, _, wall, _ in timed.runs)
    tally.failed += sum(s.status is not SectionStatus.ok for s in m.sections)
    tally.calls += sum(r.tag.agent == "coder" and r.tag.section in recovered for r in llm.requests)
    tally.render_s += sum(wall for sid, _, wall, _ in timed.runs if sid in recovered)
    # time to a broken version's verdict: the precheck itself when it caught it, else the
    # sandbox runs of that version (a dry run, then the full render when the dry run passed)
    for s in m.sections:
        runs = [(dry_run, wall, ok) for sid, dry_run, wall, ok in timed.runs if sid == s.id]
        seen: set[str] = set()
        for h in s.history:
            if h.status is RenderStatus.unusable_reply:
                continue
            spent = 0.0
            if not h.render_key:  # the static check caught it: no sandbox ran
                code = (folder.root / h.code).read_text(encoding="utf-8")
                t0 = time.perf_counter()
                precheck(code, f"Section{s.id}")
                spent = time.perf_counter() - t0
            elif h.render_key not in seen:  # a verdict seen before came from the cache
                seen.add(h.render_key)
                while runs:
                    dry_run, wall, ok = runs.pop(0)
                    spent += wall
                    if not (dry_run and ok):
                        break
            if h.status is not RenderStatus.ok:
                tally.detect_s.append(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sandbox", choices=["bwrap", "docker", "fake"], default="bwrap")
    args = parser.parse_args()
    configure_logging(level=logging.ERROR)
    fake = args.sandbox == "fake"
    cases = [c for c in CASES if not c.real_only] if fake else REAL_CASES
    backend: SandboxBackend = FakeSandbox() if fake else check_backend(args.sandbox)
    print(f"{len(cases)} cases, sandbox {args.sandbox}, tier l")
    head = (
        "setting",
        "ok",
        "recovered",
        "failed",
        "calls",
        "render s",
        "calls/rec",
        "render s/rec",
        "detect s",
    )
    print(" ".join(f"{h:<9}" if i == 0 else f"{h:>{len(h) + 1}}" for i, h in enumerate(head)))
    with tempfile.TemporaryDirectory(prefix="c2v-bench-repair-") as tmp:
        for label, (check, dry) in SETTINGS.items():
            tally = Tally()
            for i, case in enumerate(cases):
                run_case(case, Path(tmp) / f"{label}-{i}".replace(" ", "_"), backend, check, dry, tally)
            n = max(tally.recovered, 1)
            detect = statistics.mean(tally.detect_s) if tally.detect_s else 0.0
            print(
                f"{label:<9} {tally.ok:>3} {tally.recovered:>10} {tally.failed:>7} {tally.all_calls:>6} "
                f"{tally.all_render_s:>9.1f} {tally.calls / n:>10.2f} {tally.render_s / n:>13.2f} "
                f"{detect:>9.3f}"
            )


if __name__ == "__main__":
    main()
