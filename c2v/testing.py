"""Test c2v, or code built on it, without Ray, Manim or a model.

- :class:`ScriptedLLM`: an LLM client that answers each call from a script keyed by the
  call's tag (``planner.outline``, ``coder.code.2``, ``critic.review.1.1``, globs allowed).
- :class:`FakeSandbox`: a sandbox backend that writes a small real mp4 (or fails the way
  the scene asks, by a ``# c2v-fake: <status> [<line>]`` comment).
- Reply builders for each agent (:func:`outline_reply`, :func:`storyboard_reply`,
  :func:`scene_reply`, :func:`edit_reply`, :func:`critic_reply`) and :func:`pipeline_for`,
  which wires a :class:`~c2v.pipeline.Pipeline` to an in-process executor with both.
"""

from __future__ import annotations

import fnmatch
import json
import re
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from c2v.case import CaseDir
from c2v.config import RunConfig
from c2v.core.progress import Reporter
from c2v.errors import TranscriptError
from c2v.llm.base import LLMReply, LLMRequest, estimate_tokens
from c2v.models import RenderStatus, SandboxLimits, TokenUsage
from c2v.pipeline import Pipeline
from c2v.pipeline.inprocess import InProcessExecutor
from sandbox.base import ProcessOutcome

#: What a script maps a call's key to: one reply, replies in turn (the last repeats), or a function.
Script = Mapping[str, str | Sequence[str] | Callable[[LLMRequest], str]]


class ScriptedLLM:
    """Answers every call from ``script``; the exact key wins over a glob, the first glob over later ones."""

    provider = "scripted"
    model = "scripted-model"

    def __init__(self, script: Script) -> None:
        self.script = dict(script)
        self.requests: list[LLMRequest] = []
        self._turns: dict[str, int] = {}

    def asked(self) -> list[str]:
        """The keys of the calls asked so far, in order."""
        return [r.tag.key for r in self.requests]

    def _entry(self, key: str) -> tuple[str, str | Sequence[str] | Callable[[LLMRequest], str]]:
        if key in self.script:
            return key, self.script[key]
        for pattern, entry in self.script.items():
            if fnmatch.fnmatchcase(key, pattern):
                return pattern, entry
        raise TranscriptError(f"the script has no reply for call {key!r}")

    def complete(self, request: LLMRequest) -> LLMReply:
        self.requests.append(request)
        name, entry = self._entry(request.tag.key)
        if callable(entry):
            text = entry(request)
        elif isinstance(entry, str):
            text = entry
        else:
            turn = self._turns.get(name, 0)
            self._turns[name] = turn + 1
            text = entry[min(turn, len(entry) - 1)]
        prompt = "\n".join(m.plain_text() for m in request.messages)
        usage = TokenUsage(input=estimate_tokens(prompt), output=estimate_tokens(text))
        return LLMReply(text=text, usage=usage, provider=self.provider, model=self.model, latency_s=0.01)


# --- replies ---------------------------------------------------------------------------------
def _json(value: object) -> str:
    return f"```json\n{json.dumps(value, indent=2, ensure_ascii=False)}\n```\n"


def outline_reply(topic: str, n: int) -> str:
    sections = [
        {"id": str(i), "title": f"Part {i}", "content": f"What part {i} says."} for i in range(1, n + 1)
    ]
    return _json({"topic": topic, "sections": sections})


def storyboard_reply(
    topic: str, n: int, narration: bool = False, elements: Mapping[str, list[str]] | None = None
) -> str:
    """``narration``: one spoken line per lecture line; ``elements``: visual element names per section id."""
    sections = [
        {
            "id": str(i),
            "title": f"Part {i}",
            "lecture_lines": [f"Line of part {i}"],
            **({"narration": [f"This is what part {i} says."]} if narration else {}),
            "animations": ["Show it"],
            "visual_elements": [{"name": e, "purpose": "an icon"} for e in (elements or {}).get(str(i), [])],
        }
        for i in range(1, n + 1)
    ]
    return _json({"topic": topic, "sections": sections})


def scene_reply(section_id: str, fake: str = "ok", extra: str = "") -> str:
    """A whole scene file for ``section_id``; ``fake`` is what :class:`FakeSandbox` makes of it."""
    name = "Section" + "".join(ch if ch.isalnum() else "_" for ch in section_id)
    return (
        "```python\nfrom manim import *\nfrom c2v_layout import TeachingScene\n\n\n"
        f"class {name}(TeachingScene):\n    def construct(self):\n"
        f'        self.place_at("B2", Dot())  # c2v-fake: {fake}\n'
        f"        self.wait(1){extra}\n```\n"
    )


def edit_reply(search: str, replace: str) -> str:
    """A SEARCH/REPLACE edit, as the Coder's line fixes come."""
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def critic_reply(*issues: Mapping[str, Any]) -> str:
    return _json({"issues": list(issues)})


# --- the sandbox -------------------------------------------------------------------------------
_FAKE = re.compile(r"# c2v-fake: (\w+)(?: (\d+))?")


@cache
def tiny_mp4(width: int, height: int, fps: int, seconds: float = 1.0) -> bytes:
    """A real, decodable mp4 of a black frame (made once per size, by ffmpeg)."""
    out = subprocess.run(
        [
            "ffmpeg", "-v", "error", "-f", "lavfi",
            "-i", f"color=c=black:s={width}x{height}:r={fps}:d={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mp4",
            "-movflags", "frag_keyframe+empty_moov", "pipe:1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return out.stdout


class FakeSandbox:
    """A backend that runs nothing: it reads the scene's ``# c2v-fake:`` verdict and acts it out.

    ``ok`` (also with no marker) writes a real mp4 of the requested size and a layout record;
    ``code_error [line]`` exits with a traceback at that line of scene.py; ``timeout``,
    ``oom``, ``infra_error``, ``killed`` and ``policy`` end the way those renders end.
    """

    name = "fake"
    python = "/usr/bin/python3"

    def __init__(self, default: RenderStatus = RenderStatus.ok) -> None:
        self.default = default
        #: The scene code of every run, in order, and the files of its ``assets/`` folder.
        self.runs: list[str] = []
        self.assets: list[dict[str, bytes]] = []

    def unavailable_reason(self) -> str | None:
        return None

    def run(
        self,
        workdir: Path,
        argv: list[str],
        env: dict[str, str],
        limits: SandboxLimits,
        labels: dict[str, str] | None = None,
    ) -> ProcessOutcome:
        started = time.monotonic()
        code = (workdir / "scene.py").read_text(encoding="utf-8")
        self.runs.append(code)
        folder = workdir / "assets"
        self.assets.append(
            {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}
        )
        found = _FAKE.search(code)
        status = RenderStatus(found.group(1)) if found else self.default
        line = (
            int(found.group(2))
            if found and found.group(2)
            else code[: found.start()].count("\n") + 1
            if found
            else 1
        )

        def outcome(**kw: Any) -> ProcessOutcome:
            base: dict[str, Any] = {"exit_code": 1, "signal": None, "timed_out": False, "stdout_tail": ""}
            base |= {"stderr_tail": "", "wall_s": round(time.monotonic() - started, 3)} | kw
            return ProcessOutcome(**base)

        if status is RenderStatus.ok:
            cfg = dict(re.findall(r"^(\w+) = (\S+)$", (workdir / "manim.cfg").read_text(), re.M))
            width, height, fps = int(cfg["pixel_width"]), int(cfg["pixel_height"]), int(cfg["frame_rate"])
            video = workdir / "media" / "videos" / "scene" / f"{height}p{fps}" / "section.mp4"
            video.parent.mkdir(parents=True)
            video.write_bytes(tiny_mp4(width, height, fps))
            layout = {
                "frame_width": float(cfg["frame_width"]),
                "frame_height": float(cfg["frame_height"]),
                "pixel_height": height,
                "snapshots": [{"t": 0.5, "index": 0, "mobjects": []}],
            }
            (workdir / "layout.json").write_text(json.dumps(layout))
            return outcome(exit_code=0)
        if status is RenderStatus.code_error:
            frame = f'  File "/sandbox/scene.py", line {line}, in construct\n'
            tb = f"Traceback (most recent call last):\n{frame}NameError: fake error at line {line}\n"
            return outcome(stderr_tail=tb)
        if status is RenderStatus.timeout:
            return outcome(exit_code=None, timed_out=True)
        if status is RenderStatus.oom:
            return outcome(exit_code=None, oom_killed=True)
        if status is RenderStatus.infra_error:
            return outcome(exit_code=None, infra_error="fake sandbox: no sandbox today")
        if status is RenderStatus.killed:
            return outcome(exit_code=None, signal=int(signal.SIGKILL))
        return outcome(policy_violation="fake sandbox: scene broke a rule")


def pipeline_for(
    cfg: RunConfig,
    case: CaseDir,
    llm: ScriptedLLM,
    sandbox: FakeSandbox | None = None,
    reporter: Reporter | None = None,
) -> tuple[Pipeline, InProcessExecutor]:
    """A pipeline whose agents and renders run in this process, on ``llm`` and ``sandbox``."""
    executor = InProcessExecutor(llm, sandbox or FakeSandbox())
    return Pipeline(cfg, case, reporter, executor=executor), executor
