"""Gemini speech generation through google-genai (``response_modalities=["AUDIO"]``).

The audio comes back as raw PCM in the first part's ``inline_data`` (mime type
``audio/L16;codec=pcm;rate=24000``: signed 16-bit little-endian, mono); it is wrapped in a
WAV header here, at the rate the mime type names.
"""

from __future__ import annotations

import io
import re
import wave
from functools import cached_property

from google import genai
from google.genai import types

from c2v.errors import SpeechError
from c2v.llm.gemini import gemini_fault
from c2v.llm.remote import Fault
from c2v.speech.base import SpeechRequest
from c2v.speech.remote import RemoteSpeech

_RATE = re.compile(r"rate=(\d+)")
DEFAULT_PCM_RATE = 24_000


def pcm_to_wav(pcm: bytes, mime_type: str | None) -> bytes:
    """Wrap Gemini's raw L16 PCM in a WAV container (mono, 16-bit, rate from the mime type)."""
    found = _RATE.search(mime_type or "")
    rate = int(found.group(1)) if found else DEFAULT_PCM_RATE
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm[: len(pcm) - len(pcm) % 2])
    return buffer.getvalue()


class GeminiSpeech(RemoteSpeech):
    name = "gemini"
    default_host = "generativelanguage.googleapis.com"

    @cached_property
    def client(self) -> genai.Client:
        s = self.connection
        options = types.HttpOptions(
            base_url=s.base_url,
            api_version=s.api_version,
            timeout=max(1, int(s.timeout_s * 1000)),
            retry_options=types.HttpRetryOptions(attempts=1),  # c2v retries, once, for everyone
        )
        key = s.api_key.get_secret_value() if s.api_key is not None else None
        return genai.Client(api_key=key, http_options=options)

    def _send(self, request: SpeechRequest) -> bytes:
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=types.SpeechConfig(
                voice_config=types.VoiceConfig(
                    prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=request.voice)
                )
            ),
        )
        response = self.client.models.generate_content(
            model=request.model, contents=request.text, config=config
        )
        candidate = response.candidates[0] if response.candidates else None
        parts = candidate.content.parts if candidate and candidate.content and candidate.content.parts else []
        for part in parts:
            if part.inline_data is not None and part.inline_data.data:
                return pcm_to_wav(part.inline_data.data, part.inline_data.mime_type)
        finish = candidate.finish_reason.value if candidate and candidate.finish_reason else "no candidate"
        raise SpeechError(f"speech gemini ({request.model}): the reply carried no audio ({finish})")

    def _fault(self, exc: Exception) -> Fault | None:
        return gemini_fault(exc)
