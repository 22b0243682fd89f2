"""Speech endpoints on 127.0.0.1, for the real openai and google-genai SDKs.

Built on :class:`tests.llm_fakes.FakeProvider`; these are the reply bodies: OpenAI's
``/v1/audio/speech`` answers raw WAV bytes (streamed, with the ``0xFFFFFFFF`` length
fields OpenAI sends), Gemini's ``generateContent`` answers JSON whose part carries
base64 L16 PCM in ``inlineData``.
"""

from __future__ import annotations

import base64
import struct

import numpy as np

from tests.llm_fakes import Reply

PCM_RATE = 24_000


def tone_pcm(seconds: float, rate: int = PCM_RATE, hz: float = 440.0) -> bytes:
    t = np.arange(round(seconds * rate)) / rate
    return (np.sin(2 * np.pi * hz * t) * 12000).astype("<i2").tobytes()


def streamed_wav(pcm: bytes, rate: int = PCM_RATE) -> bytes:
    """A WAV header as a streaming server writes it: the RIFF and data sizes unknown."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"data" + struct.pack("<I", 0xFFFFFFFF) + pcm
    )  # fmt: skip


def openai_speech(seconds: float = 0.5) -> Reply:
    return Reply(200, streamed_wav(tone_pcm(seconds)), headers={"content-type": "audio/wav"})


def gemini_speech(seconds: float = 0.5, model: str = "gemini-2.5-flash-preview-tts") -> Reply:
    data = base64.b64encode(tone_pcm(seconds)).decode()
    part = {"inlineData": {"mimeType": f"audio/L16;codec=pcm;rate={PCM_RATE}", "data": data}}
    body = {
        "candidates": [{"content": {"parts": [part], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 400, "totalTokenCount": 409},
        "modelVersion": model,
        "responseId": "fake-tts",
    }
    return Reply(200, body)
