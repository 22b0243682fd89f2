"""Where a batch's finished cases go (``--storage``): a local folder or S3, one case at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Publisher(Protocol):
    """Where finished cases go (``--storage``): returns a link to the published video."""

    @property
    def url(self) -> str: ...

    def publish(self, case_root: Path, slug: str) -> str | None: ...


class StoragePublisher:
    """:class:`Publisher` over :func:`c2v.storage.open_storage` (local folder or S3)."""

    def __init__(self, url: str, endpoint_url: str | None, batch_id: str) -> None:
        from c2v.storage import open_storage  # noqa: PLC0415 - boto3 loads only when publishing

        self._url = url
        self._batch = batch_id
        self._storage = open_storage(url, endpoint_url)

    @property
    def url(self) -> str:
        return self._url

    def publish(self, case_root: Path, slug: str) -> str | None:
        published = self._storage.publish_case(case_root, batch=self._batch, slug=slug)
        link: str | None = published.video_url or published.location
        return link
