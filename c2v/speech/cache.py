"""Cached speech: the one entry point the pipeline calls.

A clip is cached under a content hash of provider, model, voice, language and text:
``<cache>/<hash[:2]>/<hash>.wav`` with ``<hash>.json`` beside it (its :class:`SpeechClip`).
A rerun finds both and makes no call. Both files are written atomically, the WAV first,
so a clip whose JSON exists is always whole. Safe to call from several threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import ValidationError

from c2v.core.fsio import write_model_atomic
from c2v.models import SpeechUsage
from c2v.speech.audio import decode, write_wav
from c2v.speech.base import SpeechClip, SpeechProvider, SpeechRequest, add_usage
from c2v.speech.settings import SpeechSettings, TTSKind

CACHE_ENV = "C2V_SPEECH_CACHE"
#: Bump when the stored audio format changes, so old clips are not reused.
FORMAT_VERSION = 1


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$C2V_SPEECH_CACHE``, else ``$XDG_CACHE_HOME/c2v/speech`` (``~/.cache/c2v/speech``)."""
    env = os.environ if env is None else env
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "c2v" / "speech"


def clip_key(provider: str, request: SpeechRequest) -> str:
    payload = {
        "v": FORMAT_VERSION,
        "provider": provider,
        "model": request.model,
        "voice": request.voice,
        "language": request.language,
        "text": request.text,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class SpeechService:
    """Text in, a cached :class:`SpeechClip` out; counts calls, characters and cost."""

    def __init__(self, provider: SpeechProvider, settings: SpeechSettings, cache_dir: Path) -> None:
        self.provider = provider
        self.settings = settings
        self.cache_dir = cache_dir
        self.usage = SpeechUsage()
        self._lock = threading.Lock()

    def request_for(self, text: str, language: str) -> SpeechRequest:
        return SpeechRequest(
            text=" ".join(text.split()),
            voice=self.settings.voice_for(language),
            model=self._model(language),
            language=language,
        )

    def _model(self, language: str) -> str:
        model = self.settings.model_for(language)
        if self.settings.kind is TTSKind.espeak:
            from c2v.speech.espeak import espeak_version  # noqa: PLC0415 - only espeak needs the binary

            return espeak_version()
        return model

    def speak(self, text: str, language: str = "en") -> SpeechClip:
        request = self.request_for(text, language)
        key = clip_key(self.provider.name, request)
        wav = self.cache_dir / key[:2] / f"{key}.wav"
        meta = wav.with_suffix(".json")
        clip = self._cached(meta, wav)
        if clip is None:
            samples = decode(self.provider.synthesize(request))
            duration = write_wav(wav, samples)
            characters = len(request.text)
            clip = SpeechClip(
                key=key,
                path=str(wav.resolve()),
                duration_s=round(duration, 4),
                text=request.text,
                voice=request.voice,
                provider=self.provider.name,
                model=request.model,
                characters=characters,
                cost_usd=round(self.settings.price.cost(characters, duration), 6),
            )
            write_model_atomic(meta, clip)
        with self._lock:
            add_usage(self.usage, clip)
        return clip

    def speak_all(self, texts: Sequence[str], language: str = "en", workers: int = 1) -> list[SpeechClip]:
        """Clips for ``texts`` in order; remote providers may take ``workers`` > 1."""
        if workers <= 1 or len(texts) <= 1:
            return [self.speak(t, language) for t in texts]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="c2v-speech") as pool:
            return list(pool.map(lambda t: self.speak(t, language), texts))

    @staticmethod
    def _cached(meta: Path, wav: Path) -> SpeechClip | None:
        if not (meta.is_file() and wav.is_file()):
            return None
        try:
            clip = SpeechClip.model_validate_json(meta.read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            return None  # a damaged entry is made again
        return clip.model_copy(update={"cached": True, "path": str(wav.resolve())})
