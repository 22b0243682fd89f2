"""The speech provider for resolved settings, and the service around it."""

from __future__ import annotations

from pathlib import Path

from c2v.speech.base import SpeechProvider
from c2v.speech.cache import SpeechService, default_cache_dir
from c2v.speech.settings import SpeechSettings, TTSKind


def make_provider(settings: SpeechSettings) -> SpeechProvider:
    if settings.kind is TTSKind.espeak:
        from c2v.speech.espeak import EspeakSpeech  # noqa: PLC0415 - SDKs load only when used

        return EspeakSpeech()
    assert settings.connection is not None  # resolve_speech sets it for every remote kind
    if settings.kind is TTSKind.openai:
        from c2v.speech.openai_tts import OpenAISpeech  # noqa: PLC0415

        return OpenAISpeech(settings.connection)
    from c2v.speech.gemini_tts import GeminiSpeech  # noqa: PLC0415

    return GeminiSpeech(settings.connection)


def make_service(settings: SpeechSettings, cache_dir: Path | None = None) -> SpeechService:
    return SpeechService(make_provider(settings), settings, cache_dir or default_cache_dir())
