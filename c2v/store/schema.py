"""The job store's tables (SQLAlchemy 2 declarative models).

The schema is created and changed only by the Alembic migrations in ``migrations/``; a
test checks that the migrated database and these models agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class VideoStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    def is_terminal(self) -> bool:
        return self in {VideoStatus.succeeded, VideoStatus.failed, VideoStatus.cancelled}


class EventKind(StrEnum):
    status = "status"
    stage = "stage"
    sections = "sections"
    section = "section"
    #: A revision of one section: ``text`` is its status, with ``revision_id`` and ``attempt``.
    revision = "revision"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    #: Per-tenant overrides of the service's limits; NULL takes the service default.
    max_in_flight: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rpm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """An API key: ``c2v_<id>_<secret>``; only the SHA-256 of the whole key is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_videos_tenant_idempotency"),
        Index("ix_videos_status_created", "status", "created_at"),
        Index("ix_videos_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    status: Mapped[VideoStatus] = mapped_column(_enum(VideoStatus, "video_status"))
    topic: Mapped[str] = mapped_column(String(400))
    #: The accepted request body (api.VideoRequest as JSON) and its hash, for idempotency.
    request: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    case_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    video_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: A link signed when the video finished (rows from before ``video_object``); it expires.
    video_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The published video's key in ``--storage``: each download is redirected to a link signed then.
    video_object: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: api.SectionView list as JSON: kept current by the run's reporter, final from the manifest.
    sections: Mapped[str] = mapped_column(Text, default="[]")
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    render_s: Mapped[float] = mapped_column(Float, default=0.0)
    llm_calls: Mapped[int] = mapped_column(Integer, default=0)
    renders: Mapped[int] = mapped_column(Integer, default=0)
    #: How often the work was started (a restart or a lost worker starts it again).
    runs: Mapped[int] = mapped_column(Integer, default=0)
    runner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "event_kind"))
    section_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Set on ``revision`` events: which revision, and the section's attempt it made.
    revision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempt: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Revision(Base):
    """A person's note on one section, and what became of it (the history keeps each one).

    It moves like a video (``queued -> running -> succeeded | failed | cancelled``); the
    scheduler runs at most one revision of a video at a time, on that video's case.
    """

    __tablename__ = "revisions"
    __table_args__ = (Index("ix_revisions_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id"), index=True)
    section_id: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[VideoStatus] = mapped_column(_enum(VideoStatus, "revision_status"))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The section's attempt number of the revised version (once it succeeded).
    attempt: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: What this revision cost (the video's totals include it once it succeeded).
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    runner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RateWindow(Base):
    """Requests of one tenant in one minute (fixed windows, shared by every HTTP replica)."""

    __tablename__ = "rate_windows"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)  # minutes since the epoch
    count: Mapped[int] = mapped_column(Integer, default=0)
