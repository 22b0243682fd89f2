"""Narration of a run: every section's speech synthesised on the host before any render.

The speech settings are resolved once (``--tts``); the sandbox only ever sees the WAV
files and their durations (:class:`c2v.models.NarrationSegment`), never a key. Clips are
cached by content, so a rerun makes no speech call. A section whose speech fails stays
silent; the topic goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import structlog

from c2v.errors import SpeechError
from c2v.media.soundtrack import Clip, SectionSound
from c2v.models import NarrationSegment, RenderResult, SpeechUsage, StoryboardSection
from c2v.speech import SpeechClip, SpeechService, SpeechSettings, TTSKind, make_service, resolve_speech

log = structlog.get_logger("c2v.pipeline")

#: Parallel calls to a remote speech provider (espeak runs one at a time).
REMOTE_WORKERS = 4


class Narration:
    def __init__(self, service: SpeechService, language: str, workers: int = 1) -> None:
        self.service = service
        self.language = language
        self.workers = workers
        self.clips: dict[str, list[SpeechClip]] = {}

    @classmethod
    def of(
        cls,
        tts: TTSKind | None,
        settings: SpeechSettings | None,
        language: str,
        cache_dir: Path | None = None,
    ) -> Narration | None:
        """The run's narration, or None with ``--no-narration``."""
        if settings is None:
            if tts is None:
                return None
            settings = resolve_speech(tts.value)
        workers = 1 if settings.kind is TTSKind.espeak else REMOTE_WORKERS
        return cls(make_service(settings, cache_dir), language, workers)

    @property
    def usage(self) -> SpeechUsage:
        return self.service.usage

    def prepare(self, sections: Sequence[StoryboardSection]) -> dict[str, list[NarrationSegment]]:
        """Speak every section's narration; the segments each render request carries."""
        segments: dict[str, list[NarrationSegment]] = {}
        for section in sections:
            if not section.narration:
                continue
            try:
                clips = self.service.speak_all(section.narration, self.language, self.workers)
            except SpeechError as exc:
                log.warning("narration_failed", section=section.id, reason=str(exc))
                continue
            self.clips[section.id] = clips
            segments[section.id] = [
                NarrationSegment(key=c.key, path=c.path, duration_s=c.duration_s) for c in clips
            ]
        return segments

    def sound_of(self, section_id: str, video: Path, result: RenderResult | None) -> SectionSound:
        """What the soundtrack needs of one rendered section."""
        clips = [Clip(Path(c.path), c.duration_s, c.text) for c in self.clips.get(section_id, [])]
        starts = {a.index: a.t for a in result.spoken} if result is not None else {}
        return SectionSound(video=video, clips=clips, starts=starts)
