"""Speech prices: US dollars per million characters and per minute of audio.

List prices as of late 2025 (estimates: ``gpt-4o-mini-tts`` and Gemini bill tokens, here
turned into their published per-minute equivalents). Override per provider with
``"price"`` in the ``"speech"`` section of ``api_config.json``.
"""

from __future__ import annotations

from pydantic import Field

from c2v.llm.prices import match_model
from c2v.models import Strict


class SpeechPrice(Strict):
    per_million_chars: float = Field(default=0.0, ge=0)
    per_audio_minute: float = Field(default=0.0, ge=0)

    def cost(self, characters: int, audio_s: float) -> float:
        return characters * self.per_million_chars / 1_000_000 + audio_s / 60 * self.per_audio_minute


SPEECH_PRICES: dict[str, SpeechPrice] = {
    "espeak-ng": SpeechPrice(),
    "tts-1": SpeechPrice(per_million_chars=15.0),
    "tts-1-hd": SpeechPrice(per_million_chars=30.0),
    "gpt-4o-mini-tts": SpeechPrice(per_million_chars=0.6 / 4, per_audio_minute=0.015),
    "gemini-2.5-flash-preview-tts": SpeechPrice(per_million_chars=0.5 / 4, per_audio_minute=0.015),
    "gemini-2.5-pro-preview-tts": SpeechPrice(per_million_chars=1.0 / 4, per_audio_minute=0.030),
}


def speech_price(model: str) -> SpeechPrice | None:
    """Exact name first, then the longest table entry ``model`` starts with."""
    return match_model(model, SPEECH_PRICES)
