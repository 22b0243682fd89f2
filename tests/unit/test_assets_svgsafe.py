"""Hostile SVGs are refused or neutralised on the host; Manim-unfriendly ones are rasterised."""

from __future__ import annotations

import struct

import pytest

from c2v.assets.iconset import bundled_sets
from c2v.assets.raster import rasterise
from c2v.assets.svgsafe import MAX_ELEMENTS, sanitize_svg
from c2v.errors import UnsafeAssetError
from tests.asset_fakes import BILLION_LAUGHS, GRADIENT_SVG, HOSTILE_SVG, HUGE_SVG, PLAIN_SVG

XXE = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><text>&x;</text></svg>'
)


@pytest.mark.parametrize(
    ("svg", "cause"),
    [
        (BILLION_LAUGHS, "DTDs and entities"),
        (XXE, "DTDs and entities"),
        (HUGE_SVG, "larger than"),
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 nan 5"/>', "larger than"),
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 0 5"/>', "empty"),
        ('<svg xmlns="http://www.w3.org/2000/svg" width="2em"/>', "no viewBox"),
        ('<html xmlns="http://www.w3.org/1999/xhtml"/>', "not an SVG"),
        ("<svg", "not well-formed"),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">'
            + "<g/>" * (MAX_ELEMENTS + 1)
            + "</svg>",
            "elements",
        ),
    ],
)
def test_refused(svg: str, cause: str) -> None:
    with pytest.raises(UnsafeAssetError, match=cause) as info:
        sanitize_svg(svg, "test:icon")
    assert str(info.value).startswith("test:icon: ")
    assert "\n" not in str(info.value)


def test_neutralised_scripts_handlers_and_outside_references() -> None:
    clean = sanitize_svg(HOSTILE_SVG, "test:hostile")
    for gone in ("<script", "onload", "attacker.example", "file://", "/etc/passwd", "<image"):
        assert gone not in clean.text
    assert "<rect" in clean.text  # the drawing itself survives
    assert any("script" in r for r in clean.removed) and any("href" in r for r in clean.removed)


def test_outside_urls_in_styles_are_cut_but_inside_ones_kept() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><style>@import url(http://x.example/a.css);'
        ".a{fill:url(http://x.example/p.svg#q)}</style>"
        '<rect class="a" style="fill:url(#keep)" width="4" height="4"/>'
        '<rect style="fill:url(https://x.example/z)" width="1" height="1"/></svg>'
    )
    clean = sanitize_svg(svg)
    assert "x.example" not in clean.text and "@import" not in clean.text
    assert "url(#keep)" in clean.text


def test_iconify_em_sizes_become_pixels() -> None:
    clean = sanitize_svg(PLAIN_SVG)
    assert (clean.width, clean.height) == (24, 24)
    assert 'width="24"' in clean.text and "1em" not in clean.text
    assert clean.raster is False


def test_gradients_need_rasterising_and_become_a_png() -> None:
    clean = sanitize_svg(GRADIENT_SVG)
    assert clean.raster is True
    png, width, height = rasterise(clean, side=128)
    assert png.startswith(b"\x89PNG") and (width, height) == (128, 128)
    assert struct.unpack(">II", png[16:24]) == (128, 128)


def test_most_bundled_icons_stay_vectors() -> None:
    (fluent,) = bundled_sets()
    names = fluent.names()
    raster = [n for n in names if sanitize_svg(fluent.svg(n), n).raster]
    assert len(raster) < len(names) // 20, raster[:10]
