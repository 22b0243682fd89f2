"""Digests of one file in one pass: what the manifest records and what S3 reports back.

S3 describes a multipart object by its parts: its ``ChecksumSHA256`` is the SHA-256 of the
parts' SHA-256 digests ("composite", reported with a ``-N`` suffix) and its ETag is the MD5
of the parts' MD5 digests plus ``-N``. Verifying such an object needs the part size the
upload used, so the part size is an input here rather than something guessed afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class FileDigest:
    size: int
    sha256: str  # hex, of the whole file: what the published manifest records
    sha256_b64: str  # base64, as S3 reports ChecksumSHA256 of a single-part object
    md5: str  # hex: a single-part object's ETag (when the server does not encrypt with KMS/SSE-C)
    part_size: int | None = None  # None: uploaded in one request
    parts: int = 1
    composite_sha256_b64: str | None = None  # a multipart object's ChecksumSHA256, without "-N"
    multipart_etag: str | None = None  # "<md5 of the part md5s>-N"


def digest_file(path: Path, part_size: int | None = None) -> FileDigest:
    with path.open("rb") as stream:
        return digest_stream(stream, part_size)


def digest_bytes(data: bytes, part_size: int | None = None) -> FileDigest:
    return digest_stream(io.BytesIO(data), part_size)


def digest_stream(stream: BinaryIO, part_size: int | None = None) -> FileDigest:
    if part_size is not None and part_size <= 0:
        raise ValueError(f"part size must be positive, got {part_size}")
    whole_sha, whole_md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    part_shas: list[bytes] = []
    part_md5s: list[bytes] = []
    size = 0
    while True:
        part_sha, part_md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        part_len = 0
        limit = part_size
        while limit is None or part_len < limit:
            want = _BLOCK if limit is None else min(_BLOCK, limit - part_len)
            block = stream.read(want)
            if not block:
                break
            whole_sha.update(block)
            whole_md5.update(block)
            part_sha.update(block)
            part_md5.update(block)
            part_len += len(block)
        size += part_len
        if part_len == 0 and part_shas:
            break
        part_shas.append(part_sha.digest())
        part_md5s.append(part_md5.digest())
        if limit is None or part_len < limit:
            break
    sha = whole_sha.digest()
    digest = FileDigest(
        size=size,
        sha256=sha.hex(),
        sha256_b64=base64.b64encode(sha).decode("ascii"),
        md5=whole_md5.hexdigest(),
    )
    if part_size is None:
        return digest
    composite = hashlib.sha256(b"".join(part_shas)).digest()
    etag = hashlib.md5(b"".join(part_md5s), usedforsecurity=False).hexdigest()
    return FileDigest(
        size=digest.size,
        sha256=digest.sha256,
        sha256_b64=digest.sha256_b64,
        md5=digest.md5,
        part_size=part_size,
        parts=len(part_shas),
        composite_sha256_b64=base64.b64encode(composite).decode("ascii"),
        multipart_etag=f"{etag}-{len(part_shas)}",
    )
