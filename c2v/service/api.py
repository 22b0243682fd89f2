"""The service's wire format (v1): pydantic models for every body it reads or writes."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from c2v.core.language import check_language
from c2v.core.slug import clean_topic
from c2v.core.tiers import Orientation, Tier
from c2v.models import Strict
from c2v.store.schema import EventKind, VideoStatus

MAX_BODY_BYTES = 64 * 1024


class VideoRequest(Strict):
    """``POST /v1/videos``: the same choices as ``c2v generate``."""

    topic: str = Field(max_length=4000)
    quality: Tier = Tier.l
    orientation: Orientation = Orientation.landscape
    api: str = Field(default="offline", min_length=1, max_length=80)
    use_feedback: bool = False
    feedback_rounds: int = Field(default=2, ge=0, le=10)
    language: str | None = Field(default=None, max_length=40)

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        return clean_topic(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else check_language(value)


class VideoCreated(Strict):
    id: str
    status: VideoStatus


class SectionView(Strict):
    id: str
    title: str = ""
    status: str
    attempts: int = 0


class VideoLink(Strict):
    """Where a finished video can be fetched: a link signed for its storage (no API key
    needed, valid for a while), or else this API's own download route (needs the key)."""

    url: str
    signed: bool


class VideoView(Strict):
    id: str
    status: VideoStatus
    topic: str
    quality: Tier
    orientation: Orientation
    api: str
    sections: list[SectionView]
    video_url: str | None
    error: str | None
    tokens: int
    cost_usd: float
    cancel_requested: bool
    runs: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class VideoPage(Strict):
    videos: list[VideoView]
    next_cursor: str | None


class EventView(Strict):
    """One event; a ``revision`` event's ``text`` is the revision's status (``done`` when final)."""

    id: int
    kind: EventKind
    section_id: str | None
    text: str
    done: bool
    at: datetime
    revision_id: int | None = None
    #: The section's attempt number of the revised version (a succeeded revision).
    attempt: int | None = None


class ReviseRequest(Strict):
    """``POST /v1/videos/{id}/sections/{section_id}/revise``: a person's note on one section."""

    note: str = Field(max_length=4000)

    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        note = value.strip()
        if not note:
            raise ValueError("the note is empty; say what to change in the section")
        return note


class RevisionView(Strict):
    id: int
    video_id: str
    section_id: str
    note: str
    status: VideoStatus
    error: str | None
    attempt: int | None
    tokens: int
    cost_usd: float
    runs: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class Problem(Strict):
    detail: str
