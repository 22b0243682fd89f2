"""Turn how a render process ended into a typed result, the same for every backend."""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass

from c2v.models import RenderStatus
from sandbox.base import ProcessOutcome

_TRACEBACK_START = "Traceback (most recent call last):"
_SCENE_FRAME = re.compile(r'File "(?:/sandbox/)?scene\.py", line (\d+)')
_RICH_SCENE_FRAME = re.compile(r"scene\.py:(\d+)")
_OOM_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Errors a scene gets only by reaching for what the sandbox withholds: the network (no
#: route, refused, no DNS), host files (permission denied, read-only file system), privileges.
#: Only OS-level exceptions count; a scene's own RuntimeError quoting one stays a code error.
_OS_ERROR = re.compile(
    r"^(?:[\w.]+\.)?(?:OSError|IOError|PermissionError|ConnectionError|ConnectionRefusedError"
    r"|ConnectionResetError|gaierror|herror)\b"
)
_FORBIDDEN = re.compile(
    r"\[Errno (?:1|13|30|99|101|111|113|-2|-3|-5)\]"
    r"|Temporary failure in name resolution|Name or service not known|Network is unreachable"
    r"|Read-only file system|Permission denied|Operation not permitted"
)


@dataclass(frozen=True)
class Classified:
    status: RenderStatus
    message: str
    traceback: str = ""
    error_line: int | None = None


def extract_traceback(stderr: str) -> str:
    """The last Python traceback in the output, or '' when there is none."""
    text = _ANSI.sub("", stderr)
    start = text.rfind(_TRACEBACK_START)
    if start < 0:
        return ""
    return text[start:].strip()


def error_line(traceback: str) -> int | None:
    """The deepest line of scene.py named in a traceback (where the scene went wrong)."""
    hits = _SCENE_FRAME.findall(traceback) or _RICH_SCENE_FRAME.findall(traceback)
    return int(hits[-1]) if hits else None


def last_error_message(traceback: str) -> str:
    for raw in reversed(traceback.splitlines()):
        line = raw.strip()
        if line and not line.startswith(("File ", "^", "~")):
            return line[:300]
    return ""


def classify(outcome: ProcessOutcome, video_ok: bool, wall_limit_s: float | None = None) -> Classified:
    """The verdict on one render; a timeout names ``wall_limit_s`` (the limit set), else the time measured."""
    if outcome.infra_error:
        return Classified(RenderStatus.infra_error, outcome.infra_error)
    if outcome.policy_violation:
        return Classified(RenderStatus.policy, outcome.policy_violation)
    if outcome.oom_killed:
        return Classified(RenderStatus.oom, "scene ran out of memory (killed at the memory limit)")
    if outcome.timed_out:
        limit = outcome.wall_s if wall_limit_s is None else wall_limit_s
        return Classified(RenderStatus.timeout, f"render did not finish within {round(limit, 1):g} s")
    tb = extract_traceback(outcome.stderr_tail)
    if outcome.signal is not None:
        sig = outcome.signal
        if sig == signal.SIGXCPU:
            return Classified(RenderStatus.timeout, "render used up its CPU-time limit")
        if sig == signal.SIGXFSZ:
            return Classified(RenderStatus.code_error, "scene wrote a file larger than the limit", tb)
        return Classified(
            RenderStatus.killed, f"render process killed by signal {signal.Signals(sig).name}", tb
        )
    if outcome.exit_code == 0 and video_ok:
        return Classified(RenderStatus.ok, "")
    if any(marker in outcome.stderr_tail for marker in _OOM_MARKERS):
        return Classified(RenderStatus.oom, "scene ran out of memory", tb, error_line(tb))
    if tb:
        message = last_error_message(tb)
        if _OS_ERROR.match(message) and _FORBIDDEN.search(message):
            return Classified(RenderStatus.policy, f"forbidden in the sandbox: {message}", tb, error_line(tb))
        return Classified(RenderStatus.code_error, message, tb, error_line(tb))
    if outcome.exit_code == 0:
        return Classified(RenderStatus.code_error, "manim exited cleanly but wrote no valid video")
    if outcome.exit_code in (125, 126, 127) or "bwrap:" in outcome.stderr_tail[-2000:]:
        tail = outcome.stderr_tail.strip().splitlines()
        return Classified(RenderStatus.infra_error, f"sandbox failed to start: {tail[-1] if tail else ''}")
    tail = outcome.stderr_tail.strip().splitlines()
    return Classified(
        RenderStatus.code_error,
        f"manim exited with code {outcome.exit_code}: {tail[-1][:300] if tail else 'no output'}",
    )
