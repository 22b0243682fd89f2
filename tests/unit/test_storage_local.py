import hashlib
import os
from pathlib import Path

import pytest

from c2v.errors import ConfigError, StorageError
from c2v.models import Manifest
from c2v.storage import DirectoryStorage, LocalDefault, PublishedCase, S3Options, Storage, open_storage
from c2v.storage.checksums import digest_bytes
from tests.storage_fakes import make_case, published_names, tiny_mp4


@pytest.fixture(scope="module")
def mp4() -> bytes:
    return tiny_mp4()


@pytest.fixture
def case(tmp_path, mp4) -> Path:
    return make_case(tmp_path / "out" / "c2v" / "eulers-formula", mp4, {"1": b"one" * 100, "2": b"two" * 50})


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("url", [None, "", "  "])
def test_local_default_reports_files_and_copies_nothing(case, url, mp4):
    storage = open_storage(url)
    assert isinstance(storage, LocalDefault)
    assert isinstance(storage, Storage)
    before = snapshot(case.parent.parent)

    published = storage.publish_case(case, "batch-1", "eulers-formula")

    assert snapshot(case.parent.parent) == before  # not even the manifest changes
    assert isinstance(published, PublishedCase)
    assert not published.copied
    assert published.location == str(case.resolve())
    assert {o.name for o in published.objects} == published_names(["1", "2"])
    video = next(o for o in published.objects if o.name == "video.mp4")
    assert (video.size, video.sha256) == (len(mp4), sha(mp4))
    assert published.video_url == (case.resolve() / "video.mp4").as_uri()
    section = next(o for o in published.objects if o.name == "sections/2/video.mp4")
    assert section.key == str(case.resolve() / "renders" / "key1" / "video.mp4")
    assert section.sha256 == sha(b"two" * 50)


@pytest.mark.parametrize("form", ["file", "path"])
def test_directory_copy_layout(case, tmp_path, form, mp4):
    store = tmp_path / "published"
    storage = open_storage(store.as_uri() if form == "file" else str(store))
    assert isinstance(storage, DirectoryStorage)
    assert storage.describe() == store.as_uri()

    published = storage.publish_case(case, "nightly", "eulers-formula")

    dest = store / "nightly" / "eulers-formula"
    files = snapshot(dest)
    assert set(files) == published_names(["1", "2"]) | {"manifest.json"}
    assert files["video.mp4"] == mp4
    assert files["sections/1/video.mp4"] == b"one" * 100
    assert files["sections/2/final.py"].startswith(b"# section 2")
    assert published.copied
    assert published.location == str(dest)
    assert published.manifest_url == (dest / "manifest.json").as_uri()

    copied = Manifest.model_validate_json(files["manifest.json"])
    assert copied.published is not None
    assert {o.name for o in copied.published.objects} == published_names(["1", "2"])
    for obj in copied.published.objects:
        assert obj.url == (dest / obj.name).as_uri()
        assert (obj.size, obj.sha256) == (len(files[obj.name]), sha(files[obj.name]))
    # the case keeps a record of where it went, for `c2v status`
    local = Manifest.model_validate_json((case / "manifest.json").read_text())
    assert local.published == copied.published == published.publication()
    assert not list(store.rglob("*.part"))


def test_failed_section_is_not_published(tmp_path, mp4):
    case = make_case(tmp_path / "case", mp4, {"1": b"x"}, failed=("2",))
    published = open_storage(str(tmp_path / "store")).publish_case(case, "b", "s")
    assert {o.name for o in published.objects} == published_names(["1"])


def test_manifest_is_written_last(case, tmp_path, monkeypatch):
    store = tmp_path / "store"
    renamed: list[str] = []
    real_replace = os.replace

    def recording_replace(src, dst):
        renamed.append(
            str(Path(dst).relative_to(store)) if Path(dst).is_relative_to(store) else "case:" + Path(dst).name
        )
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    open_storage(str(store)).publish_case(case, "b", "s")

    copies = [r for r in renamed if not r.startswith("case:")]
    assert len(copies) == len(published_names(["1", "2"])) + 1
    assert copies[-1] == "b/s/manifest.json"
    assert renamed[-1] == "case:manifest.json"  # the case's own record comes after the publish


def test_failed_copy_leaves_no_manifest_and_no_partial_files(case, tmp_path, monkeypatch):
    store = tmp_path / "store"
    storage = open_storage(str(store))
    storage.publish_case(case, "b", "s")  # an earlier, complete publish
    dest = store / "b" / "s"
    assert (dest / "manifest.json").is_file()
    (case / "renders" / "key1" / "video.mp4").write_bytes(b"a new render of section 2")

    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(dst) == dest / "sections" / "2" / "video.mp4":
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    before = (case / "manifest.json").read_bytes()
    with pytest.raises(StorageError, match="No space left on device"):
        storage.publish_case(case, "b", "s")

    # the old manifest is gone (it would name a file this publish was replacing), and
    # neither a new manifest nor a half-written file is left behind
    assert not (dest / "manifest.json").exists()
    assert not list(store.rglob("*.part"))
    # the case no longer claims a publication whose manifest is gone
    assert Manifest.model_validate_json(before).published is not None
    assert Manifest.model_validate_json((case / "manifest.json").read_text()).published is None

    monkeypatch.setattr(os, "replace", real_replace)
    published = storage.publish_case(case, "b", "s")
    assert (dest / "sections" / "2" / "video.mp4").read_bytes() == b"a new render of section 2"
    assert next(o for o in published.objects if o.name == "sections/2/video.mp4").sha256 == sha(
        b"a new render of section 2"
    )


def test_republish_replaces_earlier_publication(case, tmp_path):
    storage = open_storage(str(tmp_path / "store"))
    first = storage.publish_case(case, "b", "s")
    second = storage.publish_case(case, "b", "s")
    local = Manifest.model_validate_json((case / "manifest.json").read_text())
    assert local.published == second.publication()
    copied = Manifest.model_validate_json((tmp_path / "store" / "b" / "s" / "manifest.json").read_text())
    assert copied.published == second.publication()
    assert [o.sha256 for o in first.objects] == [o.sha256 for o in second.objects]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://host/dir",
        "http://example.com/bucket",
        "https://user:secret@example.com/x",
        "gs://bucket/prefix",
        "file://otherhost/dir",
        "file://relative/dir",
        "s3://",
        "s3:///prefix",
        "s3://Bad_Bucket/prefix",
        "s3://ab/prefix",
        "s3://bucket/a//b",
        "s3://bucket/a/../b",
        "s3://bucket/prefix?x=1",
    ],
)
def test_bad_storage_url_is_a_config_error(url):
    with pytest.raises(ConfigError) as info:
        open_storage(url)
    assert "secret" not in str(info.value)


def test_endpoint_without_s3_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="endpoint"):
        open_storage(None, "http://127.0.0.1:9000")
    with pytest.raises(ConfigError, match="endpoint"):
        open_storage(str(tmp_path), "http://127.0.0.1:9000")


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "..\\x", "a b", "tab\there"])
def test_unsafe_batch_or_slug_is_refused(case, tmp_path, name):
    storage = open_storage(str(tmp_path / "store"))
    with pytest.raises(ConfigError):
        storage.publish_case(case, name, "s")
    with pytest.raises(ConfigError):
        storage.publish_case(case, "b", name)
    assert not (tmp_path / "store").exists()


def test_cjk_slug_is_allowed(case, tmp_path):
    published = open_storage(str(tmp_path / "store")).publish_case(case, "b", "勾股定理")
    assert (tmp_path / "store" / "b" / "勾股定理" / "manifest.json").is_file()
    assert published.slug == "勾股定理"


def test_case_without_manifest_cannot_be_published(tmp_path):
    (tmp_path / "case").mkdir()
    with pytest.raises(StorageError, match=r"no manifest\.json"):
        open_storage(str(tmp_path / "store")).publish_case(tmp_path / "case", "b", "s")


def test_section_video_outside_the_case_is_refused(case, tmp_path):
    manifest = Manifest.model_validate_json((case / "manifest.json").read_text())
    (tmp_path / "secret.txt").write_text("not for publishing")
    manifest.sections[0].video = "../../../secret.txt"
    (case / "manifest.json").write_text(manifest.model_dump_json())
    with pytest.raises(StorageError, match="outside the case folder"):
        open_storage(str(tmp_path / "store")).publish_case(case, "b", "s")
    assert not (tmp_path / "store" / "b" / "s" / "manifest.json").exists()


def test_missing_section_video_stops_the_publish(case, tmp_path):
    (case / "renders" / "key0" / "video.mp4").unlink()
    with pytest.raises(StorageError, match="missing"):
        open_storage(str(tmp_path / "store")).publish_case(case, "b", "s")


def test_publishing_into_the_case_folder_itself_is_refused(case):
    storage = open_storage(str(case.parent.parent))  # <out>/<batch>/<slug> == the case
    with pytest.raises(StorageError, match="overlap"):
        storage.publish_case(case, "c2v", "eulers-formula")
    assert (case / "manifest.json").is_file()


def test_s3_options_from_env():
    options = S3Options.from_env(
        {"C2V_S3_MULTIPART_THRESHOLD_MB": "8", "C2V_S3_PRESIGN_EXPIRES_S": "3600", "C2V_S3_CHECKSUM": "OFF"}
    )
    assert (options.multipart_threshold, options.presign_expires_s, options.checksum) == (
        8 << 20,
        3600,
        "off",
    )
    with pytest.raises(ConfigError, match="C2V_S3_PRESIGN_EXPIRES_S"):
        S3Options.from_env({"C2V_S3_PRESIGN_EXPIRES_S": str(8 * 24 * 3600)})  # SigV4 allows 7 days at most
    with pytest.raises(ConfigError, match="C2V_S3_MULTIPART_CHUNK_MB"):
        S3Options.from_env({"C2V_S3_MULTIPART_CHUNK_MB": "1"})  # S3 parts are 5 MiB at least
    with pytest.raises(ConfigError, match="not a number"):
        S3Options.from_env({"C2V_S3_MAX_ATTEMPTS": "many"})


@pytest.mark.parametrize("size", [0, 1, 5, 16, 17, 33])
def test_part_digests_match_a_direct_computation(size):
    data = bytes(range(256)) * size
    part = 256 * 4
    digest = digest_bytes(data, part)
    chunks = [data[i : i + part] for i in range(0, len(data), part)] or [b""]
    assert digest.parts == len(chunks)
    assert digest.sha256 == sha(data)
    composite = hashlib.sha256(b"".join(hashlib.sha256(c).digest() for c in chunks)).digest()
    import base64

    assert digest.composite_sha256_b64 == base64.b64encode(composite).decode()
    md5s = b"".join(hashlib.md5(c).digest() for c in chunks)
    assert digest.multipart_etag == f"{hashlib.md5(md5s).hexdigest()}-{len(chunks)}"
    whole = digest_bytes(data)
    assert (whole.parts, whole.multipart_etag, whole.md5) == (1, None, hashlib.md5(data).hexdigest())
