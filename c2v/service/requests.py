"""From an accepted request to the pipeline's :class:`RunConfig`: the CLI's checks, server side.

Everything ``c2v generate`` refuses (unknown tier or provider, a provider without a key on
the server, an offline topic with no transcript) raises a one-line :class:`UsageError`
here, which the HTTP layer answers with 422 before anything is stored.
"""

from __future__ import annotations

from pydantic import ValidationError

from c2v.config import RunConfig
from c2v.errors import ConfigError, UsageError, first_error
from c2v.llm.offline import find_transcript
from c2v.llm.settings import ProviderKind, ProviderSettings, require_usable, resolve_provider
from c2v.models import SandboxLimits
from c2v.service.api import VideoRequest
from c2v.service.settings import ServiceSettings


def provider_for(request: VideoRequest, settings: ServiceSettings) -> ProviderSettings:
    """The provider the request names, resolved from the server's config and environment."""
    llm = resolve_provider(request.api, settings.api_config)
    require_usable(llm)
    if llm.kind is ProviderKind.offline:
        find_transcript(request.topic)
    return llm


def run_config(request: VideoRequest, settings: ServiceSettings, video_id: str) -> RunConfig:
    """The pipeline's config for one video: its own case, ``<out>/videos/<id>/<slug>/``."""
    llm = provider_for(request, settings)
    try:
        return RunConfig(
            topic=request.topic,
            api=request.api,
            llm=llm,
            tier=request.quality,
            orientation=request.orientation,
            output_dir=settings.videos_dir,
            folder_prefix=video_id,
            use_feedback=request.use_feedback,
            feedback_rounds=request.feedback_rounds,
            language=request.language,
            sandbox=settings.sandbox,
            limits=SandboxLimits(wall_s=settings.render_timeout),
        )
    except ValidationError as exc:
        first = first_error(exc)
        if isinstance(first.cause, UsageError):
            raise first.cause from None
        raise ConfigError(f"invalid {first.line()}") from None
