"""Publishing finished cases: the case folder itself, a copy in another folder, or S3.

::

    from c2v.storage import open_storage

    storage = open_storage("s3://bucket/prefix", endpoint_url="http://127.0.0.1:9000")
    published = storage.publish_case(case_root, batch="2026-11-22", slug="eulers-formula")
    published.video_url, published.manifest_url

Every backend writes ``manifest.json`` last, naming only files that are complete (and, on
S3, verified), and records the publication in the case's own manifest for ``c2v status``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from c2v.errors import ConfigError
from c2v.storage.base import PublishedCase, Storage
from c2v.storage.local import DirectoryStorage, LocalDefault
from c2v.storage.options import S3Options

__all__ = ["DirectoryStorage", "LocalDefault", "PublishedCase", "S3Options", "Storage", "open_storage"]

_FORMS = "leave it unset, or use a folder path, file:///abs/dir or s3://bucket/prefix"


def open_storage(
    url: str | None, endpoint_url: str | None = None, *, s3_options: S3Options | None = None
) -> Storage:
    """The storage a ``--storage`` value names; ``None`` or ``""``: the case folder itself.

    ``endpoint_url`` (``--s3-endpoint-url``) only goes with ``s3://``; without it boto3's own
    ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` apply. S3 knobs not given in
    ``s3_options`` come from ``C2V_S3_*`` environment variables.
    """
    url = (url or "").strip()
    endpoint_url = (endpoint_url or "").strip() or None
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if endpoint_url and scheme != "s3":
        raise ConfigError("an S3 endpoint URL was given, but the storage is not s3://bucket/prefix")
    if not url:
        return LocalDefault()
    if scheme == "s3":
        from c2v.storage.s3 import S3Storage  # noqa: PLC0415 -- boto3 loads only for S3 storage

        return S3Storage.from_url(url, endpoint_url, s3_options or S3Options.from_env())
    if scheme == "file":
        parts = urlsplit(url)
        bad = parts.netloc not in {"", "localhost"} or parts.query or parts.fragment
        if bad or not parts.path.startswith("/"):
            raise ConfigError(f"file storage URL must be file:///absolute/dir; {_FORMS}")
        return DirectoryStorage(Path(unquote(parts.path)))
    if scheme:
        raise ConfigError(f"storage URL scheme {scheme!r} is not supported: {_FORMS}")
    return DirectoryStorage(Path(url).expanduser().resolve())
