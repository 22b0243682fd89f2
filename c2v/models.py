"""Pydantic models for everything that crosses a process, disk or network boundary."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from c2v.core.tiers import Orientation, Tier

MAX_LECTURE_LINES = 5
MAX_LINE_WORDS = 12  # Code2Video asks for ~10 words; two words of slack before we reject
MAX_LINE_CJK_CHARS = 24  # the prompt asks for 20 characters; the same slack
MAX_NARRATION_CHARS = 400  # one or two spoken sentences per lecture line
MAX_VISUAL_ELEMENTS = 4
MAX_ASSET_BYTES = 5_000_000
_SECTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


SectionId = Annotated[str, Field(pattern=_SECTION_ID.pattern)]


# --- planning --------------------------------------------------------------------------
class OutlineSection(Strict):
    id: SectionId
    title: str = Field(min_length=1, max_length=120)
    content: str = Field(min_length=1)
    example: str = ""


class Outline(Strict):
    topic: str
    audience: str = ""
    sections: list[OutlineSection] = Field(min_length=1, max_length=12)

    @field_validator("sections")
    @classmethod
    def _unique_ids(cls, sections: list[OutlineSection]) -> list[OutlineSection]:
        ids = [s.id for s in sections]
        if len(set(ids)) != len(ids):
            raise ValueError(f"section ids must be unique, got {ids}")
        return sections


_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    """True when ``text`` has Chinese, Japanese or Korean characters (measured in characters)."""
    return _CJK.search(text) is not None


def line_too_long(line: str) -> str | None:
    """Why a lecture line is too long, or None.

    Code2Video's "about 10 words" means nothing in Chinese, which has no spaces: a line
    with CJK characters is measured in characters (at most MAX_LINE_CJK_CHARS, spaces
    not counted), any other line in words (at most MAX_LINE_WORDS).
    """
    if _CJK.search(line):
        chars = sum(1 for ch in line if not ch.isspace())
        if chars > MAX_LINE_CJK_CHARS:
            return f"lecture line has {chars} characters, more than {MAX_LINE_CJK_CHARS}: {line!r}"
        return None
    words = len(line.split())
    if words > MAX_LINE_WORDS:
        return f"lecture line has more than {MAX_LINE_WORDS} words: {line!r}"
    return None


class VisualElement(Strict):
    """A picture the Planner asks for ("magnifying glass"), resolved to an icon file before coding."""

    name: str = Field(min_length=1, max_length=60, pattern=r"[A-Za-z]")
    purpose: str = Field(default="", max_length=160)


class StoryboardSection(Strict):
    id: SectionId
    title: str = Field(min_length=1, max_length=120)
    lecture_lines: list[str] = Field(min_length=1, max_length=MAX_LECTURE_LINES)
    animations: list[str] = Field(min_length=1)
    #: What the narrator says while each lecture line is highlighted (one entry per line);
    #: empty in storyboards written before narration existed: such a section is silent.
    narration: list[Annotated[str, Field(max_length=MAX_NARRATION_CHARS)]] = Field(default_factory=list)
    #: Optional, so storyboards written before icons existed still load.
    visual_elements: list[VisualElement] = Field(default_factory=list, max_length=MAX_VISUAL_ELEMENTS)

    @field_validator("lecture_lines")
    @classmethod
    def _short_lines(cls, lines: list[str]) -> list[str]:
        for line in lines:
            if reason := line_too_long(line):
                raise ValueError(reason)
        return lines

    @model_validator(mode="after")
    def _narration_per_line(self) -> StoryboardSection:
        if self.narration and len(self.narration) != len(self.lecture_lines):
            raise ValueError(
                f"section {self.id}: {len(self.narration)} narration entries for "
                f"{len(self.lecture_lines)} lecture lines (one per line)"
            )
        return self


class Storyboard(Strict):
    topic: str
    sections: list[StoryboardSection] = Field(min_length=1, max_length=12)

    def section(self, section_id: str) -> StoryboardSection:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)


class PlannedOutline(Strict):
    """An outline as the planner's call returns it: with what was normalised in the reply."""

    outline: Outline
    notes: list[str] = Field(default_factory=list)


class PlannedStoryboard(Strict):
    """A storyboard as the planner's call returns it: with what was normalised in the reply."""

    storyboard: Storyboard
    notes: list[str] = Field(default_factory=list)


# --- rendering -------------------------------------------------------------------------
class RenderStatus(StrEnum):
    ok = "ok"
    code_error = "code_error"
    timeout = "timeout"
    oom = "oom"
    killed = "killed"
    policy = "policy"  # the scene tried something the sandbox forbids (network, host files, disk)
    infra_error = "infra_error"
    #: Not a render: the Coder's reply held no usable code (unparseable, an edit whose SEARCH
    #: text is not in the file, the wrong class, empty, cut off); the section climbs the ladder.
    unusable_reply = "unusable_reply"

    def is_models_fault(self) -> bool:
        """True when the repair loop should hand the outcome back to the Coder."""
        return self in {
            RenderStatus.code_error,
            RenderStatus.timeout,
            RenderStatus.oom,
            RenderStatus.policy,
            RenderStatus.unusable_reply,
        }


class SandboxLimits(Strict):
    wall_s: float = Field(default=180.0, gt=0)
    cpu_s: int = Field(default=600, gt=0)
    memory_mb: int = Field(default=4096, gt=64)
    file_mb: int = Field(default=2048, gt=1)
    processes: int = Field(default=512, gt=8)
    tmp_mb: int = Field(default=512, gt=1)
    #: Everything the scene may write into its work dir (media, caches), all files together.
    workdir_mb: int = Field(default=4096, gt=16)
    #: CPUs the sandbox may use at once (a container's CPU quota; Ray reserves the same).
    cpus: float = Field(default=1.0, gt=0)


class NarrationSegment(Strict):
    """One spoken segment of a section: a WAV on the host, its length and content hash."""

    key: str
    path: str
    duration_s: float = Field(ge=0)


class SpokenAt(Strict):
    """When the scene started segment ``index`` (seconds into the section's video)."""

    index: int = Field(ge=0)
    t: float = Field(ge=0)


class License(Strict):
    spdx: str | None = None  # "MIT", "Apache-2.0", "CC-BY-4.0"; None when the source gives only a title
    title: str
    url: str | None = None
    requires_attribution: bool


class SectionImage(Strict):
    """An icon file the Coder may place: its name in the render's ``assets/`` folder."""

    file: str
    element: str
    purpose: str = ""


class RenderAsset(Strict):
    """A file shipped into the render's work dir as ``assets/<name>``; its bytes travel with the request."""

    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}\.(svg|png)$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    data: bytes = Field(max_length=MAX_ASSET_BYTES)


class RenderRequest(Strict):
    """One section's scene, to be rendered in a sandbox."""

    case_id: str
    section_id: SectionId
    scene_name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    code: str
    tier: Tier
    orientation: Orientation
    limits: SandboxLimits = Field(default_factory=SandboxLimits)
    #: Run the scene with ``manim render --dry_run``: every animation is computed, no frame is
    #: written, so runtime errors show in a fraction of a render; an ``ok`` result has no video.
    dry_run: bool = False
    #: Log ids only (bound to the render task's log lines), never part of the render key.
    batch_id: str = ""
    attempt: int = Field(default=0, ge=0)
    #: Spoken segments, one per lecture line, copied into the work dir (part of the render key).
    segments: list[NarrationSegment] = Field(default_factory=list)
    #: Icon files for ``assets/`` in the work dir; part of the render key by name and hash.
    assets: list[RenderAsset] = Field(default_factory=list, max_length=MAX_VISUAL_ELEMENTS * 3)


class IssueSeverity(StrEnum):
    error = "error"
    warning = "warning"


class LayoutIssue(Strict):
    """One problem the layout lint found on screen after an animation."""

    rule: str
    severity: IssueSeverity
    message: str
    objects: list[str]
    anchors: list[str] = Field(default_factory=list)
    line: int | None = None
    animation: int = 0


class RenderResult(Strict):
    status: RenderStatus
    section_id: str
    message: str = ""
    traceback: str = ""
    error_line: int | None = None
    stderr_tail: str = ""
    video_duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    wall_s: float = 0.0
    backend: str = ""
    layout_issues: list[LayoutIssue] = Field(default_factory=list)
    layout_recorded: bool = False
    keyframe_times: list[float] = Field(default_factory=list)  # end of each animation, seconds
    spoken: list[SpokenAt] = Field(default_factory=list)  # highlight_lecture's record of speech starts


# --- pre-render check ------------------------------------------------------------------
class CodeRewrite(Strict):
    """One mechanical rewrite of generated code (a renamed Manim API), made with no model call."""

    line: int
    old: str
    new: str
    rule: str  # e.g. "name:ShowCreation", "call:FadeInFrom", "method:get_graph"


class PrecheckError(Strict):
    """What the static check found wrong, shaped like a render's code_error."""

    message: str
    traceback: str
    error_line: int | None = None

    def to_render_result(self, section_id: str) -> RenderResult:
        return RenderResult(
            status=RenderStatus.code_error,
            section_id=section_id,
            message=self.message,
            traceback=self.traceback,
            error_line=self.error_line,
            backend="precheck",
        )


class PrecheckResult(Strict):
    code: str  # the code after the rewrites (the input when none applied)
    rewrites: list[CodeRewrite] = Field(default_factory=list)
    error: PrecheckError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# --- accounting ------------------------------------------------------------------------
class TokenUsage(Strict):
    input: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(input=self.input + other.input, output=self.output + other.output)


class SpeechUsage(Strict):
    """What speech cost in a run, for the manifest next to the LLM tokens."""

    calls: int = 0  # provider calls made (cache misses)
    cached: int = 0  # clips served from the cache
    characters: int = 0  # characters sent to the provider (cache misses only)
    audio_s: float = 0.0  # seconds of audio synthesised (cache misses only)
    cost_usd: float = 0.0
    voices: list[str] = Field(default_factory=list)  # every voice that spoke, cached or not


class TokenTotals(Strict):
    input: int = 0
    output: int = 0
    total: int = 0
    by_agent: dict[str, TokenUsage] = Field(default_factory=dict)
    by_stage: dict[str, TokenUsage] = Field(default_factory=dict)
    by_model: dict[str, TokenUsage] = Field(default_factory=dict)
    #: Estimated cost in US dollars from the price table, of every reply whose model has a
    #: price; models without one are listed in ``unpriced_models`` (then the sum is partial).
    cost_usd: float = 0.0
    cost_by_agent: dict[str, float] = Field(default_factory=dict)
    cost_by_stage: dict[str, float] = Field(default_factory=dict)
    unpriced_models: list[str] = Field(default_factory=list)


# --- manifest --------------------------------------------------------------------------
class AttemptKind(StrEnum):
    generate = "generate"
    fix_lines = "fix_lines"
    fix_file = "fix_file"
    regenerate = "regenerate"
    revise = "revise"  # a layout revision asked for by the critic loop
    anchor_edit = "anchor_edit"  # a revision applied as a line edit, with no model call
    note = "note"  # a revision asked for by a person's note on the finished video

    def starts_version(self) -> bool:
        """True for attempts that the repair loop's fix budget counts from."""
        return self in {
            AttemptKind.generate,
            AttemptKind.regenerate,
            AttemptKind.revise,
            AttemptKind.anchor_edit,
            AttemptKind.note,
        }


class AttemptRecord(Strict):
    n: int
    kind: AttemptKind
    code: str  # path relative to the case folder
    status: RenderStatus
    message: str = ""
    render_key: str = ""
    #: Mechanical rewrites the static check made to this attempt's code before it ran.
    rewrites: list[CodeRewrite] = Field(default_factory=list)


# --- critic loop -----------------------------------------------------------------------
class CriticIssue(Strict):
    problem: str = Field(min_length=1)
    fix: str = ""
    line: int | None = None
    anchor: str | None = Field(default=None, pattern=r"^[A-Fa-f][1-6]$")


class CriticReport(Strict):
    issues: list[CriticIssue] = Field(default_factory=list, max_length=20)


class ReviewChange(StrEnum):
    """What a feedback round did to a section."""

    none = "none"
    anchor_edit = "anchor_edit"
    revise = "revise"
    reverted = "reverted"


class SectionReview(Strict):
    """One section in one feedback round."""

    id: str
    lint_before: list[LayoutIssue] = Field(default_factory=list)
    critic: list[CriticIssue] = Field(default_factory=list)
    critic_error: str | None = None
    change: ReviewChange = ReviewChange.none
    lint_after: list[LayoutIssue] | None = None


class FeedbackRound(Strict):
    round: int
    sections: list[SectionReview]
    renders: int = 0
    renders_reused: int = 0


class SectionStatus(StrEnum):
    ok = "ok"
    failed = "failed"
    missing = "missing"


class AssetNote(Strict):
    """A visual element dropped from a section's prompt, and why (one line, no secret)."""

    element: str
    reason: str
    detail: str


class AssetCredit(Strict):
    """One icon a case uses, as the manifest credits it (never a host path)."""

    element: str
    file: str
    sha256: str
    format: str
    source: str
    icon_id: str
    original_url: str | None = None
    license: License
    author: str | None = None
    attribution: str
    rasterised: bool = False


class SectionRecord(Strict):
    id: str
    title: str
    status: SectionStatus
    attempts: int
    video: str | None = None
    duration_s: float | None = None
    layout_issues: list[LayoutIssue] = Field(default_factory=list)
    history: list[AttemptRecord] = Field(default_factory=list)
    #: Icon files the section's renders got, and the elements no source could supply.
    assets: list[str] = Field(default_factory=list)
    asset_misses: list[AssetNote] = Field(default_factory=list)


class Timings(Strict):
    """Seconds: wall-clock stages, which never add up to more than ``total``, and task sums.

    The stages run one after another: ``plan``, ``speech``, ``sections`` (coding and rendering every
    section with its repairs; the two interleave), ``critic`` (all feedback rounds),
    ``final_tier`` (the frozen code at the final tier) and ``stitch``. The ``*_task_s`` fields
    sum the seconds of tasks that ran side by side, so they may exceed the total.
    """

    plan: float = 0.0
    speech: float = 0.0  # narration synthesised on the host (zero when every clip was cached)
    sections: float = 0.0
    critic: float = 0.0
    final_tier: float = 0.0
    stitch: float = 0.0
    total: float = 0.0
    coder_task_s: float = 0.0  # the model's answer time, summed over every Coder call
    render_task_s: float = 0.0  # sandbox wall time, summed over every render task

    def stages(self) -> dict[str, float]:
        """The wall-clock stages in the order they run (the task sums left out)."""
        return {name: getattr(self, name) for name in STAGES}


#: The wall-clock stages of :class:`Timings`, in the order they run.
STAGES = ("plan", "speech", "sections", "critic", "final_tier", "stitch")


class RunCounters(Strict):
    """What this invocation did, as opposed to what it reused from the case folder."""

    llm_calls: int = 0
    llm_calls_reused: int = 0
    renders: int = 0
    renders_reused: int = 0


class PublishedObject(Strict):
    """One file of a published case, as a reader of the published manifest finds it."""

    name: str  # path relative to the case folder: "video.mp4", "sections/1/video.mp4"
    key: str  # where it lives in the storage: the S3 object key, or the file's absolute path
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str | None = None  # a link that downloads it (presigned https, or file://)


class Publication(Strict):
    """Where a case was published; only objects that were complete and verified are named."""

    storage: str  # the storage's describe(): never credentials
    batch: str
    slug: str
    location: str  # s3://bucket/prefix/batch/slug, or the folder the case was copied to
    manifest_key: str
    manifest_url: str | None = None
    video_url: str | None = None
    objects: list[PublishedObject] = Field(default_factory=list)
    published_at: str
    url_expires_at: str | None = None  # presigned links stop working after this (UTC, ISO 8601)


class Manifest(Strict):
    topic: str
    slug: str
    provider: str
    model: str
    tier: Tier
    orientation: Orientation
    width: int
    height: int
    fps: int
    sections: list[SectionRecord]
    missing_sections: list[str] = Field(default_factory=list)
    preview_tier: Tier | None = None
    feedback: list[FeedbackRound] = Field(default_factory=list)
    #: What was normalised in the planner's outline and storyboard (limits it broke, mended).
    normalised: list[str] = Field(default_factory=list)
    tokens: TokenTotals
    timings_s: Timings
    this_run: RunCounters
    video: str | None
    video_duration_s: float | None = None
    #: Narration: provider calls, cached clips, characters and cost (None: no narration).
    speech: SpeechUsage | None = None
    #: ``video.srt`` and ``video.vtt`` beside the video, when it speaks.
    subtitles: list[str] = Field(default_factory=list)
    manim_version: str
    c2v_version: str
    created_at: str
    #: Every icon of the case with its source, licence and attribution (``ATTRIBUTION.md``).
    assets: list[AssetCredit] = Field(default_factory=list)
    #: Set once the case was published (``c2v.storage``); links for ``c2v status``.
    published: Publication | None = None
