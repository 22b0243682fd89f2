"""Iconify and IconFinder over real HTTP to local wire fakes: search, download, 404, 429, keys."""

from __future__ import annotations

import io
import json
import logging
import socket
from pathlib import Path

import pytest
import structlog

from c2v.assets import AssetMiss, AssetResolver, AssetSettings, AssetSource, MissReason, ResolvedAsset
from c2v.core.logs import configure_logging
from tests.asset_fakes import GRADIENT_SVG, HOSTILE_SVG, PLAIN_SVG, IconFinderWire, IconifyWire, collection
from tests.llm_fakes import FakeProvider, Reply

KEY = "ifk-SECRET-0123456789abcdef"


def settings(tmp_path: Path, choice: str, url: str = "http://127.0.0.1:9", **kw: object) -> AssetSettings:
    return AssetSettings.model_validate(
        {
            "cache_dir": tmp_path / "cache",
            "choice": choice,
            "iconify_url": url,
            "iconfinder_url": f"{url}/v4",
            "backoff_s": 0.0,
            "max_tries": 3,
            "timeout_s": 5.0,
            **kw,
        }
    )


@pytest.fixture
def log_text() -> io.StringIO:
    saved = structlog.get_config()
    out = io.StringIO()
    configure_logging(json_lines=True, level=logging.DEBUG, file=out)
    yield out
    structlog.configure(**saved)  # not configure_logging(): that would keep this test's stderr


def iconify_wire() -> IconifyWire:
    return IconifyWire(
        icons={
            "mdi:coin": PLAIN_SVG,
            "noto:coin": GRADIENT_SVG,
            "gpl-set:coin-stack": PLAIN_SVG,
            "ccby-anon:coin-purse": PLAIN_SVG,
            "evil:coin-trap": HOSTILE_SVG,
        },
        collections={
            "mdi": collection("Material Design Icons", "Apache-2.0", palette=False),
            "noto": collection("Noto Emoji", "Apache-2.0", author="Google"),
            "gpl-set": collection("GPL Icons", "GPL-3.0"),
            "ccby-anon": collection("Nameless", "CC-BY-4.0", author=None),
            "evil": collection("Evil", "MIT", palette=False),
        },
    )


def test_iconify_search_and_download_prefers_colour_and_rasterises_gradients(tmp_path: Path) -> None:
    with FakeProvider(iconify_wire()) as fake, AssetResolver(settings(tmp_path, "iconify", fake.url)) as r:
        asset = r.resolve("coin")
    assert isinstance(asset, ResolvedAsset)
    assert asset.source is AssetSource.iconify and asset.icon_id == "noto:coin"  # palette set first
    assert (
        asset.rasterised and asset.format.value == "png" and Path(asset.path).read_bytes()[:4] == b"\x89PNG"
    )
    assert asset.author == "Google" and "Noto Emoji" in asset.attribution
    paths = [q.path for q in fake.requests]
    assert paths[0] == "/search" and fake.requests[0].query["query"] == ["coin"]
    assert "/noto/coin.svg" in paths and "/gpl-set/coin-stack.svg" not in paths  # GPL never downloaded
    assert "/ccby-anon/coin-purse.svg" not in paths  # CC BY with no author to credit


def test_iconify_404_moves_to_the_next_icon_and_429_is_retried(tmp_path: Path, log_text: io.StringIO) -> None:
    wire = iconify_wire()
    wire.gone.add("noto:coin")
    with FakeProvider(wire) as fake, AssetResolver(settings(tmp_path, "iconify", fake.url)) as r:
        fake.push(Reply(429, {"message": "slow down"}, headers={"retry-after": "0"}))
        asset = r.resolve("coin")
    assert isinstance(asset, ResolvedAsset) and asset.icon_id == "mdi:coin" and not asset.rasterised
    assert [q.path for q in fake.requests][:2] == ["/search", "/search"]  # the 429, then the retry
    retries = [json.loads(line) for line in log_text.getvalue().splitlines() if "asset_retry" in line]
    assert retries and retries[0]["status"] == 429 and retries[0]["service"] == "iconify"


def test_iconify_429_on_every_try_is_a_miss_and_the_source_is_not_asked_again(tmp_path: Path) -> None:
    with FakeProvider(lambda rec: Reply(429, {"message": "no"})) as fake:
        with AssetResolver(settings(tmp_path, "iconify", fake.url)) as r:
            first, second = r.resolve("coin"), r.resolve("planet")
        asked = len(fake.requests)
    assert (
        isinstance(first, AssetMiss) and first.reason is MissReason.unavailable and "HTTP 429" in first.detail
    )
    assert isinstance(second, AssetMiss) and "unreachable earlier" in second.detail
    assert asked == 3  # max_tries, once


def test_a_hostile_svg_never_reaches_the_cache_as_such(tmp_path: Path) -> None:
    wire = IconifyWire(icons={"evil:trap": HOSTILE_SVG}, collections={"evil": collection("Evil", "MIT")})
    with FakeProvider(wire) as fake, AssetResolver(settings(tmp_path, "iconify", fake.url)) as r:
        asset = r.resolve("trap")
    assert isinstance(asset, ResolvedAsset)
    stored = Path(asset.path).read_text()
    assert "<script" not in stored and "attacker.example" not in stored and "onload" not in stored
    every = "".join(p.read_text(errors="replace") for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert "attacker.example" not in every


def test_the_cache_makes_a_rerun_fetch_nothing(tmp_path: Path) -> None:
    with FakeProvider(iconify_wire()) as fake:
        with AssetResolver(settings(tmp_path, "iconify", fake.url)) as r:
            a = r.resolve("coin")
            nothing = r.resolve("zebra")
        asked = len(fake.requests)
        with AssetResolver(settings(tmp_path, "iconify", fake.url)) as again:
            b, still_nothing = again.resolve("coin"), again.resolve("zebra")
        assert len(fake.requests) == asked
    assert (
        isinstance(a, ResolvedAsset)
        and isinstance(b, ResolvedAsset)
        and b.from_cache
        and a.sha256 == b.sha256
    )
    assert isinstance(nothing, AssetMiss) and isinstance(still_nothing, AssetMiss)


def test_an_unreachable_service_is_a_miss_quickly(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: connection refused
    with AssetResolver(settings(tmp_path, "auto", f"http://127.0.0.1:{port}")) as r:
        miss = r.resolve("xyzzy")
        hit = r.resolve("coin")
    assert isinstance(miss, AssetMiss) and miss.reason is MissReason.unavailable
    assert isinstance(hit, ResolvedAsset) and hit.source is AssetSource.bundled


def test_iconfinder_sends_the_key_in_the_header_and_credits_the_author(tmp_path: Path) -> None:
    wire = IconFinderWire(key=KEY, icons={101: PLAIN_SVG}, license_in_search=False)
    s = settings(tmp_path, "iconfinder", "http://127.0.0.1:9", iconfinder_key=KEY)
    with FakeProvider(wire) as fake:
        s = s.model_copy(update={"iconfinder_url": f"{fake.url}/v4"})
        with AssetResolver(s) as r:
            asset = r.resolve("coin")
    assert isinstance(asset, ResolvedAsset) and asset.source is AssetSource.iconfinder
    assert asset.license.requires_attribution and "Ann" in asset.attribution
    assert [q.path for q in fake.requests] == [
        "/v4/icons/search", "/v4/iconsets/77", "/v4/icons/101/formats/svg/1010/download",
    ]  # fmt: skip
    assert all(q.headers["authorization"] == f"Bearer {KEY}" for q in fake.requests)
    assert all(KEY not in q.path and KEY not in json.dumps(q.query) for q in fake.requests)


def test_iconfinder_key_never_appears_in_a_log_line_or_a_miss(tmp_path: Path, log_text: io.StringIO) -> None:
    wire = IconFinderWire(
        key="the-right-key-000000", icons={101: PLAIN_SVG}
    )  # our KEY is rejected and echoed
    with FakeProvider(wire) as fake:
        fake.push(Reply(429, {"message": f"rate limited for key {KEY}"}, headers={"retry-after": "0"}))
        with AssetResolver(settings(tmp_path, "iconfinder", fake.url, iconfinder_key=KEY)) as r:
            miss = r.resolve("coin")
    assert isinstance(miss, AssetMiss) and "HTTP 401" in miss.detail
    assert KEY not in miss.detail and KEY not in miss.model_dump_json()
    assert "asset_retry" in log_text.getvalue() and KEY not in log_text.getvalue()
    assert not any(
        KEY in p.read_text(errors="replace") for p in (tmp_path / "cache").rglob("*") if p.is_file()
    )


def test_iconfinder_never_sends_the_key_to_another_host(tmp_path: Path) -> None:
    with FakeProvider(lambda rec: Reply(200, PLAIN_SVG)) as elsewhere:
        host = elsewhere.url.removeprefix("http://")
        wire = IconFinderWire(key=KEY, icons={101: PLAIN_SVG}, download_host=host)
        with (
            FakeProvider(wire) as fake,
            AssetResolver(settings(tmp_path, "iconfinder", fake.url, iconfinder_key=KEY)) as r,
        ):
            miss = r.resolve("coin")
        assert elsewhere.requests == []
    assert isinstance(miss, AssetMiss)


def test_iconfinder_without_a_key_is_disabled(tmp_path: Path) -> None:
    with AssetResolver(settings(tmp_path, "iconfinder")) as r:
        miss = r.resolve("coin")
    assert isinstance(miss, AssetMiss) and miss.reason is MissReason.disabled
