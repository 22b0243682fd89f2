"""What a render is asked and answers: request, limits, assets, segments, result, lint, precheck."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from c2v.core.tiers import Orientation, Tier
from c2v.models.base import MAX_ASSET_BYTES, MAX_VISUAL_ELEMENTS, SectionId, Strict


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


class AnimationRange(Strict):
    """Manim's ``-n START,END``: the plays a chunk renders, counted from 0; END included, None: to the end."""

    start: int = Field(ge=0)
    end: int | None = Field(default=None, ge=0)

    def argv(self) -> str:
        return f"{self.start}" if self.end is None else f"{self.start},{self.end}"


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
    #: Render only these plays (a chunk of the section); None: the whole section.
    animations: AnimationRange | None = None


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
    #: Section time at the end of every play (skipped ones too): what a chunked render is planned from.
    play_ends: list[float] = Field(default_factory=list)


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
