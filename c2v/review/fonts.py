"""Which characters the installed fonts can draw: no silent tofu.

Pango draws a character no installed font covers as an empty box, with no error. The
union of every font's charset (from fontconfig) tells which characters of a scene's text
would come out that way.
"""

from __future__ import annotations

import bisect
import shutil
import subprocess
from functools import cache

#: A few scripts users write topics in, with a character to probe each.
SCRIPT_PROBES = {"CJK (Chinese/Japanese)": "勾", "Hangul": "한", "Cyrillic": "Ж", "Greek": "Ω"}


@cache
def _coverage() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sorted, merged codepoint intervals (starts, ends) covered by some installed font."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return (), ()
    out = subprocess.run(
        [fc_list, "--format", "%{charset}\n"], capture_output=True, text=True, check=False, timeout=60
    ).stdout
    intervals: list[tuple[int, int]] = []
    for line in out.splitlines():
        for part in line.split():
            lo, _, hi = part.partition("-")
            try:
                intervals.append((int(lo, 16), int(hi or lo, 16)))
            except ValueError:
                continue
    intervals.sort()
    starts: list[int] = []
    ends: list[int] = []
    for first, last in intervals:
        if ends and first <= ends[-1] + 1:
            ends[-1] = max(ends[-1], last)
        else:
            starts.append(first)
            ends.append(last)
    return tuple(starts), tuple(ends)


def is_covered(ch: str) -> bool:
    starts, ends = _coverage()
    cp = ord(ch)
    i = bisect.bisect_right(starts, cp) - 1
    return i >= 0 and cp <= ends[i]


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` that no installed font can draw (in order, once each)."""
    seen: list[str] = []
    for ch in text:
        if ch.isspace() or ord(ch) < 0x20 or ch in seen:
            continue
        if not is_covered(ch):
            seen.append(ch)
    return seen


def scripts_available() -> dict[str, bool]:
    return {name: is_covered(probe) for name, probe in SCRIPT_PROBES.items()}
