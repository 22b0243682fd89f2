"""espeak-ng really speaking English and Mandarin, and the audio helpers on real files."""

from __future__ import annotations

import json
import subprocess

import numpy as np

from c2v.speech import make_service, resolve_speech
from c2v.speech.audio import (
    SAMPLE_RATE,
    Placed,
    encode_aac,
    lay_out,
    media_duration_s,
    mux_audio,
    read_wav,
    silence,
    wav_duration_s,
)


def test_espeak_speaks_english_and_mandarin_and_caches(tmp_path):
    service = make_service(resolve_speech("espeak", None, env={}), tmp_path / "cache")
    en = service.speak("-n Binary search halves the range.", "en")  # a leading dash is text, not an option
    zh = service.speak("勾股定理：直角三角形两直角边的平方和等于斜边的平方。", "zh")
    assert en.voice == "en-us" and zh.voice == "cmn"
    assert en.model.startswith("espeak-ng-") and en.provider == "espeak"
    assert en.duration_s > 1.0 and zh.duration_s > 2.0
    assert np.abs(read_wav(tmp_path / "cache" / zh.key[:2] / f"{zh.key}.wav")).max() > 1000  # not silence
    assert service.usage.calls == 2 and service.usage.cost_usd == 0
    again = make_service(resolve_speech("espeak", None, env={}), tmp_path / "cache")
    assert again.speak("-n Binary search halves the range.", "en").cached
    assert again.usage.calls == 0 and again.usage.cached == 1


def test_silence_layout_and_aac_lengths(tmp_path):
    assert silence(tmp_path / "s.wav", 1.2345) == round(1.2345 * SAMPLE_RATE) / SAMPLE_RATE
    tone = (np.sin(np.arange(SAMPLE_RATE) / 10) * 10000).astype(np.int16)
    from c2v.speech.audio import write_wav

    write_wav(tmp_path / "t.wav", tone)  # 1.0 s
    layout = lay_out(
        [Placed(0.5, tmp_path / "t.wav"), Placed(1.25, tmp_path / "t.wav"), Placed(2.5, tmp_path / "t.wav")],
        3.0,
        tmp_path / "track.wav",
    )
    assert wav_duration_s(tmp_path / "track.wav") == 3.0
    assert layout.overlap_s == 0.25 and layout.cut_s == 0.5
    track = read_wav(tmp_path / "track.wav")
    assert not track[: SAMPLE_RATE // 2].any() and track[SAMPLE_RATE // 2 + 10 :][:100].any()
    assert abs(encode_aac(tmp_path / "track.wav", tmp_path / "track.m4a") - 3.0) < 0.1


def test_mux_audio_gives_a_video_a_track_as_long_as_it(tmp_path):
    video = tmp_path / "v.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=blue:s=160x90:d=2.4:r=15",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )  # fmt: skip
    silence(tmp_path / "q.wav", media_duration_s(video))
    encode_aac(tmp_path / "q.wav", tmp_path / "q.m4a")
    mux_audio(video, tmp_path / "q.m4a", tmp_path / "out.mp4")
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,duration", "-of", "json",
         str(tmp_path / "out.mp4")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    streams = {s["codec_type"]: s for s in json.loads(probe.stdout)["streams"]}
    assert streams["audio"]["codec_name"] == "aac" and streams["video"]["codec_name"] == "h264"
    assert abs(float(streams["audio"]["duration"]) - float(streams["video"]["duration"])) < 0.1
