"""User-facing run configuration, validated once at the CLI boundary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from c2v.assets.models import SourceChoice
from c2v.core.language import check_language
from c2v.core.slug import check_prefix, clean_topic
from c2v.core.tiers import Orientation, Tier
from c2v.llm.settings import ProviderSettings
from c2v.models import SandboxLimits, Strict
from c2v.repair import RepairPolicy
from c2v.speech import SpeechSettings, TTSKind
from cluster.pools import RenderPools
from sandbox.base import SandboxChoice


class RunConfig(Strict):
    topic: str
    api: str = "offline"
    #: The provider, resolved from ``api``, api_config.json and the environment at the CLI
    #: boundary; ``None`` resolves ``api`` when a run needs a model.
    llm: ProviderSettings | None = None
    tier: Tier = Tier.l
    orientation: Orientation = Orientation.landscape
    output_dir: Path = Path("CASES")
    folder_prefix: str = "c2v"
    repair: RepairPolicy = Field(default_factory=RepairPolicy)
    allow_partial: bool = False
    use_feedback: bool = False
    feedback_rounds: int = Field(default=2, ge=0, le=10)
    preview_tier: Tier = Tier.l
    language: str | None = None  # detected from the topic when not given
    #: bwrap, docker, or auto (resolved at the CLI boundary; the driver resolves what is left once).
    sandbox: SandboxChoice = SandboxChoice.auto
    limits: SandboxLimits = Field(default_factory=SandboxLimits)
    #: ``manim render --dry_run`` before each full render of new code; None: where it pays,
    #: at tiers above ``l`` (scripts/bench_detect.py: at ``l`` a dry run costs about 60% of a
    #: render, at ``m`` about 30%, while it finds a runtime error 1.5x and 3-4x sooner).
    dry_run: bool | None = None
    #: The static check before each render (syntax, class, imports, removed APIs); off only to
    #: measure what it saves (scripts/bench_repair.py).
    precheck: bool = True
    coder_actors: int = Field(default=3, ge=1, le=64)
    ray_address: str | None = None
    #: JSON file of per-tier render pools (cluster/pools.py); None: $C2V_RENDER_POOLS, else defaults.
    render_pools: Path | None = Field(default=None, validate_default=True)
    #: Id of the batch this run belongs to; bound to every worker log line of the run.
    batch_id: str = ""
    #: Narration: the speech provider (``--tts``; None: a silent video), its settings when
    #: resolved at the CLI boundary, and subtitles burned into the picture (portrait shorts).
    tts: TTSKind | None = None
    speech: SpeechSettings | None = None
    burn_subtitles: bool = False
    #: Final-tier renders split at animation boundaries (``--chunks``): ``auto`` where the
    #: pool has idle slots and the section is long enough, ``off``, or chunks per section.
    chunks: Literal["auto", "off"] | Annotated[int, Field(ge=1, le=32)] = "auto"
    #: A section the critic passes starts its final-tier render at once (off: after the loop,
    #: for scripts/bench_4k.py; the video is the same either way).
    pipeline_final: bool = True

    def dry_run_at(self, tier: Tier) -> bool:
        """Whether sections rendering at ``tier`` get a dry run first."""
        return self.dry_run if self.dry_run is not None else tier is not Tier.l

    #: Icons for the storyboard's visual elements (``--use_assets``), and where they come from.
    use_assets: bool = True
    assets_source: SourceChoice = SourceChoice.auto

    @field_validator("render_pools")
    @classmethod
    def _render_pools(cls, value: Path | None) -> Path | None:
        RenderPools.load(value)  # a bad file or $C2V_RENDER_POOLS fails here, before any work
        return value

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        return clean_topic(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else check_language(value)

    @field_validator("folder_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return check_prefix(value)
