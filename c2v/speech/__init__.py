"""Narration: speech synthesised on the host, cached, and laid onto section tracks.

Public API::

    settings = resolve_speech("espeak")            # or "openai", "gemini"; --tts
    service = make_service(settings, cache_dir)    # SpeechService
    clip = service.speak("Binary search halves the range.", "en")   # SpeechClip
    service.usage                                  # SpeechUsage: calls, cached, characters, cost

and :mod:`c2v.speech.audio` for silence, track layout, AAC and muxing.
"""

from c2v.models import SpeechUsage
from c2v.speech.base import SpeechClip, SpeechProvider, SpeechRequest
from c2v.speech.cache import SpeechService, default_cache_dir
from c2v.speech.registry import make_provider, make_service
from c2v.speech.settings import SpeechSettings, TTSKind, resolve_speech

__all__ = [
    "SpeechClip",
    "SpeechProvider",
    "SpeechRequest",
    "SpeechService",
    "SpeechSettings",
    "SpeechUsage",
    "TTSKind",
    "default_cache_dir",
    "make_provider",
    "make_service",
    "resolve_speech",
]
