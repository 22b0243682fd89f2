"""Speech providers through their real SDKs against wire-level fakes on 127.0.0.1, the
cache that makes a rerun call nothing, and speech settings from api_config.json."""

from __future__ import annotations

import json
import logging

import pytest

from c2v.errors import ConfigError, SpeechAuthError, SpeechRateLimited
from c2v.llm.settings import load_api_config
from c2v.speech import SpeechService, make_provider, resolve_speech
from c2v.speech.audio import SAMPLE_RATE, wav_duration_s
from tests.llm_fakes import FakeProvider, Reply, gemini_error, openai_error
from tests.speech_fakes import gemini_speech, openai_speech

KEY = "sk-test-SECRET-speech-0123456789abcdef"
GKEY = "AIzaSECRETspeech0123456789abcdef"
FAST = {"C2V_LLM_TIMEOUT_S": "2", "C2V_LLM_MAX_TRIES": "3", "C2V_LLM_BACKOFF_S": "0.01"}


@pytest.fixture
def server():
    with FakeProvider() as fake:
        yield fake


def _service(tmp_path, server, tts: str, speech: dict | None = None, azure: bool = False) -> SpeechService:
    if tts == "openai":
        entry = {"api_key": KEY, "base_url": f"{server.url}/v1", "model": "gpt-4.1"}
        if azure:
            entry = {"api_key": KEY, "base_url": server.url, "api_version": "2025-03-01-preview",
                     "provider": "azure", "model": "chat"}  # fmt: skip
        config = {"gpt41": entry}
    else:
        config = {"gemini": {"api_key": GKEY, "base_url": server.url}}
    config["speech"] = speech or {}
    path = tmp_path / "api_config.json"
    path.write_text(json.dumps(config))
    settings = resolve_speech(tts, path, env=FAST)
    return SpeechService(make_provider(settings), settings, tmp_path / "cache")


def _dig(body: dict, *camel: str):
    for name in camel:
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
        body = body[name] if name in body else body[snake]
    return body


def _no_key_anywhere(*texts: str) -> None:
    for text in texts:
        assert KEY not in text and GKEY not in text


def test_openai_speech_wire_and_wav(tmp_path, server):
    server.push(openai_speech(0.5))
    service = _service(tmp_path, server, "openai", {"openai": {"voice": "nova"}})
    clip = service.speak("Binary search halves the range.", "en")
    (rec,) = server.requests
    assert rec.path == "/v1/audio/speech"
    assert rec.json == {
        "model": "gpt-4o-mini-tts", "voice": "nova", "input": "Binary search halves the range.",
        "response_format": "wav",
    }  # fmt: skip
    assert rec.headers["authorization"] == f"Bearer {KEY}"
    assert abs(clip.duration_s - 0.5) < 0.01  # the streamed WAV's 0xFFFFFFFF sizes read to the end
    assert abs(wav_duration_s(tmp_path / "cache" / clip.key[:2] / f"{clip.key}.wav") - 0.5) < 0.01
    assert clip.characters == 31 and clip.cost_usd > 0 and not clip.cached


def test_azure_speech_goes_to_the_deployment(tmp_path, server):
    server.push(openai_speech(0.3))
    service = _service(tmp_path, server, "openai", {"openai": {"model": "tts-deploy"}}, azure=True)
    clip = service.speak("Hello.", "en")
    (rec,) = server.requests
    assert rec.path == "/openai/deployments/tts-deploy/audio/speech"
    assert rec.query["api-version"] == ["2025-03-01-preview"]
    assert rec.headers["api-key"] == KEY
    assert abs(clip.duration_s - 0.3) < 0.01


def test_openai_429_is_retried(tmp_path, server, caplog):
    server.push(
        Reply(429, openai_error(429, f"slow down {KEY}"), headers={"retry-after-ms": "20"}), openai_speech()
    )
    with caplog.at_level(logging.DEBUG):
        clip = _service(tmp_path, server, "openai").speak("Retry me.", "en")
    assert len(server.requests) == 2 and clip.duration_s > 0.4
    _no_key_anywhere(caplog.text)


def test_openai_rejected_key_is_one_clean_line(tmp_path, server, capsys, caplog):
    server.push(Reply(401, openai_error(401, f"Incorrect API key provided: {KEY}")))
    with pytest.raises(SpeechAuthError) as err:
        _service(tmp_path, server, "openai").speak("Hello.", "en")
    message = str(err.value)
    assert "speech openai (gpt-4o-mini-tts): the API key was rejected (HTTP 401)" in message
    assert "\n" not in message
    out = capsys.readouterr()
    _no_key_anywhere(message, out.out, out.err, caplog.text)


def test_gemini_speech_pcm_is_wrapped_as_wav(tmp_path, server):
    server.push(gemini_speech(0.75))
    service = _service(tmp_path, server, "gemini", {"gemini": {"languages": {"zh": {"voice": "Puck"}}}})
    clip = service.speak("勾股定理", "zh")
    (rec,) = server.requests
    assert rec.path.endswith("/models/gemini-2.5-flash-preview-tts:generateContent")
    config = rec.json["generationConfig"]
    assert config["responseModalities"] == ["AUDIO"]
    # google-genai writes the nested speech config in snake_case; proto JSON takes both spellings
    assert _dig(config, "speechConfig", "voiceConfig", "prebuiltVoiceConfig", "voiceName") == "Puck"
    assert rec.headers["x-goog-api-key"] == GKEY
    assert abs(clip.duration_s - 0.75) < 0.01 and clip.voice == "Puck"
    wav = tmp_path / "cache" / clip.key[:2] / f"{clip.key}.wav"
    assert wav.read_bytes()[:4] == b"RIFF"


def test_gemini_429_retried_then_gives_up_without_the_key(tmp_path, server, caplog):
    busy = Reply(429, gemini_error(429, f"quota exceeded for {GKEY}", retry_delay="0.02s"))
    server.push(busy, gemini_speech(0.2))
    service = _service(tmp_path, server, "gemini")
    assert service.speak("One.", "en").duration_s > 0.15
    assert len(server.requests) == 2
    server.push(busy, busy, busy)
    with caplog.at_level(logging.DEBUG), pytest.raises(SpeechRateLimited) as err:
        service.speak("Two.", "en")
    assert "gave up after 3 tries" in str(err.value)
    _no_key_anywhere(str(err.value), caplog.text)


def test_cache_makes_a_rerun_call_nothing(tmp_path, server):
    server.push(openai_speech(0.4), openai_speech(0.6))
    texts = ["First segment.", "Second segment."]
    first = _service(tmp_path, server, "openai")
    clips = first.speak_all(texts, "en", workers=2)
    assert first.usage.calls == 2 and first.usage.characters == sum(len(t) for t in texts)
    again = _service(tmp_path, server, "openai")
    reclips = again.speak_all(texts, "en")
    assert len(server.requests) == 2  # no new request
    assert again.usage.calls == 0 and again.usage.cached == 2 and again.usage.cost_usd == 0
    assert [c.duration_s for c in reclips] == [c.duration_s for c in clips]
    assert all(c.cached for c in reclips)
    # another voice is another clip
    server.push(openai_speech(0.4))
    _service(tmp_path, server, "openai", {"openai": {"voice": "echo"}}).speak("First segment.", "en")
    assert len(server.requests) == 3


def test_speech_settings_errors_and_voices(tmp_path):
    with pytest.raises(ConfigError, match="unknown speech provider 'piper'"):
        resolve_speech("piper", None, env={})
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        resolve_speech("openai", None, env={})
    espeak = resolve_speech("espeak", None, env={})
    assert (espeak.voice_for("zh"), espeak.voice_for("en"), espeak.voice_for("de")) == ("cmn", "en-us", "de")
    path = tmp_path / "api_config.json"
    path.write_text(json.dumps({"gemini": {"api_key": GKEY}, "speech": {"espeak": {"voice": 3}}}))
    with pytest.raises(ConfigError, match=r'"speech.espeak": voice'):
        resolve_speech("espeak", path, env={})
    path.write_text(
        json.dumps(
            {"gemini": {"api_key": GKEY}, "speech": {"espeak": {"languages": {"en": {"voice": "en-gb"}}}}}
        )
    )
    assert resolve_speech("espeak", path, env={}).voice_for("en") == "en-gb"
    assert set(load_api_config(path).entries) == {"gemini"}  # the LLM loader skips "speech"
    assert SAMPLE_RATE == 48_000
