"""Publishing to S3, or any S3-compatible endpoint (MinIO, Ceph, moto), through boto3.

Order of a publish, so that a reader never takes an unfinished case for a finished one:

1. remove the previous ``manifest.json`` under ``<prefix>/<batch>/<slug>/`` (if any);
2. upload every other file, each verified with ``head_object`` (size, sha256 metadata, the
   server's SHA-256 checksum, full or composite, and the MD5 ETag where it is one); a
   failure or a mismatch uploads that object again, a bounded number of times;
3. upload ``manifest.json`` last, naming only the objects of step 2, with presigned links.

Credentials come from boto3's own chain (environment, ``~/.aws``, instance roles) and
never reach a log line, an exception message or the manifest. The endpoint comes from
``--s3-endpoint-url`` or boto3's own ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import structlog
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotoConnectionError
from s3transfer.utils import ChunksizeAdjuster

from c2v.core.fsio import write_model_atomic
from c2v.errors import ConfigError, StorageError
from c2v.models import Publication, PublishedObject
from c2v.storage.base import (
    MANIFEST,
    PublishedCase,
    check_component,
    content_type,
    forget_publication,
    manifest_bytes,
    now_utc,
    plan_case,
    published_manifest,
    published_video,
)
from c2v.storage.checksums import FileDigest, digest_bytes, digest_file
from c2v.storage.options import AddressingStyle, ChecksumMode, S3Options

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = structlog.get_logger("c2v.storage")

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_USERINFO = re.compile(r"(\w+://)[^/@\s]+@")  # user:password@ in a URL
_MD5_ETAG = re.compile(r"^[0-9a-f]{32}(-[0-9]+)?$")
_TRANSIENT_CODES = {
    "BadDigest",  # the body was damaged on the wire: sending it again is the cure
    "InternalError",
    "RequestTimeout",
    "RequestTimeoutException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "XAmzContentSHA256Mismatch",
}


class _Mismatch(Exception):
    """The uploaded object is not the local file (caught here; uploaded again)."""


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/optional/prefix`` -> (bucket, prefix without slashes at either end)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "s3" or parts.query or parts.fragment:
        raise ConfigError("S3 storage URL must look like s3://bucket/optional/prefix")
    bucket = parts.netloc
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ConfigError(
            f"S3 bucket name {bucket!r} is not valid: 3-63 lowercase letters, digits, '.', '-' "
            "(write s3://bucket/prefix)"
        )
    prefix = parts.path.strip("/")
    segments = prefix.split("/") if prefix else []
    for segment in segments:
        if segment in {"", ".", ".."} or any(ord(ch) < 32 or ord(ch) == 127 for ch in segment):
            raise ConfigError(f"S3 prefix {prefix!r} has an empty, '.' or '..' part, or a control character")
    return bucket, prefix


def _safe_endpoint(url: str) -> str:
    """An endpoint for display: no user:password, no query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes: boto3 wraps a ClientError in S3UploadFailedError implicitly."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_transient(exc: BaseException) -> bool:
    """Worth uploading again: connection trouble, 5xx, throttling, a body damaged on the wire."""
    for err in _chain(exc):
        if isinstance(err, ClientError):
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = err.response.get("Error", {}).get("Code", "")
            return status >= 500 or status == 429 or code in _TRANSIENT_CODES
        if isinstance(err, HTTPClientError | BotoConnectionError):
            return True
    return False


class S3Storage:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        options: S3Options | None = None,
    ) -> None:
        self.bucket, self.prefix = bucket, prefix
        self.options = options or S3Options()
        self._session = boto3.session.Session()
        self._client = self._make_client(endpoint_url)
        self._endpoint = _safe_endpoint(self._client.meta.endpoint_url)
        self._transfer = TransferConfig(
            multipart_threshold=self.options.multipart_threshold,
            multipart_chunksize=self.options.multipart_chunksize,
            max_concurrency=self.options.max_concurrency,
            preferred_transfer_client="classic",  # the part size the verification assumes
        )

    @classmethod
    def from_url(
        cls, url: str, endpoint_url: str | None = None, options: S3Options | None = None
    ) -> S3Storage:
        bucket, prefix = parse_s3_url(url)
        return cls(bucket, prefix, endpoint_url or None, options)

    def _make_client(self, endpoint_url: str | None) -> S3Client:
        if endpoint_url is not None:
            parts = urlsplit(endpoint_url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ConfigError("S3 endpoint URL must look like http(s)://host[:port]")
            if parts.username is not None or parts.password is not None:
                raise ConfigError(
                    "S3 endpoint URL must not carry credentials: use AWS_ACCESS_KEY_ID / "
                    "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws instead"
                )
        style = self.options.addressing_style
        client = self._client_with(endpoint_url, style or AddressingStyle.auto)
        if style is None and not _is_aws(client.meta.endpoint_url):
            # MinIO, Ceph and moto serve buckets as paths; virtual hosts need DNS they lack.
            client = self._client_with(endpoint_url, AddressingStyle.path)
        return client

    def _client_with(self, endpoint_url: str | None, style: AddressingStyle) -> S3Client:
        config = Config(
            signature_version="s3v4",  # presigned URLs need SigV4
            # Only checksums we ask for: non-AWS endpoints reject the default CRC trailers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"total_max_attempts": self.options.max_attempts, "mode": "standard"},
            connect_timeout=self.options.connect_timeout_s,
            read_timeout=self.options.read_timeout_s,
            s3={"addressing_style": style.value},
            user_agent_extra="c2v",
        )
        try:
            return self._session.client("s3", endpoint_url=endpoint_url, config=config)
        except (ValueError, BotoCoreError) as exc:
            raise ConfigError(
                f"cannot use S3 endpoint: {type(exc).__name__}: {self._redact(str(exc))}"
            ) from exc

    # -- public -------------------------------------------------------------------------------
    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        return f"{where} (endpoint {self._endpoint})"

    def publish_case(self, case_root: Path, batch: str, slug: str) -> PublishedCase:
        batch, slug = check_component(batch, "batch"), check_component(slug, "slug")
        plan = plan_case(case_root)
        base = "/".join(part for part in (self.prefix, batch, slug) if part)
        manifest_key = f"{base}/{MANIFEST}"
        self._unpublish(manifest_key)
        forget_publication(plan, f"s3://{self.bucket}/{base}")
        uploaded: list[PublishedObject] = []
        for f in plan.files:
            key = f"{base}/{f.name}"
            digest = self._upload(key, f.source, f.content_type)
            uploaded.append(PublishedObject(name=f.name, key=key, size=digest.size, sha256=digest.sha256))
        expires_at = now_utc() + timedelta(seconds=self.options.presign_expires_s)
        objects = [o.model_copy(update={"url": self.link(o.key)}) for o in uploaded]
        video = published_video(objects)
        publication = Publication(
            storage=self.describe(),
            batch=batch,
            slug=slug,
            location=f"s3://{self.bucket}/{base}",
            manifest_key=manifest_key,
            manifest_url=self.link(manifest_key),
            video_url=video.url if video else None,
            objects=objects,
            published_at=now_utc().isoformat(),
            url_expires_at=expires_at.isoformat(),
        )
        manifest = published_manifest(plan, publication)
        self._upload(manifest_key, manifest_bytes(manifest), content_type(MANIFEST))  # last
        try:
            write_model_atomic(plan.manifest_path, manifest)
        except OSError as exc:
            raise StorageError(
                f"published {publication.location} but cannot update {plan.manifest_path}: {exc.strerror}"
            ) from exc
        log.info(
            "case published", location=publication.location, objects=len(objects), endpoint=self._endpoint
        )
        return PublishedCase(**publication.model_dump(), copied=True)

    # -- steps --------------------------------------------------------------------------------
    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _unpublish(self, manifest_key: str) -> None:
        """Remove an earlier manifest before replacing the objects it names."""
        try:
            self._client.head_object(Bucket=self.bucket, Key=manifest_key)
        except ClientError as exc:
            # 403: absent, for a publisher without s3:ListBucket (one without s3:GetObject
            # cannot verify its uploads either, and fails at the first one)
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in {403, 404}:
                return
            raise self._error(f"cannot check {self._uri(manifest_key)}", exc) from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise self._error(f"cannot check {self._uri(manifest_key)}", exc) from exc
        try:
            self._client.delete_object(Bucket=self.bucket, Key=manifest_key)
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise self._error(f"cannot remove the previous {self._uri(manifest_key)}", exc) from exc

    def part_size(self, size: int) -> int | None:
        """The part size s3transfer will use for an object of ``size`` bytes (None: one PUT)."""
        if size < self.options.multipart_threshold:
            return None
        return ChunksizeAdjuster().adjust_chunksize(self.options.multipart_chunksize, size)

    def _upload(self, key: str, source: Path | bytes, content_type: str) -> FileDigest:
        """Upload and verify one object, starting over on transient failures and mismatches."""
        label = str(source) if isinstance(source, Path) else key
        try:
            size = source.stat().st_size if isinstance(source, Path) else len(source)
            part_size = self.part_size(size)
            if isinstance(source, Path):
                digest = digest_file(source, part_size)
            else:
                digest = digest_bytes(source, part_size)
        except OSError as exc:
            raise StorageError(f"cannot read {label}: {exc.strerror}") from exc
        extra: dict[str, Any] = {"ContentType": content_type, "Metadata": {"sha256": digest.sha256}}
        if self.options.checksum is ChecksumMode.sha256:
            extra["ChecksumAlgorithm"] = "SHA256"
        attempts = self.options.upload_attempts
        reason = ""  # the last failure, for the final error
        cause: BaseException | None = None
        for attempt in range(1, attempts + 1):
            try:
                if isinstance(source, Path):
                    self._client.upload_file(
                        str(source), self.bucket, key, ExtraArgs=extra, Config=self._transfer
                    )
                else:
                    self._client.upload_fileobj(
                        io.BytesIO(source), self.bucket, key, ExtraArgs=extra, Config=self._transfer
                    )
                self._verify(key, digest)
            except _Mismatch as exc:
                cause, reason = exc, f"verification failed: {exc}"
            except (ClientError, BotoCoreError, Boto3Error) as exc:
                if not is_transient(exc):
                    raise self._error(f"upload of {self._uri(key)} failed", exc) from exc
                cause, reason = exc, self._explain(exc)
            except OSError as exc:
                raise StorageError(f"cannot read {label}: {exc.strerror}") from exc
            else:
                log.debug("s3 object verified", key=key, size=digest.size, parts=digest.parts)
                return digest
            if attempt < attempts:
                delay = self.options.backoff_s * 2 ** (attempt - 1)
                log.warning("s3 upload retry", key=key, attempt=attempt, reason=reason, delay_s=delay)
                time.sleep(delay)
        raise StorageError(
            f"upload of {self._uri(key)} failed after {attempts} attempts: {reason}"
        ) from cause

    def _verify(self, key: str, digest: FileDigest) -> None:
        head = self._client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        problems: list[str] = []
        if head.get("ContentLength") != digest.size:
            problems.append(f"size {head.get('ContentLength')} != {digest.size}")
        if head.get("Metadata", {}).get("sha256") != digest.sha256:
            problems.append("sha256 metadata differs")
        checksum = head.get("ChecksumSHA256")
        if checksum:
            # "<base64>" for one PUT; "<base64>-N" (composite of the parts) for multipart
            value = checksum.split("-", 1)[0]
            if value not in {digest.sha256_b64, digest.composite_sha256_b64}:
                problems.append("ChecksumSHA256 differs")
        etag = head.get("ETag", "").strip('"')
        encrypted = head.get("SSECustomerAlgorithm") or str(head.get("ServerSideEncryption", "")).startswith(
            "aws:kms"
        )
        if self.options.verify_etag and not encrypted and _MD5_ETAG.match(etag):
            expected = digest.multipart_etag if "-" in etag else digest.md5
            if etag != expected:
                problems.append("ETag (MD5) differs")
        if problems:
            raise _Mismatch(", ".join(problems))

    def link(self, key: str) -> str:
        """A presigned GET of ``key``, valid for ``presign_expires_s`` from now."""
        try:
            return self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=self.options.presign_expires_s,
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(f"cannot sign a link to {self._uri(key)}", exc) from exc

    # -- errors -------------------------------------------------------------------------------
    def _error(self, what: str, exc: BaseException) -> StorageError:
        return StorageError(f"{what}: {self._explain(exc)}")

    def _explain(self, exc: BaseException) -> str:
        """One line naming the S3 error code and HTTP status; never a credential."""
        root = next(
            (e for e in _chain(exc) if isinstance(e, ClientError | BotoCoreError)),
            exc,
        )
        if isinstance(root, ClientError):
            error = root.response.get("Error", {})
            code = error.get("Code", "unknown")
            status = root.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            message = error.get("Message", "")
            text = f"{code} (HTTP {status})" + (f": {message}" if message and message != code else "")
        elif isinstance(root, NoCredentialsError):
            text = "no AWS credentials found (environment, AWS_PROFILE / ~/.aws, or an instance role)"
        else:
            text = f"{type(root).__name__}: {root}"
        return self._redact(text)

    def _redact(self, text: str) -> str:
        secrets: list[str] = []
        try:
            credentials = self._session.get_credentials()
            if credentials is not None:
                frozen = credentials.get_frozen_credentials()
                secrets = [s for s in (frozen.secret_key, frozen.token, frozen.access_key) if s]
        except Exception:  # noqa: S110 -- a failing credential lookup must not hide the real error
            pass
        for secret in secrets:
            text = text.replace(secret, "***")
        text = _USERINFO.sub(r"\1", text)
        text = " ".join(text.split())
        return text if len(text) <= 300 else text[:297] + "..."


def _is_aws(endpoint: str) -> bool:
    host = urlsplit(endpoint).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))
