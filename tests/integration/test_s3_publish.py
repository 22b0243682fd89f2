"""Publishing to S3 against moto's real HTTP server, with a fault-injecting proxy on the wire."""

import base64
import hashlib
import http.client
import io
import itertools
import os
import threading
import traceback
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import av
import boto3
import pytest
from botocore.config import Config

from c2v.errors import ConfigError, StorageError
from c2v.models import Manifest
from c2v.storage import S3Options, open_storage
from c2v.storage.checksums import digest_bytes
from tests.cluster.localcluster import free_port
from tests.storage_fakes import FAKE_AWS, make_case, moto_server, published_names, tiny_mp4

ACCESS_KEY = FAKE_AWS["AWS_ACCESS_KEY_ID"]
SECRET_KEY = FAKE_AWS["AWS_SECRET_ACCESS_KEY"]
MIB = 1024 * 1024
_buckets = itertools.count()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    """Fake credentials through the environment, and nothing from this machine's ~/.aws."""
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(var, raising=False)
    for var in [v for v in os.environ if v.startswith("C2V_S3_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def admin(moto_url):
    """A plain boto3 client straight to moto, to look at what a publish left in the bucket."""
    return boto3.client(
        "s3",
        endpoint_url=moto_url,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.fixture
def bucket(admin) -> str:
    name = f"c2v-test-{os.getpid()}-{next(_buckets)}"
    admin.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def mp4() -> bytes:
    return tiny_mp4(frames=12)


@pytest.fixture
def case(tmp_path, mp4) -> Path:
    return make_case(
        tmp_path / "out" / "c2v" / "eulers-formula",
        mp4,
        {"1": tiny_mp4(frames=4, shade=40), "2": tiny_mp4(frames=5, shade=90)},
    )


def keys(admin, bucket: str) -> set[str]:
    return {o["Key"] for o in admin.list_objects_v2(Bucket=bucket).get("Contents", [])}


def body(admin, bucket: str, key: str) -> bytes:
    return admin.get_object(Bucket=bucket, Key=key)["Body"].read()


def fast(**kw) -> S3Options:
    return S3Options(backoff_s=0.0, **kw)


# --- the fault-injecting proxy ---------------------------------------------------------------
Rule = Callable[[str, str, int], str]  # (method, path with query, nth such request) -> action

_UNAVAILABLE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code>'
    b"<Message>Please try again.</Message></Error>"
)

_LEAKY = (  # a (hypothetical) chatty server that echoes the credentials it was sent
    f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidAccessKeyId</Code>'
    f"<Message>Key {ACCESS_KEY} with secret {SECRET_KEY}\nis not known here.</Message></Error>"
).encode()


class FaultyProxy:
    """Sits between boto3 and moto; answers 503, drops the connection or flips a byte on cue.

    (A 503 ServiceUnavailable rather than SlowDown: botocore backs off 50 ms instead of 1 s.)
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.rule: Rule = lambda method, path, nth: "forward"
        self.seen: list[tuple[str, str, str]] = []  # (method, path, action)
        self.headers: list[dict[str, str]] = []  # the request headers, in the order of seen
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy.handle(self)

            do_PUT = do_POST = do_HEAD = do_DELETE = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def puts(self, key_suffix: str) -> list[str]:
        """Actions taken on PUTs of one object (single PUTs and multipart parts)."""
        return [a for m, p, a in self.seen if m == "PUT" and p.split("?")[0].endswith(key_suffix)]

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        assert "chunked" not in req.headers.get("Transfer-Encoding", "")
        length = int(req.headers.get("Content-Length") or 0)
        data = req.rfile.read(length) if length else b""
        with self._lock:
            nth = self._counts[(req.command, req.path)]
            self._counts[(req.command, req.path)] += 1
            action = self.rule(req.command, req.path, nth)
            self.seen.append((req.command, req.path, action))
            self.headers.append({k.lower(): v for k, v in req.headers.items()})
        req.close_connection = True
        if action == "drop":
            return  # close the socket without an answer
        if action in {"503", "leak403"}:
            status, payload = (503, _UNAVAILABLE) if action == "503" else (403, _LEAKY)
            req.send_response(status)
            req.send_header("Content-Type", "application/xml")
            req.send_header("Content-Length", str(len(payload)))
            req.send_header("Connection", "close")
            req.end_headers()
            req.wfile.write(payload)
            return
        if action == "corrupt" and data:
            flipped = bytearray(data)
            flipped[len(flipped) // 2] ^= 0xFF
            data = bytes(flipped)
        skip = {"connection", "expect", "keep-alive", "proxy-connection", "transfer-encoding"}
        headers = {k: v for k, v in req.headers.items() if k.lower() not in skip}
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            conn.request(req.command, req.path, body=data or None, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            req.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in {"connection", "transfer-encoding", "keep-alive", "server", "date"}:
                    req.send_header(k, v)
            if resp.getheader("Content-Length") is None:
                req.send_header("Content-Length", str(len(payload)))
            req.send_header("Connection", "close")
            req.end_headers()
            if req.command != "HEAD":
                req.wfile.write(payload)
        finally:
            conn.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(moto_url) -> Iterator[FaultyProxy]:
    p = FaultyProxy(moto_url)
    yield p
    p.close()


def assert_no_secret(text: str) -> None:
    assert SECRET_KEY not in text
    assert SECRET_KEY[:12] not in text


# --- tests -----------------------------------------------------------------------------------
def test_publish_layout_manifest_and_presigned_links(case, bucket, admin, moto_url, mp4):
    storage = open_storage(f"s3://{bucket}/videos/2026", endpoint_url=moto_url)
    assert storage.describe() == f"s3://{bucket}/videos/2026 (endpoint {moto_url})"

    published = storage.publish_case(case, "batch-7", "eulers-formula")

    base = "videos/2026/batch-7/eulers-formula"
    names = published_names(["1", "2"])
    assert keys(admin, bucket) == {f"{base}/{n}" for n in names} | {f"{base}/manifest.json"}
    assert published.copied
    assert published.location == f"s3://{bucket}/{base}"
    assert published.manifest_key == f"{base}/manifest.json"

    # the uploaded manifest names every other object, each complete: size and sha256 match
    raw_manifest = body(admin, bucket, f"{base}/manifest.json")
    remote = Manifest.model_validate_json(raw_manifest)
    assert remote.published is not None
    assert remote.published == published.publication()
    assert {o.name for o in remote.published.objects} == names
    for obj in remote.published.objects:
        data = body(admin, bucket, obj.key)
        assert obj.key == f"{base}/{obj.name}"
        assert (obj.size, obj.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        head = admin.head_object(Bucket=bucket, Key=obj.key)
        assert head["Metadata"]["sha256"] == obj.sha256
    assert body(admin, bucket, f"{base}/video.mp4") == mp4
    assert (
        body(admin, bucket, f"{base}/sections/2/video.mp4") == (case / "renders/key1/video.mp4").read_bytes()
    )
    assert admin.head_object(Bucket=bucket, Key=f"{base}/video.mp4")["ContentType"] == "video/mp4"

    # presigned SigV4 links download the right bytes with a plain HTTP GET, no credentials
    assert published.video_url is not None
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in published.video_url
    assert "X-Amz-Expires=604800" in published.video_url
    with urllib.request.urlopen(published.video_url, timeout=10) as resp:
        downloaded = resp.read()
    assert downloaded == mp4
    with av.open(io.BytesIO(downloaded), format="mp4") as container:
        assert container.streams.video[0].codec_context.width == 64
    section_two = next(o for o in published.objects if o.name == "sections/2/final.py")
    with urllib.request.urlopen(section_two.url, timeout=10) as resp:
        assert resp.read() == (case / "sections/2/final.py").read_bytes()
    with urllib.request.urlopen(published.manifest_url, timeout=10) as resp:
        assert resp.read() == raw_manifest
    expires = datetime.fromisoformat(published.url_expires_at)
    assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)

    # the case folder records the publication, for `c2v status`; no secret anywhere
    local = Manifest.model_validate_json((case / "manifest.json").read_text())
    assert local.published == published.publication()
    assert_no_secret(raw_manifest.decode())
    assert_no_secret((case / "manifest.json").read_text())
    assert_no_secret(storage.describe())


def test_multipart_upload_is_verified_part_by_part(tmp_path, bucket, admin, proxy):
    big = os.urandom(6 * MIB + 1234)
    case = make_case(tmp_path / "case", big, {"1": b"a small section"})
    storage = open_storage(
        f"s3://{bucket}", proxy.url, s3_options=fast(multipart_threshold=1 * MIB, multipart_chunksize=5 * MIB)
    )

    published = storage.publish_case(case, "b", "big")

    # a real multipart upload went over the wire: create, two parts, complete
    assert proxy.puts("b/big/video.mp4") == ["forward", "forward"]
    part_puts = [p for m, p, _ in proxy.seen if m == "PUT" and "partNumber=" in p]
    assert len(part_puts) == 2
    assert any(m == "POST" and p.endswith("big/video.mp4?uploads") for m, p, _ in proxy.seen)
    assert any(m == "POST" and "uploadId=" in p for m, p, _ in proxy.seen)
    # small files still go up in one PUT
    assert proxy.puts("b/big/outline.json") == ["forward"]

    head = admin.head_object(Bucket=bucket, Key="b/big/video.mp4", ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-2")
    expected = digest_bytes(big, 5 * MIB)
    assert head["ETag"].strip('"') == expected.multipart_etag
    assert head["ChecksumSHA256"].split("-")[0] == expected.composite_sha256_b64
    assert body(admin, bucket, "b/big/video.mp4") == big
    video = next(o for o in published.objects if o.name == "video.mp4")
    assert (video.size, video.sha256) == (len(big), hashlib.sha256(big).hexdigest())


@pytest.mark.parametrize("fault", ["503", "drop"])
def test_failed_put_is_retried_on_the_wire(case, bucket, admin, proxy, fault):
    target = "sections/1/video.mp4"
    # botocore tries each request twice; the third failure makes c2v upload the object again
    proxy.rule = lambda method, path, nth: (
        fault if method == "PUT" and target in path and nth < 3 else "forward"
    )
    storage = open_storage(f"s3://{bucket}/p", proxy.url, s3_options=fast(max_attempts=2, upload_attempts=3))

    published = storage.publish_case(case, "b", "s")

    assert proxy.puts(target) == [fault, fault, fault, "forward"]
    # the manifest went up once, after every other object was uploaded and checked
    requests = [(m, p.split("?")[0]) for m, p, _ in proxy.seen]
    manifest_at = requests.index(("PUT", f"/{bucket}/p/b/s/manifest.json"))
    assert [r for r in requests if r[1].endswith("manifest.json") and r[0] == "PUT"] == [
        requests[manifest_at]
    ]
    others = published_names(["1", "2"])
    assert {p.removeprefix(f"/{bucket}/p/b/s/") for m, p in requests[:manifest_at] if m == "HEAD"} >= others
    assert body(admin, bucket, f"p/b/s/{target}") == (case / "renders/key0/video.mp4").read_bytes()
    assert "p/b/s/manifest.json" in keys(admin, bucket)
    assert {o.name for o in published.objects} == published_names(["1", "2"])


@pytest.mark.parametrize("checksum", ["sha256", "off"])
def test_corrupted_upload_is_detected(case, bucket, admin, proxy, checksum):
    proxy.rule = lambda method, path, nth: (
        "corrupt" if method == "PUT" and "s/video.mp4" in path else "forward"
    )
    storage = open_storage(f"s3://{bucket}", proxy.url, s3_options=fast(upload_attempts=2, checksum=checksum))

    with pytest.raises(StorageError, match="verification failed") as info:
        storage.publish_case(case, "b", "s")

    message = str(info.value)
    assert "s3://" in message and "b/s/video.mp4" in message and "after 2 attempts" in message
    assert proxy.puts("b/s/video.mp4") == ["corrupt", "corrupt"]
    assert "b/s/manifest.json" not in keys(admin, bucket)
    assert Manifest.model_validate_json((case / "manifest.json").read_text()).published is None
    assert_no_secret("".join(traceback.format_exception(info.value)))


def test_corruption_once_is_uploaded_again(case, bucket, admin, proxy, mp4):
    proxy.rule = lambda method, path, nth: (
        "corrupt" if method == "PUT" and path.endswith("s/video.mp4") and nth == 0 else "forward"
    )
    storage = open_storage(f"s3://{bucket}", proxy.url, s3_options=fast())

    storage.publish_case(case, "b", "s")

    assert proxy.puts("b/s/video.mp4") == ["corrupt", "forward"]
    assert body(admin, bucket, "b/s/video.mp4") == mp4


def test_permanent_failure_leaves_no_manifest(case, bucket, admin, proxy, moto_url):
    # an earlier publish is complete ...
    open_storage(f"s3://{bucket}", moto_url).publish_case(case, "b", "s")
    assert "b/s/manifest.json" in keys(admin, bucket)
    (case / "renders/key1/video.mp4").write_bytes(b"a new render of section 2")

    # ... then a republish fails for good half-way: no manifest may survive, old or new
    proxy.rule = lambda method, path, nth: (
        "503" if method == "PUT" and "sections/2/video.mp4" in path else "forward"
    )
    storage = open_storage(f"s3://{bucket}", proxy.url, s3_options=fast(max_attempts=2, upload_attempts=2))
    with pytest.raises(StorageError) as info:
        storage.publish_case(case, "b", "s")

    message = str(info.value)
    assert "ServiceUnavailable (HTTP 503)" in message and "after 2 attempts" in message
    assert "\n" not in message
    assert len(proxy.puts("sections/2/video.mp4")) == 4
    assert "b/s/manifest.json" not in keys(admin, bucket)
    assert Manifest.model_validate_json((case / "manifest.json").read_text()).published is None
    assert_no_secret("".join(traceback.format_exception(info.value)))

    # once the endpoint is healthy again, a publish names the new object only
    proxy.rule = lambda method, path, nth: "forward"
    published = storage.publish_case(case, "b", "s")
    section = next(o for o in published.objects if o.name == "sections/2/video.mp4")
    assert section.sha256 == hashlib.sha256(b"a new render of section 2").hexdigest()
    assert body(admin, bucket, "b/s/sections/2/video.mp4") == b"a new render of section 2"


def test_missing_bucket_is_a_clean_error(case, moto_url):
    storage = open_storage("s3://no-such-bucket-c2v/p", moto_url, s3_options=fast())
    with pytest.raises(StorageError) as info:
        storage.publish_case(case, "b", "s")
    message = str(info.value)
    assert "NoSuchBucket (HTTP 404)" in message
    assert ACCESS_KEY not in message
    assert_no_secret("".join(traceback.format_exception(info.value)))


def test_endpoint_from_aws_endpoint_url(case, bucket, admin, moto_url, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    storage = open_storage(f"s3://{bucket}")
    assert storage.describe() == f"s3://{bucket} (endpoint {moto_url})"
    storage.publish_case(case, "b", "s")
    assert "b/s/manifest.json" in keys(admin, bucket)


def test_credentials_in_an_endpoint_url_are_refused_or_hidden(bucket, moto_url, monkeypatch):
    with_userinfo = moto_url.replace("http://", f"http://{ACCESS_KEY}:{SECRET_KEY}@")
    with pytest.raises(ConfigError, match="must not carry credentials") as info:
        open_storage(f"s3://{bucket}", with_userinfo)
    assert ACCESS_KEY not in str(info.value)
    assert_no_secret(str(info.value))
    # boto3 reads AWS_ENDPOINT_URL itself: c2v still never shows what is before the "@"
    monkeypatch.setenv("AWS_ENDPOINT_URL", with_userinfo)
    assert open_storage(f"s3://{bucket}").describe() == f"s3://{bucket} (endpoint {moto_url})"


def test_server_errors_are_one_clean_line(case, bucket, proxy):
    proxy.rule = lambda method, path, nth: "leak403" if method == "PUT" else "forward"
    storage = open_storage(f"s3://{bucket}", proxy.url, s3_options=fast())
    with pytest.raises(StorageError) as info:
        storage.publish_case(case, "b", "s")
    message = str(info.value)
    assert message.startswith(f"upload of s3://{bucket}/b/s/")
    assert "InvalidAccessKeyId (HTTP 403)" in message
    assert "\n" not in message
    assert ACCESS_KEY not in message
    assert_no_secret(message)
    assert len([m for m, _, _ in proxy.seen if m == "PUT"]) == 1  # a 403 is not retried


def test_unreachable_endpoint_is_a_clean_error(case, bucket):
    dead = f"http://127.0.0.1:{free_port()}"
    storage = open_storage(f"s3://{bucket}", dead, s3_options=fast(max_attempts=2, upload_attempts=2))
    with pytest.raises(StorageError, match="Could not connect to the endpoint URL") as info:
        storage.publish_case(case, "b", "s")
    assert "\n" not in str(info.value)
    assert_no_secret(str(info.value))


def test_presign_expiry_from_environment(case, bucket, moto_url, monkeypatch):
    monkeypatch.setenv("C2V_S3_PRESIGN_EXPIRES_S", "3600")
    published = open_storage(f"s3://{bucket}", moto_url).publish_case(case, "b", "s")
    assert all("X-Amz-Expires=3600" in o.url for o in published.objects)
    expires = datetime.fromisoformat(published.url_expires_at)
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(minutes=1)


@pytest.mark.parametrize("checksum", ["sha256", "off"])
def test_only_the_checksum_asked_for_is_sent(case, bucket, admin, proxy, mp4, checksum):
    open_storage(f"s3://{bucket}", proxy.url, s3_options=fast(checksum=checksum)).publish_case(case, "b", "s")
    puts = [h for (m, _, _), h in zip(proxy.seen, proxy.headers, strict=True) if m == "PUT"]
    assert len(puts) == len(published_names(["1", "2"])) + 1
    for headers in puts:
        sent = {k for k in headers if k.startswith("x-amz-checksum-")}
        # never botocore's default CRC32 (non-AWS endpoints reject it), never aws-chunked bodies
        assert sent == ({"x-amz-checksum-sha256"} if checksum == "sha256" else set())
        assert "aws-chunked" not in headers.get("content-encoding", "")
        assert "x-amz-trailer" not in headers
    head = admin.head_object(Bucket=bucket, Key="b/s/video.mp4", ChecksumMode="ENABLED")
    if checksum == "sha256":
        assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(mp4).digest()).decode()
    else:
        assert "ChecksumSHA256" not in head
        assert head["ETag"].strip('"') == hashlib.md5(mp4).hexdigest()  # what verifies it then
