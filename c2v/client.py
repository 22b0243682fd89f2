"""A Python client of the hosted service, so users script it as they script the CLI.

::

    from c2v.client import Client

    with Client("http://127.0.0.1:8000", key) as c2v:
        video = c2v.submit("Binary search", quality="m")
        done = c2v.wait(video.id, on_event=print)  # follows the server-sent events
        c2v.download(video.id, "binary-search.mp4")
        note = c2v.revise(video.id, "2", "Make the labels larger")  # queued
        c2v.wait_revision(video.id, note.id)  # succeeded: the video is stitched again

Every error from the service is a :class:`c2v.errors.ServiceError` carrying the HTTP status
and the service's one-line ``detail``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
from httpx_sse import connect_sse

from c2v.core.fsio import atomic_writer
from c2v.errors import ServiceError
from c2v.service.api import EventView, RevisionView, VideoCreated, VideoLink, VideoView
from c2v.store.schema import EventKind, VideoStatus

T = TypeVar("T")


class Client:
    def __init__(
        self, url: str, key: str, *, timeout: float = 30.0, http: httpx.Client | None = None
    ) -> None:
        self._http = http or httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self._http.headers["Authorization"] = f"Bearer {key}"

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- calls ----------------------------------------------------------------------------
    def submit(self, topic: str, *, idempotency_key: str | None = None, **options: Any) -> VideoCreated:
        """Queue a video; ``options`` are :class:`VideoRequest` fields (quality, api, ...)."""
        body = {"topic": topic, **options}  # the service validates (422 with one line)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return VideoCreated.model_validate(self._call("POST", "/v1/videos", json=body, headers=headers))

    def get(self, video_id: str) -> VideoView:
        return VideoView.model_validate(self._call("GET", f"/v1/videos/{video_id}"))

    def videos(self, limit: int = 20, cursor: str | None = None) -> tuple[list[VideoView], str | None]:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = self._call("GET", "/v1/videos", params=params)
        return [VideoView.model_validate(v) for v in page["videos"]], page["next_cursor"]

    def cancel(self, video_id: str, wait_s: float = 60.0) -> VideoView:
        """Cancel a video and wait until its work has stopped (status ``cancelled``)."""
        view = VideoView.model_validate(self._call("DELETE", f"/v1/videos/{video_id}"))
        deadline = time.monotonic() + wait_s
        while not view.status.is_terminal() and time.monotonic() < deadline:
            time.sleep(0.5)
            view = self.get(video_id)
        return view

    def events(self, video_id: str, after: int = 0) -> list[EventView]:
        """Every event of the video so far, and on until it and its revisions have ended."""
        seen: list[EventView] = []
        self._follow(video_id, after, seen.append)
        return seen

    def wait(
        self, video_id: str, on_event: Callable[[EventView], None] | None = None, timeout_s: float = 3600
    ) -> VideoView:
        """Follow the video's events until it ends; reconnects (with Last-Event-ID) when cut off."""

        def ended(event: EventView) -> bool:
            return event.kind is EventKind.status and VideoStatus(event.text).is_terminal()

        def check() -> VideoView | None:
            view = self.get(video_id)
            return view if view.status.is_terminal() else None

        return self._until(video_id, ended, check, on_event, timeout_s, f"video {video_id}")

    def download(self, video_id: str, path: Path | str) -> Path:
        """Save the video's mp4 at ``path`` (following a redirect to S3), atomically."""
        target = Path(path)
        with self._http.stream("GET", f"/v1/videos/{video_id}/video", follow_redirects=True) as answer:
            if answer.status_code >= 400:
                answer.read()
                raise _error(answer)
            with atomic_writer(target) as out:
                for chunk in answer.iter_bytes():
                    out.write(chunk)
        return target

    def link(self, video_id: str) -> VideoLink:
        """Where the finished video can be fetched: with ``signed``, a storage link that needs
        no key (valid for a while); otherwise this API's download route."""
        return VideoLink.model_validate(self._call("GET", f"/v1/videos/{video_id}/video/link"))

    def revise(self, video_id: str, section_id: str, note: str) -> RevisionView:
        """Queue a person's note on one section of a finished video; the service runs it."""
        body = {"note": note}  # the service validates (422 with one line)
        path = f"/v1/videos/{video_id}/sections/{section_id}/revise"
        return RevisionView.model_validate(self._call("POST", path, json=body))

    def revisions(self, video_id: str) -> list[RevisionView]:
        """The video's revisions, oldest first."""
        return [RevisionView.model_validate(r) for r in self._call("GET", f"/v1/videos/{video_id}/revisions")]

    def wait_revision(
        self,
        video_id: str,
        revision_id: int,
        on_event: Callable[[EventView], None] | None = None,
        timeout_s: float = 3600,
    ) -> RevisionView:
        """Follow the video's events until the revision ends; returns it as the service recorded it."""

        def ended(event: EventView) -> bool:
            return event.kind is EventKind.revision and event.revision_id == revision_id and event.done

        def check() -> RevisionView | None:
            found = next((r for r in self.revisions(video_id) if r.id == revision_id), None)
            if found is None:
                raise ServiceError(f"video {video_id} has no revision {revision_id}", status=404)
            return found if found.status.is_terminal() else None

        return self._until(video_id, ended, check, on_event, timeout_s, f"revision {revision_id}")

    # -- plumbing -------------------------------------------------------------------------
    def _until(
        self,
        video_id: str,
        ended: Callable[[EventView], bool],
        check: Callable[[], T | None],
        on_event: Callable[[EventView], None] | None,
        timeout_s: float,
        what: str,
    ) -> T:
        """Follow events until ``ended`` says so and ``check`` confirms; reconnects when cut off."""
        deadline = time.monotonic() + timeout_s
        last = 0

        def seen(event: EventView) -> bool:
            nonlocal last
            last = event.id
            if on_event is not None:
                on_event(event)
            return ended(event)

        while time.monotonic() < deadline:
            try:
                self._follow(video_id, last, seen)
            except httpx.TransportError:
                time.sleep(1.0)
            found = check()
            if found is not None:
                return found
        raise ServiceError(f"{what} did not finish within {timeout_s:.0f} s", status=0)

    def _follow(self, video_id: str, after: int, seen: Callable[[EventView], bool | None]) -> None:
        """Call ``seen`` with each event; stop when it returns True or at the video's final status."""
        headers = {"Last-Event-ID": str(after)} if after else {}
        path = f"/v1/videos/{video_id}/events"
        with connect_sse(self._http, "GET", path, headers=headers, timeout=None) as source:
            if source.response.status_code >= 400:
                source.response.read()
                raise _error(source.response)
            for sse in source.iter_sse():
                if sse.event in {k.value for k in EventKind}:
                    event = EventView.model_validate_json(sse.data)
                    if seen(event):
                        return

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            answer = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServiceError(f"{method} {path}: the service did not answer ({type(exc).__name__})") from exc
        if answer.status_code >= 400:
            raise _error(answer)
        return answer.json()


def _error(answer: httpx.Response) -> ServiceError:
    try:
        detail = answer.json().get("detail", "")
    except ValueError:
        detail = answer.text[:200]
    where = f"{answer.request.method} {answer.request.url.path}"
    return ServiceError(f"{where}: HTTP {answer.status_code}: {detail}", status=answer.status_code)
