"""Audio plumbing for narration: normalise, measure, silence, lay out, encode, mux.

Every clip c2v keeps is WAV at :data:`SAMPLE_RATE` Hz, mono, 16-bit, so that any two can
be mixed without resampling and every section's track is encoded with the same AAC
parameters (:func:`encode_aac`): that is what lets the final concat stay a stream copy.
Decoding and resampling go through PyAV (FFmpeg's libraries); muxing through ``ffmpeg``.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from c2v.core.deps import APT_HINT
from c2v.core.fsio import atomic_writer
from c2v.errors import C2VError, MissingDependencyError, SpeechError

SAMPLE_RATE = 48_000
AAC_BITRATE = 128_000
Samples = npt.NDArray[np.int16]


def decode(data: bytes | Path) -> Samples:
    """Any audio PyAV can read (WAV with or without a valid length, MP3, Opus, ...) as mono
    16-bit samples at :data:`SAMPLE_RATE`."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    chunks: list[Samples] = []
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.audio:
                raise SpeechError("the audio has no audio stream")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1).astype(np.int16))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.int16))
    except av.error.FFmpegError as exc:
        raise SpeechError(f"the audio cannot be decoded: {type(exc).__name__}") from exc
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


def write_wav(path: Path, samples: Samples) -> float:
    """Write ``samples`` as a WAV file, atomically; return its duration in seconds."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.astype("<i2").tobytes())
    with atomic_writer(path) as fh:
        fh.write(buffer.getvalue())
    return len(samples) / SAMPLE_RATE


def read_wav(path: Path) -> Samples:
    """A WAV file this module wrote (other files go through :func:`decode`)."""
    with wave.open(str(path), "rb") as src:
        if (src.getnchannels(), src.getsampwidth(), src.getframerate()) != (1, 2, SAMPLE_RATE):
            return decode(path)
        return np.frombuffer(src.readframes(src.getnframes()), dtype="<i2").astype(np.int16)


def wav_duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as src:
        return src.getnframes() / src.getframerate()


def silence(path: Path, duration_s: float) -> float:
    """A silent WAV of exactly ``round(duration_s * SAMPLE_RATE)`` samples."""
    return write_wav(path, np.zeros(max(0, round(duration_s * SAMPLE_RATE)), dtype=np.int16))


@dataclass(frozen=True)
class Placed:
    """A clip to start at ``start_s`` seconds into a track."""

    start_s: float
    path: Path


@dataclass(frozen=True)
class TrackLayout:
    duration_s: float
    cut_s: float  # seconds of speech that fell past the end of the track and were dropped
    overlap_s: float  # seconds where two clips sounded at once (mixed)


def lay_out(clips: Sequence[Placed], duration_s: float, path: Path) -> TrackLayout:
    """A WAV of exactly ``duration_s`` with each clip at its start time, silence elsewhere."""
    total = max(0, round(duration_s * SAMPLE_RATE))
    mix = np.zeros(total, dtype=np.int32)
    busy = np.zeros(total, dtype=np.int8)
    cut = 0
    for clip in clips:
        samples = read_wav(clip.path)
        start = max(0, round(clip.start_s * SAMPLE_RATE))
        end = min(total, start + len(samples))
        cut += len(samples) - max(0, end - start)
        if end > start:
            mix[start:end] += samples[: end - start]
            busy[start:end] += 1
    np.clip(mix, -32768, 32767, out=mix)
    write_wav(path, mix.astype(np.int16))
    return TrackLayout(
        duration_s=total / SAMPLE_RATE,
        cut_s=round(cut / SAMPLE_RATE, 3),
        overlap_s=round(int(np.count_nonzero(busy > 1)) / SAMPLE_RATE, 3),
    )


def encode_aac(source: Path, path: Path, bitrate: int = AAC_BITRATE) -> float:
    """Encode a WAV as AAC-LC in an ``.m4a`` file; return the encoded duration in seconds."""
    samples = read_wav(source)
    with atomic_writer(path) as fh, av.open(fh, mode="w", format="ipod") as out:
        stream = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = bitrate
        step = 1024 * 16
        for i in range(0, len(samples), step):
            frame = av.AudioFrame.from_ndarray(
                samples[i : i + step].reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = SAMPLE_RATE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return media_duration_s(path, "audio")


def media_duration_s(path: Path, kind: str = "video") -> float:
    """Duration of the first ``kind`` (``video`` or ``audio``) stream, from its packets."""
    with av.open(str(path), mode="r") as container:
        streams = container.streams.video if kind == "video" else container.streams.audio
        if not streams:
            raise SpeechError(f"{path.name} has no {kind} stream")
        stream = streams[0]
        end = 0.0
        for packet in container.demux(stream):
            if packet.pts is not None and packet.duration is not None and packet.time_base is not None:
                end = max(end, float((packet.pts + packet.duration) * packet.time_base))
        base = stream.time_base
        start = float(stream.start_time * base) if stream.start_time is not None and base else 0.0
        return max(0.0, end - start)


def ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        raise MissingDependencyError(
            "missing system dependency: ffmpeg (needed for narration and subtitles); "
            + APT_HINT.format(pkg="ffmpeg")
        )
    return found


def run_ffmpeg(
    args: Sequence[str],
    what: str,
    cwd: Path | None = None,
    timeout_s: float = 600,
    error: type[C2VError] = SpeechError,
) -> None:
    """Run ffmpeg quietly; a failure is one line with the end of its log."""
    cmd = [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=cwd, check=False)
    except subprocess.TimeoutExpired:
        raise error(f"{what}: ffmpeg took more than {timeout_s:g} s") from None
    if done.returncode != 0:
        tail = " ".join(done.stderr.split())[-300:]
        raise error(f"{what}: ffmpeg exited with {done.returncode}: {tail}")


def mux_audio(video: Path, audio: Path, path: Path) -> None:
    """``video``'s picture with ``audio`` as its sound track, both by stream copy."""
    tmp = path.with_name(f".{path.stem}.mux{path.suffix}")
    run_ffmpeg(
        ["-i", str(video), "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
         "-movflags", "+faststart", str(tmp)],
        f"adding sound to {video.name}",
    )  # fmt: skip
    tmp.replace(path)


def section_track(video: Path, clips: Sequence[Placed], work: Path) -> tuple[Path, TrackLayout]:
    """The AAC track of one section: its clips laid out over exactly the video's duration."""
    duration = media_duration_s(video, "video")
    wav = work / f"{video.stem}.narration.wav"
    layout = lay_out(clips, duration, wav)
    m4a = work / f"{video.stem}.narration.m4a"
    encode_aac(wav, m4a)
    wav.unlink()
    return m4a, layout
