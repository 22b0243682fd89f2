"""What narration costs: per segment, per section at tier l, and the whole offline demo.

    .venv/bin/python scripts/bench_speech.py [--segments 8] [--language en]
    .venv/bin/python scripts/bench_speech.py --sections [--topic "Pythagorean theorem"]
    .venv/bin/python scripts/bench_speech.py --demo [--topic "Pythagorean theorem"]

Segments: the same texts in one fresh cache folder, uncached (synthesis) against cached
(a rerun), the baseline. Sections: each section of a bundled storyboard spoken uncached and
cached, plus its soundtrack (clips laid out, AAC, mux, subtitles) on a tier-l video as long
as its speech, against the silent stitch of the same video. Demo: ``c2v generate`` of a
bundled topic with ``--no-narration`` (the baseline) and with espeak narration, each in a
fresh case folder and speech cache (real renders: minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from c2v.core.tiers import Tier, video_format
from c2v.llm.offline import find_transcript
from c2v.media.soundtrack import Clip, SectionSound, stitch_with_sound
from c2v.media.stitch import stitch
from c2v.speech import make_service, resolve_speech
from c2v.testing import tiny_mp4

TEXTS = {
    "en": "Binary search looks at the middle item and throws away the half that cannot hold the target.",
    "zh": "二分查找每次看中间的元素，丢掉不可能包含目标的一半。",
}


def segments(args: argparse.Namespace) -> None:
    texts = [f"{TEXTS[args.language]} ({i + 1})" for i in range(args.segments)]
    settings = resolve_speech("espeak", None, env={})
    with tempfile.TemporaryDirectory(prefix="c2v-bench-speech-") as tmp:
        rows = []
        for label in ("uncached", "cached"):
            service = make_service(settings, Path(tmp))
            started = time.perf_counter()
            clips = service.speak_all(texts, args.language)
            elapsed = time.perf_counter() - started
            audio = sum(c.duration_s for c in clips)
            rows.append((label, elapsed / len(texts), audio / len(texts), service.usage.calls))
    print(f"espeak-ng, {args.segments} segments, language {args.language}")
    for label, per_segment, audio, calls in rows:
        print(f"  {label:9s} {per_segment * 1000:8.1f} ms/segment  ({audio:.2f} s audio each, {calls} calls)")
    print(f"  speed-up of the cache: {rows[0][1] / rows[1][1]:.0f}x")


def _storyboard(topic: str) -> dict:
    text = find_transcript(topic).reply("planner.storyboard")
    found = re.search(r"```json\n(.*?)\n```", text, re.S)
    assert found is not None
    return json.loads(found.group(1))


def sections(args: argparse.Namespace) -> None:
    board = _storyboard(args.topic)
    language = find_transcript(args.topic).language
    fmt = video_format(Tier.l)
    settings = resolve_speech("espeak", None, env={})
    print(f"tier l ({fmt.width}x{fmt.height}, {fmt.fps} fps), {args.topic}: seconds added per section")
    print(
        f"  {'section':8s} {'speech':>7s} {'uncached':>9s} {'cached':>7s} {'sound+subs':>11s} {'silent':>7s}"
    )
    with tempfile.TemporaryDirectory(prefix="c2v-bench-sections-") as tmp:
        root = Path(tmp)
        totals = [0.0, 0.0, 0.0, 0.0]
        for section in board["sections"]:
            timed = []
            for _ in ("uncached", "cached"):
                service = make_service(settings, root / "speech")
                t0 = time.perf_counter()
                clips = service.speak_all(section["narration"], language)
                timed.append(time.perf_counter() - t0)
            spoken = sum(c.duration_s for c in clips)
            video = root / f"{section['id']}.mp4"
            video.write_bytes(tiny_mp4(fmt.width, fmt.height, fmt.fps, seconds=round(spoken + 1, 1)))
            starts, t = {}, 0.5
            for i, clip in enumerate(clips):
                starts[i], t = t, t + clip.duration_s
            sound = SectionSound(video, [Clip(Path(c.path), c.duration_s, c.text) for c in clips], starts)
            t0 = time.perf_counter()
            stitch_with_sound([sound], root / "voiced.mp4", root / "work", language)
            voiced = time.perf_counter() - t0
            t0 = time.perf_counter()
            stitch([video], root / "silent.mp4")
            silent = time.perf_counter() - t0
            for k, v in enumerate((timed[0], timed[1], voiced, silent)):
                totals[k] += v
            cols = f"{spoken:6.1f}s {timed[0]:8.2f}s {timed[1]:6.3f}s {voiced:10.2f}s {silent:6.2f}s"
            print(f"  {section['id']:8s} {cols}")
        n = len(board["sections"])
        print(f"  mean: uncached speech {totals[0] / n:.2f} s, cached {totals[1] / n:.3f} s, "
              f"soundtrack {totals[2] / n:.2f} s vs silent stitch {totals[3] / n:.2f} s")  # fmt: skip


def demo(args: argparse.Namespace) -> None:
    rows = []
    for label, extra in (("silent", ["--no-narration"]), ("narrated", [])):
        with tempfile.TemporaryDirectory(prefix="c2v-bench-demo-") as tmp:
            env = dict(os.environ, C2V_SPEECH_CACHE=str(Path(tmp) / "speech"))
            cmd = [
                sys.executable,
                "-m",
                "c2v",
                "generate",
                args.topic,
                "-o",
                tmp,
                "--video-quality",
                "l",
                *extra,
            ]
            t0 = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - t0
            if done.returncode != 0:
                raise SystemExit(f"{label}: c2v exited {done.returncode}: {done.stderr[-500:]}")
            manifest = json.loads(next(Path(tmp).rglob("manifest.json")).read_text())
            rows.append((label, elapsed, manifest["video_duration_s"], manifest["timings_s"]))
    print(f"offline demo, {args.topic}, tier l")
    for label, elapsed, video_s, t in rows:
        print(f"  {label:9s} {elapsed:6.1f} s wall, video {video_s:5.1f} s, speech {t['speech']:.1f} s, "
              f"sections {t['sections']:.1f} s, stitch {t['stitch']:.1f} s")  # fmt: skip
    (_, silent_s, silent_video, _), (_, spoken_s, spoken_video, _) = rows
    added = f"{spoken_s - silent_s:+.1f} s wall and {spoken_video - silent_video:+.1f} s of video"
    print(f"  narration adds {added}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--language", choices=sorted(TEXTS), default="en")
    parser.add_argument("--sections", action="store_true", help="per section of a bundled topic, tier l")
    parser.add_argument(
        "--demo", action="store_true", help="the whole offline demo with and without narration"
    )
    parser.add_argument("--topic", default="Pythagorean theorem")
    args = parser.parse_args()
    if args.demo:
        demo(args)
    elif args.sections:
        sections(args)
    else:
        segments(args)


if __name__ == "__main__":
    main()
