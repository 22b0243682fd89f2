"""Seconds per narration segment with espeak-ng: uncached (synthesis) vs cached (a rerun).

    .venv/bin/python scripts/bench_speech.py [--segments 8] [--language en]

Both runs use the same texts in one fresh cache folder; the cached run is the baseline
the uncached one is compared with.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from c2v.speech import make_service, resolve_speech

TEXTS = {
    "en": "Binary search looks at the middle item and throws away the half that cannot hold the target.",
    "zh": "二分查找每次看中间的元素，丢掉不可能包含目标的一半。",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--language", choices=sorted(TEXTS), default="en")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
