"""Videos as still frames, for providers whose APIs take images but not video.

The Critic sends a rendered section as a video. Gemini takes it whole; for OpenAI and
Claude the video becomes a handful of frames sampled evenly over its duration, each a PNG,
preceded by a line that says so, so the model knows it is looking at a sequence.
"""

from __future__ import annotations

import io

import av

from c2v.errors import LLMRequestError
from c2v.llm.base import ImagePart, Message, Part, TextPart, VideoPart

DEFAULT_FRAMES = 8


def _frame_count(data: bytes) -> int:
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
        return sum(1 for packet in container.demux(stream) if packet.size)


def video_frames(video: VideoPart, count: int = DEFAULT_FRAMES) -> list[ImagePart]:
    """``count`` frames spread evenly over ``video``, as PNG images (only those are kept)."""
    data = video.raw()
    try:
        total = _frame_count(data)
        step = max(1, total // count)
        wanted = set(range(step // 2, total, step)[:count])
        images = []
        with av.open(io.BytesIO(data), mode="r") as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index in wanted:
                    buffer = io.BytesIO()
                    frame.to_image().save(buffer, format="PNG")  # type: ignore[no-untyped-call]
                    images.append(ImagePart.from_bytes(buffer.getvalue(), "image/png"))
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise LLMRequestError(f"cannot read the video given to the model: {exc}") from exc
    if not images:
        raise LLMRequestError("the video given to the model has no frames")
    return images


def without_video(messages: list[Message], count: int = DEFAULT_FRAMES) -> list[Message]:
    """``messages`` with every video replaced by a note and ``count`` sampled frames."""
    if not any(isinstance(p, VideoPart) for m in messages for p in m.parts):
        return messages
    out = []
    for message in messages:
        parts: list[Part] = []
        for part in message.parts:
            if isinstance(part, VideoPart):
                frames = video_frames(part, count)
                note = f"(The video is shown as {len(frames)} frames sampled evenly from start to end.)"
                parts += [TextPart(text=note), *frames]
            else:
                parts.append(part)
        out.append(Message(role=message.role, parts=parts))
    return out
