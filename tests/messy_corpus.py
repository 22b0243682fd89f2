"""A messy-model corpus: reply sets that answer the way real models do, one topic each.

Each :class:`MessyCase` maps a call to the replies a model gives it, in turn (the last one
repeats): ``planner.outline``, ``planner.storyboard``, ``coder.code.2``, ``coder.fix_lines.2``,
``coder.fix_file.2``, ``coder.regenerate.2``, ``critic.review.1``, ``coder.revise.1``. A re-ask
of the same call takes the next reply. The same sets are served two ways:

- :class:`CorpusLLM`, a :class:`c2v.testing.ScriptedLLM`, for the fast decision tests through
  the in-process executor (scenes carry ``# c2v-fake:`` verdicts for the fake sandbox);
- :class:`CorpusReplay`, a responder for :class:`tests.llm_fakes.FakeProvider` that speaks the
  OpenAI Chat Completions wire to a real ``c2v generate`` and counts the usage it sent.

A reply starting with :data:`CUT` is sent as cut off at the output token limit.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from c2v.config import RunConfig
from c2v.llm.base import LLMReply, LLMRequest, estimate_tokens
from c2v.models import AttemptKind as K
from c2v.models import SandboxLimits, TokenUsage
from c2v.repair import RepairPolicy
from c2v.testing import ScriptedLLM
from tests.llm_fakes import Recorded, Reply, _text, openai_chat

CUT = "<<cut at the output token limit>>"
Replies = dict[str, str | Sequence[str]]


# --- reply builders ------------------------------------------------------------------------------
def _fence(value: object, lang: str = "json") -> str:
    return f"```{lang}\n{json.dumps(value, indent=2)}\n```"


def outline(topic: str, n: int = 2) -> dict[str, Any]:
    parts = [{"id": str(i), "title": f"Part {i}", "content": f"What part {i} says."} for i in range(1, n + 1)]
    return {"topic": topic, "sections": parts}


def storyboard(topic: str, n: int = 2, lines: dict[int, str] | None = None) -> dict[str, Any]:
    sections = [
        {
            "id": str(i),
            "title": f"Part {i}",
            "lecture_lines": [(lines or {}).get(i, f"Part {i} in one line")],
            "animations": ["Show a dot"],
        }
        for i in range(1, n + 1)
    ]
    return {"topic": topic, "sections": sections}


def plan(topic: str, n: int = 2) -> Replies:
    return {"planner.outline": _fence(outline(topic, n)), "planner.storyboard": _fence(storyboard(topic, n))}


#: The body line a runtime error is put on (line 10 of :func:`scene`), and that line fixed.
GOOD_PLAY = "        self.play(FadeIn(dot), run_time=0.5)"
BAD_PLAY = "        self.play(FadeIn(dott), run_time=0.5)  # c2v-fake: code_error"


def scene(sid: str, play: str = GOOD_PLAY, base: str = "TeachingScene", name: str | None = None) -> str:
    """A tiny scene file (one short animation), as code."""
    return (
        "from manim import *\nfrom c2v_layout import TeachingScene\n\n\n"
        f"class {name or 'Section' + sid}({base}):\n    def construct(self):\n"
        f'        self.show_title("Part {sid}")\n        dot = Dot()\n'
        f'        self.place_at("B2", dot)\n{play}\n        self.wait(0.5)\n'
    )


def py(code: str, lang: str = "python") -> str:
    return f"Here is the scene.\n\n```{lang}\n{code}```\n"


def edit(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def code_for(n: int, **over: str) -> Replies:
    """Good first code for sections 1..n, with ``over`` replacing some calls' replies."""
    base: Replies = {f"coder.code.{i}": py(scene(str(i))) for i in range(1, n + 1)}
    return {**base, **over}


PLAIN_OVERLAP = (
    "from manim import *\n\n\nclass Section1(Scene):\n    def construct(self):\n"
    '        a = Text("Overlapping words", font_size=40)\n'
    '        b = Text("Overlapping words", font_size=40).shift(RIGHT * 0.3)\n'
    '        f = MathTex("x^2").move_to(RIGHT * 10)\n'
    "        self.play(FadeIn(a), FadeIn(b), FadeIn(f), run_time=0.5)\n        self.wait(0.5)\n"
)
NEVER_ENDS = scene("1", "        self.play(FadeIn(dot))\n        self.wait(100000)  # c2v-fake: timeout")


# --- the cases -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MessyCase:
    name: str
    topic: str
    replies: Replies
    #: The section that ends failed (None: every section renders and the run makes a video).
    failed: str | None = None
    #: Attempt kinds expected in a section's history (fast path; the fake sandbox's verdicts).
    history: dict[str, list[K]] = field(default_factory=dict)
    #: Extra CLI flags of the run.
    flags: tuple[str, ...] = ()
    #: The manifest says the planner normalised something.
    normalised: bool = False
    #: The point of the case needs a real render (the fast path cannot see it).
    real_only: bool = False


def _case(name: str, topic: str, coder: Replies, **kw: Any) -> MessyCase:
    n = kw.pop("n", 2)
    return MessyCase(name, topic, {**plan(topic, n), **coder}, **kw)


def _nine() -> MessyCase:
    topic = "Prime numbers"
    return MessyCase(
        "nine_sections",
        topic,
        {
            "planner.outline": _fence(outline(topic, 9)),
            "planner.storyboard": _fence(storyboard(topic, 9)),
            "coder.code.*": SCENE_FOR_SECTION,
        },
        normalised=True,
    )


#: Stands for "the scene of whichever section asks" (the 9-section case's ids come from merging).
SCENE_FOR_SECTION = "__scene_for_section__"

LONG_LINE = (
    "The derivative of a function at a point measures how fast the value of the function changes "
    "as its input changes, and geometrically it is the slope of the tangent line at that point"
)
assert len(LONG_LINE) >= 180

CASES: list[MessyCase] = [
    _case(
        "indent_off_in_search",
        "Fractions on a number line",
        code_for(
            2,
            **{
                "coder.code.2": py(scene("2", BAD_PLAY)),
                # the failing line quoted four spaces short, as models often do
                "coder.fix_lines.2": edit(BAD_PLAY[4:], GOOD_PLAY[4:]),
            },
        ),
        history={"2": [K.generate, K.fix_lines]},
    ),
    _case(
        "search_not_in_file",
        "Area of a circle",
        code_for(
            2,
            **{
                "coder.code.2": py(scene("2", BAD_PLAY)),
                "coder.fix_lines.2": edit("self.play(Create(circle))", "self.play(FadeIn(circle))"),
                "coder.fix_file.2": py(scene("2")),
            },
        ),
        history={"2": [K.generate, K.fix_lines, K.fix_file]},
    ),
    _case(
        "whole_file_for_edits",
        "Mean and median",
        code_for(2, **{"coder.code.1": py(scene("1", BAD_PLAY)), "coder.fix_lines.1": py(scene("1"))}),
        history={"1": [K.generate, K.fix_lines]},
    ),
    _case(
        "truncated_reply",
        "Ohm's law",
        code_for(2, **{"coder.code.1": [CUT + py(scene("1"))[:80]], "coder.regenerate.1": py(scene("1"))}),
        history={"1": [K.generate, K.regenerate]},
    ),
    _case(
        "empty_reply",
        "Photosynthesis",
        code_for(2, **{"coder.code.2": "", "coder.regenerate.2": py(scene("2"))}),
        history={"2": [K.generate, K.regenerate]},
    ),
    _case(
        "prose_no_code",
        "Newton's first law",
        code_for(
            2,
            **{
                "coder.code.1": "I would show a ball rolling on ice, then a hand pushing it.",
                "coder.regenerate.1": py(scene("1"), "py"),
            },
        ),
        history={"1": [K.generate, K.regenerate]},
    ),
    _case(
        "wrong_class_name",
        "Sine and cosine",
        code_for(
            2, **{"coder.code.2": py(scene("2", name="SineScene")), "coder.regenerate.2": py(scene("2"))}
        ),
        history={"2": [K.generate, K.regenerate]},
    ),
    _case(
        "two_code_blocks",
        "Vectors in the plane",
        code_for(
            2,
            **{
                "coder.code.1": "First a helper:\n\n```python\ndef helper():\n    return 1\n```\n\n"
                + py(scene("1"), "python3")
            },
        ),
        history={"1": [K.generate]},
    ),
    MessyCase(
        "json_without_fence",
        "The water cycle",
        {
            "planner.outline": "Sure! " + json.dumps(outline("The water cycle")) + " Hope this helps.",
            "planner.storyboard": json.dumps(storyboard("The water cycle")),
            **code_for(2),
        },
    ),
    MessyCase(
        "json_with_comments",
        "Pythagorean triples",
        {
            "planner.outline": _fence(outline("Pythagorean triples")),
            "planner.storyboard": "```\n"
            + json.dumps(storyboard("Pythagorean triples"), indent=2).replace(
                '"topic"', '// the storyboard\n  "topic"'
            )[:-2]
            + ",\n}\n```",
            **code_for(2),
        },
    ),
    _nine(),
    MessyCase(
        "long_lecture_line",
        "Derivatives",
        {
            "planner.outline": _fence(outline("Derivatives")),
            "planner.storyboard": _fence(storyboard("Derivatives", lines={1: LONG_LINE})),
            **code_for(2),
        },
        normalised=True,
    ),
    _case(
        "critic_anchor_g7",
        "Kinetic energy",
        {
            **code_for(2),
            "critic.review.*": _fence(
                {
                    "issues": [
                        {"problem": "the dot is too far left", "fix": "move it", "anchor": "G7", "line": 9}
                    ]
                }
            ),
            "coder.revise.*": SCENE_FOR_SECTION,
        },
        flags=("--use-feedback", "--feedback-rounds", "1"),
    ),
    _case(
        "critic_prose",
        "Density",
        {**code_for(2), "critic.review.*": "The layout looks fine to me; nothing overlaps."},
        flags=("--use-feedback", "--feedback-rounds", "1"),
    ),
    _case(
        "fix_repeats_the_error",
        "Compound interest",
        code_for(
            2,
            **{
                "coder.code.2": py(scene("2", BAD_PLAY)),
                "coder.fix_lines.2": edit("        self.wait(0.5)", "        self.wait(0.6)"),
                "coder.fix_file.2": py(scene("2", BAD_PLAY)),
                "coder.regenerate.2": py(scene("2", BAD_PLAY)),
            },
        ),
        failed="2",
        history={"2": [K.generate, K.fix_lines, K.regenerate, K.fix_lines]},
        flags=("--allow-partial", "--max-fix-bug-tries", "1", "--max-regenerate-tries", "1"),
    ),
    _case(
        "scene_never_ends",
        "Pendulum period",
        code_for(2, **{"coder.code.1": py(NEVER_ENDS), "coder.fix_file.1": py(scene("1"))}),
        history={"1": [K.generate, K.fix_file]},
        # long enough for a real render of a tiny scene on a busy machine, short to wait out
        flags=("--render-timeout", "30"),
    ),
    _case(
        "plain_scene_overlap",
        "Overlapping labels",
        code_for(2, **{"coder.code.1": py(PLAIN_OVERLAP)}),
        history={"1": [K.generate]},
        real_only=True,
    ),
]


def run_config(case: MessyCase, output_dir: Path) -> RunConfig:
    """The run configuration the case's CLI flags make."""
    flags = list(case.flags)

    def value(flag: str) -> int:
        return int(flags[flags.index(flag) + 1])

    kw: dict[str, Any] = {
        "allow_partial": "--allow-partial" in flags,
        "use_feedback": "--use-feedback" in flags,
    }
    if "--use-feedback" in flags:
        kw["feedback_rounds"] = value("--feedback-rounds")
    if "--max-fix-bug-tries" in flags:
        kw["repair"] = RepairPolicy(
            max_fix_bug_tries=value("--max-fix-bug-tries"),
            max_regenerate_tries=value("--max-regenerate-tries"),
        )
    if "--render-timeout" in flags:
        kw["limits"] = SandboxLimits(wall_s=value("--render-timeout"))
    return RunConfig(topic=case.topic, output_dir=output_dir, **kw)


# --- serving them ----------------------------------------------------------------------------------
def _section_scene(key: str) -> str:
    return py(scene(key.split(".")[2]))


def _pick(replies: Replies, key: str, turns: Counter[str]) -> str:
    """The reply for ``key`` (``coder.code.2``), its exact entry first, then a glob."""
    name = (
        key if key in replies else next((p for p in replies if re.fullmatch(p.replace("*", ".*"), key)), None)
    )
    if name is None:
        raise LookupError(f"the corpus has no reply for {key}")
    entry = replies[name]
    text = entry if isinstance(entry, str) else entry[min(turns[key], len(entry) - 1)]
    turns[key] += 1
    return _section_scene(key) if text == SCENE_FOR_SECTION else text


class CorpusLLM(ScriptedLLM):
    """The corpus as an in-process LLM client (call tags name the calls)."""

    def __init__(self, case: MessyCase) -> None:
        super().__init__({})
        self.case = case
        self.turns: Counter[str] = Counter()
        #: Tokens of every reply given (input and output).
        self.reported = 0

    def complete(self, request: LLMRequest) -> LLMReply:
        self.requests.append(request)
        tag = request.tag
        key = ".".join(p for p in (tag.agent, tag.stage, tag.section) if p)
        text = _pick(self.case.replies, key, self.turns)
        prompt = "\n".join(m.plain_text() for m in request.messages)
        usage = TokenUsage(input=estimate_tokens(prompt), output=estimate_tokens(text))
        self.reported += usage.total
        return LLMReply(
            text=text.removeprefix(CUT),
            usage=usage,
            provider=self.provider,
            model=self.model,
            truncated=text.startswith(CUT),
        )


_CODE = re.compile(r"^Section (\S+) of \d+:", re.MULTILINE)
_REVIEW = re.compile(r"^Section (\S+): ", re.MULTILINE)
_ROUTES = (
    (re.compile(r"The scene for section (\S+) failed to render"), "coder.fix_lines"),
    (re.compile(r"The scene for section (\S+) still fails"), "coder.fix_file"),
    (re.compile(r"The scene for section (\S+) renders, but its layout"), "coder.revise"),
)


class CorpusReplay:
    """Answers Chat Completions requests from one case, and counts the usage it reports."""

    model = "messy-1"

    def __init__(self, case: MessyCase) -> None:
        self.case = case
        self.turns: Counter[str] = Counter()
        self.keys: list[str] = []
        self.input_tokens = 0
        self.output_tokens = 0
        self._lock = threading.Lock()

    @staticmethod
    def key_for(prompt: str) -> str:
        if "Write the outline" in prompt:
            return "planner.outline"
        if "Turn each outline section into a storyboard" in prompt:
            return "planner.storyboard"
        for pattern, stage in _ROUTES:
            if m := pattern.search(prompt):
                return f"{stage}.{m.group(1)}"
        if m := _CODE.search(prompt):
            stage = "regenerate" if "An earlier version of this section failed" in prompt else "code"
            return f"coder.{stage}.{m.group(1)}"
        if m := _REVIEW.search(prompt):
            return f"critic.review.{m.group(1)}"
        raise LookupError(f"no corpus reply fits this prompt: {prompt[:120]!r}")

    def __call__(self, rec: Recorded) -> Reply:
        if not rec.path.endswith("/chat/completions"):
            return Reply(404, {"error": {"message": f"no route {rec.path}"}})
        messages = rec.json["messages"]
        prompt = next(_text(m["content"]) for m in messages if m["role"] == "user")
        with self._lock:
            try:
                key = self.key_for(prompt)
                text = _pick(self.case.replies, key, self.turns)
            except LookupError as exc:
                return Reply(400, {"error": {"message": f"corpus server: {exc}"}})
            self.keys.append(key)
            usage = (sum(len(_text(m["content"])) for m in messages) // 4 + 1, len(text) // 4 + 1)
            self.input_tokens += usage[0]
            self.output_tokens += usage[1]
        finish = "length" if text.startswith(CUT) else "stop"
        return Reply(body=openai_chat(text.removeprefix(CUT), finish, model=self.model, usage=usage))
