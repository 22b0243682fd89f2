"""S3 operator knobs: a validated model, read from ``C2V_S3_*`` environment variables once.

Kept apart from ``s3.py`` so reading (and validating) them does not import boto3.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum

from pydantic import Field, ValidationError

from c2v.errors import ConfigError, first_error
from c2v.models import Strict

MIB = 1024 * 1024
MAX_PRESIGN_S = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live

#: environment variable -> (field, multiplier for numbers given in MiB)
ENV_VARS: dict[str, tuple[str, int]] = {
    "C2V_S3_MULTIPART_THRESHOLD_MB": ("multipart_threshold", MIB),
    "C2V_S3_MULTIPART_CHUNK_MB": ("multipart_chunksize", MIB),
    "C2V_S3_MAX_CONCURRENCY": ("max_concurrency", 1),
    "C2V_S3_PRESIGN_EXPIRES_S": ("presign_expires_s", 1),
    "C2V_S3_MAX_ATTEMPTS": ("max_attempts", 1),
    "C2V_S3_UPLOAD_ATTEMPTS": ("upload_attempts", 1),
    "C2V_S3_CHECKSUM": ("checksum", 0),
    "C2V_S3_VERIFY_ETAG": ("verify_etag", 0),
    "C2V_S3_ADDRESSING_STYLE": ("addressing_style", 0),
}


class ChecksumMode(StrEnum):
    sha256 = "sha256"
    off = "off"


class AddressingStyle(StrEnum):
    """How bucket names reach the server (botocore's ``addressing_style``)."""

    auto = "auto"
    path = "path"
    virtual = "virtual"


class S3Options(Strict):
    #: Files this large or larger go up as multipart uploads (parts in parallel, resumable per part).
    multipart_threshold: int = Field(default=64 * MIB, gt=0)
    #: Part size; S3 needs at least 5 MiB per part (s3transfer raises smaller values to that).
    multipart_chunksize: int = Field(default=16 * MIB, ge=5 * MIB, le=5 * 1024 * MIB)
    max_concurrency: int = Field(default=4, ge=1, le=64)
    presign_expires_s: int = Field(default=MAX_PRESIGN_S, ge=1, le=MAX_PRESIGN_S)
    #: Attempts per HTTP request (botocore "standard" retries: 5xx, throttling, connection errors).
    max_attempts: int = Field(default=5, ge=1, le=20)
    #: Attempts per object (a failed multipart upload or a failed verification starts over).
    upload_attempts: int = Field(default=3, ge=1, le=10)
    backoff_s: float = Field(default=1.0, ge=0, le=60)
    #: ``sha256``: send x-amz-checksum-sha256 so the server rejects bytes damaged on the wire;
    #: ``off`` for old S3-compatible servers that reject checksum headers.
    checksum: ChecksumMode = ChecksumMode.sha256
    #: Compare the ETag with the local MD5 too (skipped for KMS or customer-key encryption).
    verify_etag: bool = True
    #: None: "path" for a custom endpoint (MinIO, Ceph, moto), boto3's "auto" for AWS.
    addressing_style: AddressingStyle | None = None
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=60.0, gt=0)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> S3Options:
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        for var, (field, scale) in ENV_VARS.items():
            raw = source.get(var, "").strip()
            if not raw:
                continue
            if scale == 0:
                values[field] = raw.lower()
                continue
            try:
                values[field] = round(float(raw) * scale)
            except ValueError:
                raise ConfigError(f"{var}={raw!r} is not a number") from None
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = first_error(exc)
            field = first.where.split(".")[0] or "?"
            var = next((v for v, (f, _) in ENV_VARS.items() if f == field), field)
            raise ConfigError(f"{var}: {first.msg}") from exc
