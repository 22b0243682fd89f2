"""Which H.264 encoder a GPU render node could use: NVENC when it works here, else libx264.

Checked once at start where a render pool asks for a GPU: the NVIDIA device must exist,
PyAV's FFmpeg must list ``h264_nvenc``, and a one-frame trial encode must succeed (a
listed encoder still fails without a driver). Anything short of that falls back to
libx264, and the log line says why. The choice is only reported for now: the final tier
keeps Manim's libx264 until NVENC renders are measured on a GPU node (see the README).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import structlog

log = structlog.get_logger("c2v.media")

NVENC = "h264_nvenc"
X264 = "libx264"
NVIDIA_DEVICE = Path("/dev/nvidiactl")


@dataclass(frozen=True)
class EncoderChoice:
    codec: str
    why: str


def _trial_encode(codec: str) -> None:
    """Encode one small frame with ``codec``; raises what FFmpeg raises when it cannot."""
    ctx = av.CodecContext.create(codec, "w")
    assert isinstance(ctx, av.VideoCodecContext)
    ctx.width, ctx.height, ctx.pix_fmt = 256, 256, "yuv420p"
    ctx.time_base = Fraction(1, 30)
    frame = av.VideoFrame(256, 256, "yuv420p")
    ctx.open()
    ctx.encode(frame)
    ctx.encode(None)


def choose_encoder(
    gpu_present: Callable[[], bool] = NVIDIA_DEVICE.exists,
    listed: Callable[[], set[str]] = lambda: set(av.codecs_available),
    trial: Callable[[str], None] = _trial_encode,
) -> EncoderChoice:
    """NVENC if this node can encode with it, else libx264 with the reason (logged)."""
    if not gpu_present():
        choice = EncoderChoice(X264, f"no NVIDIA device ({NVIDIA_DEVICE} is missing)")
    elif NVENC not in listed():
        choice = EncoderChoice(X264, f"this FFmpeg (PyAV {av.__version__}) has no {NVENC}")
    else:
        try:
            trial(NVENC)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            choice = EncoderChoice(X264, f"{NVENC} is listed but cannot encode: {type(exc).__name__}: {exc}")
        else:
            choice = EncoderChoice(NVENC, "NVIDIA device present and a trial encode worked")
    if choice.codec == X264:
        log.warning("nvenc_fallback", codec=X264, reason=choice.why)
    else:
        log.info("nvenc_available", codec=NVENC)
    return choice
