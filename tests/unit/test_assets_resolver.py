"""Resolution from the bundled set and the cache; misses; attribution; the CLI command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from c2v.app.cli import main
from c2v.assets import (
    AssetMiss,
    AssetResolver,
    AssetSettings,
    AssetSource,
    License,
    MissReason,
    ResolvedAsset,
    SourceChoice,
    attribution_markdown,
    resolve_asset_settings,
)


def settings(tmp_path: Path, **kw: object) -> AssetSettings:
    return AssetSettings.model_validate({"cache_dir": tmp_path / "cache", "choice": "bundled", **kw})


def test_bundled_hit_is_a_clean_svg_in_the_cache(tmp_path: Path) -> None:
    with AssetResolver(settings(tmp_path)) as resolver:
        asset = resolver.resolve("Magnifying glass")
    assert isinstance(asset, ResolvedAsset)
    assert asset.element == "magnifying glass"
    assert asset.icon_id == "fluent-emoji-flat:magnifying-glass-tilted-left"
    assert asset.source is AssetSource.bundled and not asset.from_cache
    path = Path(asset.path)
    assert path.is_relative_to(tmp_path / "cache" / "blobs") and path.name.startswith(asset.sha256)
    assert path.read_text().startswith("<svg") and asset.license.spdx == "MIT"
    assert asset.file_name == f"magnifying-glass-{asset.sha256[:8]}.svg"


def test_the_cache_answers_a_rerun_and_survives_a_new_resolver(tmp_path: Path) -> None:
    with AssetResolver(settings(tmp_path)) as first:
        a = first.resolve("coin")
    with AssetResolver(settings(tmp_path), sets=()) as second:  # no icon set at all: only the cache
        b = second.resolve("coin")
    assert isinstance(b, ResolvedAsset) and b.from_cache and b.sha256 == a.sha256


def test_a_damaged_cache_blob_is_resolved_again(tmp_path: Path) -> None:
    with AssetResolver(settings(tmp_path)) as resolver:
        a = resolver.resolve("coin")
        assert isinstance(a, ResolvedAsset)
        Path(a.path).write_text("<svg>tampered</svg>")
        b = resolver.resolve("coin")
    assert isinstance(b, ResolvedAsset) and not b.from_cache
    assert Path(b.path).read_text() != "<svg>tampered</svg>"


MISSES = [("xyzzy plugh", MissReason.not_found), ("", MissReason.bad_name), ("12 34", MissReason.bad_name)]


@pytest.mark.parametrize(("name", "reason"), [*MISSES, ("x" * 200, MissReason.bad_name)])
def test_misses_are_answers_not_exceptions(tmp_path: Path, name: str, reason: MissReason) -> None:
    with AssetResolver(settings(tmp_path)) as resolver:
        miss = resolver.resolve(name)
    assert isinstance(miss, AssetMiss) and miss.reason is reason and miss.detail


def test_an_unwritable_cache_is_a_miss(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    with AssetResolver(settings(tmp_path)) as resolver:
        miss = resolver.resolve("coin")
    assert isinstance(miss, AssetMiss) and miss.reason is MissReason.unavailable


def test_offline_auto_falls_back_to_the_bundled_set_without_network(tmp_path: Path) -> None:
    s = settings(tmp_path, choice=SourceChoice.auto, online=False)
    with AssetResolver(s) as resolver:
        hit, miss = resolver.resolve("planet"), resolver.resolve("xyzzy")
    assert isinstance(hit, ResolvedAsset) and hit.source is AssetSource.bundled
    assert isinstance(miss, AssetMiss) and "offline" in miss.detail


def test_a_licence_that_requires_attribution_cannot_go_without_one() -> None:
    lic = License(spdx="CC-BY-4.0", title="CC BY 4.0", requires_attribution=True)
    with pytest.raises(ValueError, match="requires an attribution"):
        ResolvedAsset(element="x", path="/x", sha256="0" * 64, format="svg", width=1, height=1,
                      source="iconify", icon_id="a:b", license=lic, attribution=" ")  # fmt: skip


def test_attribution_lists_every_distinct_asset(tmp_path: Path) -> None:
    with AssetResolver(settings(tmp_path)) as resolver:
        assets = [
            a
            for a in resolver.resolve_all(["coin", "planet", "coin", "xyzzy"])
            if isinstance(a, ResolvedAsset)
        ]
    text = attribution_markdown(assets, "Probability")
    assert text.startswith("# Attribution — Probability")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "fluent-emoji-flat:" in line]
    assert len(rows) == 2 and all("Microsoft Corporation" in r and "MIT" in r for r in rows)
    assert "no third-party images" in attribution_markdown([])


def test_iconfinder_key_from_api_config_or_env(tmp_path: Path) -> None:
    config = tmp_path / "api_config.json"
    config.write_text(json.dumps({"iconfinder": {"api_key": "file-key-123456"}}))
    from_file = resolve_asset_settings("auto", config, env={})
    assert from_file.iconfinder_key is not None and from_file.key_source == "api_config.json"
    assert "file-key-123456" not in repr(from_file) and "file-key-123456" not in from_file.model_dump_json()
    from_env = resolve_asset_settings("auto", config, env={"ICONFINDER_API_KEY": "env-key-654321"})
    assert from_env.secrets() == ["env-key-654321"] and from_env.key_source == "env ICONFINDER_API_KEY"
    placeholder = resolve_asset_settings("auto", None, env={"ICONFINDER_API_KEY": "YOUR_KEY"})
    assert placeholder.iconfinder_key is None


@pytest.fixture
def keep_log_config() -> Iterator[None]:
    """The command configures structlog on this test's stderr; later tests must not inherit it."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.mark.usefixtures("keep_log_config")
def test_cli_assets_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("C2V_ASSETS_DIR", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as code:
        main(["assets", "search", "magnifying", "glass", "--assets-source", "bundled"])
    out = capsys.readouterr().out
    assert code.value.code == 0
    assert out.splitlines()[0].startswith(
        "'magnifying glass' -> fluent-emoji-flat:magnifying-glass-tilted-left"
    )
    assert "bundled candidates:" in out
    with pytest.raises(SystemExit) as code:
        main(["assets", "search", "coin", "--assets-source", "bundled", "--json"])
    answer = json.loads(capsys.readouterr().out)
    assert code.value.code == 0 and answer["answer"]["icon_id"] == "fluent-emoji-flat:coin"
    with pytest.raises(SystemExit) as code:
        main(["assets", "search", "coin", "--assets-source", "nowhere"])
    assert code.value.code == 2


def test_manim_draws_a_bundled_icon(tmp_path: Path) -> None:
    from manim import SVGMobject

    with AssetResolver(settings(tmp_path)) as resolver:
        asset = resolver.resolve("coin")
    assert isinstance(asset, ResolvedAsset)
    icon = SVGMobject(asset.path, height=2)
    assert len(icon.family_members_with_points()) >= 2
    colours = {m.get_fill_color().to_hex().lower() for m in icon.family_members_with_points()}
    assert len(colours) >= 2, colours  # the icon keeps its colours
