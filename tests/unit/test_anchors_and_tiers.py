import pytest

from c2v.core.tiers import Orientation, Tier, video_format
from sandbox.runtime.c2v_anchors import all_anchors, layout_for, parse_anchor


@pytest.mark.parametrize(
    ("tier", "size"),
    [("l", (854, 480, 15)), ("m", (1280, 720, 30)), ("h", (1920, 1080, 60)), ("k", (3840, 2160, 60))],
)
def test_tier_table(tier, size):
    fmt = video_format(tier)
    assert (fmt.width, fmt.height, fmt.fps) == size
    portrait = video_format(tier, "portrait")
    assert (portrait.width, portrait.height, portrait.fps) == (size[1], size[0], size[2])


def test_unknown_tier_is_rejected():
    with pytest.raises(ValueError):
        video_format("p")


def test_manim_cfg_pins_pixels_and_frame():
    cfg = video_format(Tier.l, Orientation.portrait).manim_cfg()
    assert "pixel_width = 480" in cfg and "pixel_height = 854" in cfg and "frame_rate = 15" in cfg
    assert "frame_height = 8.000000" in cfg and "frame_width = 4.496487" in cfg


def test_anchor_names():
    assert parse_anchor("A1") == (0, 0)
    assert parse_anchor("f6") == (5, 5)
    assert len(all_anchors()) == 36
    for bad in ("G1", "A7", "A0", "", "AA1", "1A"):
        with pytest.raises(ValueError):
            parse_anchor(bad)


def test_landscape_grid_sits_right_of_the_lecture_panel():
    layout = layout_for(8 * 16 / 9)
    a1, f6 = layout.cell("A1"), layout.cell("F6")
    assert a1.left == pytest.approx(layout.area.left)
    assert a1.top == pytest.approx(layout.area.top)
    assert f6.right == pytest.approx(layout.area.right)
    assert f6.bottom == pytest.approx(layout.area.bottom)
    assert layout.lecture.right < layout.area.left
    assert layout.area.right <= layout.frame.right and layout.area.bottom >= layout.frame.bottom
    # columns go left to right, rows top to bottom
    assert layout.point("B1")[0] > layout.point("A1")[0]
    assert layout.point("A2")[1] < layout.point("A1")[1]


def test_portrait_puts_lectures_below_the_area():
    layout = layout_for(8 * 9 / 16)
    assert layout.portrait
    assert layout.lecture.top < layout.area.bottom
    assert layout.title.bottom > layout.area.top


def test_span_and_overlap_lookup():
    layout = layout_for(8 * 16 / 9)
    span = layout.span("B2", "C3")
    assert span.left == pytest.approx(layout.cell("B2").left)
    assert span.bottom == pytest.approx(layout.cell("C3").bottom)
    assert layout.cells_overlapping(layout.cell("D4")) == ["D4"]
    assert set(layout.cells_overlapping(span)) == {"B2", "C2", "B3", "C3"}
