"""The speech boundary: text and a voice in, an audio file and its duration out.

A provider (:class:`SpeechProvider`) turns one :class:`SpeechRequest` into audio bytes in
any container PyAV decodes; :class:`c2v.speech.cache.SpeechService` normalises them to a
WAV file, measures it and caches it, and returns a :class:`SpeechClip`. Everything past
this module sees clips only, never a provider's format.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import Field

from c2v.models import SpeechUsage, Strict


class SpeechRequest(Strict):
    """One thing to say."""

    text: str = Field(min_length=1, max_length=4096)
    voice: str = Field(min_length=1)
    model: str = Field(min_length=1)
    language: str = "en"


class SpeechProvider(Protocol):
    """What a speech provider writes: one synthesis, no caching, its own retries."""

    @property
    def name(self) -> str:
        """The ``--tts`` name (``espeak``, ``openai``, ``gemini``); part of the cache key."""
        ...

    def synthesize(self, request: SpeechRequest) -> bytes:
        """Audio for ``request`` (WAV, MP3, ... anything PyAV decodes); raises SpeechError."""
        ...


class SpeechClip(Strict):
    """A spoken segment on disk: what travels into a render's work dir and the manifest."""

    key: str  # content hash of provider, model, voice, language and text
    path: str  # absolute path of the WAV file (48 kHz mono 16-bit PCM)
    duration_s: float = Field(ge=0)
    text: str
    voice: str
    provider: str
    model: str
    characters: int = Field(ge=0)
    cost_usd: float = Field(default=0.0, ge=0)
    cached: bool = False  # served from the cache: no call was made for it in this run


def add_usage(usage: SpeechUsage, clip: SpeechClip) -> None:
    """Count ``clip`` into ``usage``."""
    if clip.voice not in usage.voices:
        usage.voices.append(clip.voice)
    if clip.cached:
        usage.cached += 1
        return
    usage.calls += 1
    usage.characters += clip.characters
    usage.audio_s = round(usage.audio_s + clip.duration_s, 3)
    usage.cost_usd = round(usage.cost_usd + clip.cost_usd, 6)
