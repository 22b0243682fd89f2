"""Benchmark evaluation and the run report on the four bundled offline cases, with a scripted judge.

The judge answers over the real Gemini wire (video inline) and the real OpenAI wire (video as
sampled frames) from a local server, so the figures are c2v's own cost per topic: prompt
building, the SDK round trip, frame sampling, parsing and the journal. The baseline, in the
same run, is the rerun that reads every answer back from the journal. The report's build
time for the 4-topic batch is set against reading the batch's manifests alone.

Usage: .venv/bin/python scripts/bench_eval.py [--batch DIR] [--permutations 3] [--repeats 2]
Without --batch, `c2v batch` renders the four bundled topics first (not timed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from c2v.evaluation.aes import run_aes  # noqa: E402
from c2v.evaluation.judge import Judge, judge_llm  # noqa: E402
from c2v.evaluation.questions import load_questions  # noqa: E402
from c2v.evaluation.targets import find_targets  # noqa: E402
from c2v.evaluation.teachquiz import run_teachquiz  # noqa: E402
from c2v.llm.settings import resolve_provider  # noqa: E402
from c2v.report.build import write_report  # noqa: E402
from tests.llm_fakes import FakeProvider  # noqa: E402
from tests.vlm_fakes import ScriptedJudge  # noqa: E402

BUNDLED = ["Pythagorean theorem", "Euler's formula", "Binary search", "勾股定理"]
#: MMMC topics whose questions stand in for each bundled topic's quiz.
QUIZ_FROM = {
    "Pythagorean theorem": "Pythagorean triples and their connection to complex numbers",
    "Euler's formula": "Euler's formula e^{iπ}",
    "Binary search": "Binary counting and its application to the Towers of Hanoi puzzle",
    "勾股定理": "Pythagorean triples and their connection to complex numbers",
}
MMMC = ROOT / ".." / "shared" / "mmmc" / "teachquiz_questions.json"


def ensure_batch(given: Path | None, work: Path) -> Path:
    if given is not None:
        return given
    topics = work / "topics.json"
    topics.write_text(json.dumps(BUNDLED, ensure_ascii=False))
    cmd = [
        sys.executable,
        "-m",
        "c2v.app.cli",
        "batch",
        str(topics),
        "-o",
        str(work / "out"),
        "--folder_prefix",
        "bench",
    ]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return work / "out" / "bench"


def quiz_file(work: Path) -> Path:
    data = json.loads(MMMC.read_text(encoding="utf-8"))
    path = work / "questions.json"
    path.write_text(json.dumps({t: data[m] for t, m in QUIZ_FROM.items()}, ensure_ascii=False))
    return path


def settings(wire: str, url: str, work: Path):  # type: ignore[no-untyped-def]
    config = work / f"api_config-{wire}.json"
    if wire == "gemini":
        entry = {"provider": "gemini", "base_url": url, "api_key": "bench-key-1", "model": "gemini-2.5-flash"}
    else:
        entry = {"provider": "openai-compatible", "base_url": url + "/v1", "model": "judge-vl"}
    config.write_text(json.dumps({"judge": entry}))
    return resolve_provider("judge", config, env={})


def timed_eval(
    kind: str, wire: str, batch: Path, work: Path, questions: Path, args: argparse.Namespace
) -> dict:
    out = {}
    quiz = load_questions(questions)
    eval_dir = work / f"eval-{kind}-{wire}"
    shutil.rmtree(eval_dir, ignore_errors=True)
    targets = find_targets(batch)
    for run in ("first", "rerun"):
        judge_server = ScriptedJudge(json.loads(questions.read_text(encoding="utf-8")), wire=wire)
        with FakeProvider(responder=judge_server) as fake:
            judge = Judge(judge_llm(settings(wire, fake.url, work)), eval_dir, workers=args.workers)
            started = time.perf_counter()
            if kind == "teachquiz":
                run_teachquiz(judge, targets, quiz, str(questions), args.permutations)
            else:
                run_aes(judge, targets, args.repeats)
            seconds = time.perf_counter() - started
            out[run] = {
                "requests": len(fake.requests),
                "judge_calls": judge.calls,
                "reused": judge.reused,
                "seconds": round(seconds, 3),
                "calls_per_topic": round(judge.calls / len(targets), 1),
                "seconds_per_topic": round(seconds / len(targets), 3),
            }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=Path, default=None, help="a batch folder of the four bundled cases")
    ap.add_argument("--permutations", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="c2v-bench-eval-"))
    batch = ensure_batch(args.batch, work)
    questions = quiz_file(work)
    figures: dict[str, object] = {"topics": len(find_targets(batch))}
    for kind in ("teachquiz", "aes"):
        for wire in ("gemini", "openai"):
            figures[f"{kind}-{wire}"] = timed_eval(kind, wire, batch, work, questions, args)

    started = time.perf_counter()
    find_targets(batch)  # baseline: reading the batch's manifests
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    report = write_report(batch, work / "report.html")
    build_s = time.perf_counter() - started
    figures["report"] = {
        "build_s": round(build_s, 3),
        "read_manifests_s": round(read_s, 4),
        "bytes": report.stat().st_size,
        "path": str(report),
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
