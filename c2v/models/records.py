"""What a run records: tokens, attempts, critic rounds, sections, timings, publication, manifest."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from c2v.core.tiers import Orientation, Tier
from c2v.models.base import Strict
from c2v.models.rendering import CodeRewrite, LayoutIssue, License, RenderStatus


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
    #: The final render was joined from this many chunks (1: rendered whole, for ``chunk_note``).
    chunks: int = Field(default=1, ge=1)
    chunk_note: str = ""


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
