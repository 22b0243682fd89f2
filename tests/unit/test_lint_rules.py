"""Layout lint rules on hand-made layout records (no render)."""

from c2v.review.lint import lint_layout
from sandbox.runtime.c2v_anchors import layout_for

FW, FH = 8 * 854 / 480, 8.0


def record(*units, pixel_height=480):
    return {
        "pixel_width": 854,
        "pixel_height": pixel_height,
        "frame_width": FW,
        "frame_height": FH,
        "boxes": {},
        "snapshots": [{"index": 0, "label": "play 1", "units": list(units)}],
    }


def unit(uid, bbox, kind="text", role="area", text="label", font_size=30.0, line=10, cls="Text"):
    return {
        "id": uid,
        "cls": cls,
        "kind": kind,
        "role": role,
        "text": text,
        "font_size": font_size,
        "line": line,
        "bbox": list(bbox),
    }


def centred(x, y, w=1.0, h=0.4):
    return (x - w / 2, x + w / 2, y - h / 2, y + h / 2)


def test_clean_scene_has_no_issues():
    assert lint_layout(record(unit(1, centred(2, 1)), unit(2, centred(2, -1)))) == []


def test_overlapping_labels_name_both_anchors_and_the_line():
    grid = layout_for(FW, FH)
    x, y = grid.point("C3")
    issues = lint_layout(record(unit(1, centred(x, y), line=12), unit(2, centred(x + 0.3, y), line=13)))
    assert [i.rule for i in issues] == ["overlap"]
    assert "C3" in issues[0].anchors and issues[0].line == 12
    assert issues[0].severity == "error"


def test_off_frame_formula():
    issues = lint_layout(record(unit(1, (6.5, 8.2, 0, 0.5), kind="formula", cls="MathTex")))
    assert any(i.rule == "off_frame" for i in issues)


def test_small_text_depends_on_the_tier():
    tiny = unit(1, centred(2, 0), font_size=12.0)
    assert [i.rule for i in lint_layout(record(tiny))] == ["small_text"]
    assert lint_layout(record(tiny, pixel_height=2160)) == []


def test_lecture_lines_must_stay_in_their_panel():
    grid = layout_for(FW, FH)
    long_line = unit(1, (grid.lecture.left, grid.area.left + 1.0, 1, 1.3), role="lecture")
    assert [i.rule for i in lint_layout(record(long_line))] == ["lecture_overflow"]


def test_area_objects_must_not_cover_the_lecture_panel():
    grid = layout_for(FW, FH)
    big = unit(1, (grid.lecture.left + 1, grid.area.right - 1, -2, 2), kind="shape", cls="Square", text="")
    assert "covers_lecture" in [i.rule for i in lint_layout(record(big))]


def test_label_inside_a_shape_is_fine_but_one_on_its_edge_is_not():
    square = unit(9, centred(2, 0, 2, 2), kind="shape", cls="Square", text="")
    inside = unit(1, centred(2, 0, 0.5, 0.3))
    edge = unit(2, centred(3, 0, 0.6, 0.3))
    assert lint_layout(record(square, inside)) == []
    assert [i.rule for i in lint_layout(record(square, edge))] == ["text_on_shape_edge"]


def test_one_issue_per_problem_across_animations():
    grid = layout_for(FW, FH)
    x, y = grid.point("D4")
    pair = [unit(1, centred(x, y)), unit(2, centred(x, y))]
    rec = record(*pair)
    rec["snapshots"].append({"index": 1, "label": "play 2", "units": pair})
    issues = lint_layout(rec)
    assert len(issues) == 1 and issues[0].animation == 1


def test_characters_no_font_can_draw_are_reported():
    tofu = unit(1, centred(2, 0), text="rocket \U0001fbff\U000e01ef")
    issues = lint_layout(record(tofu))
    assert [i.rule for i in issues] == ["missing_glyphs"]
    assert "\U0001fbff" in issues[0].message


def test_chinese_text_is_drawable_with_the_cjk_font_installed():
    # make test installs fonts-noto-cjk; without it every Chinese character is tofu.
    assert lint_layout(record(unit(1, centred(2, 0), text="勾股定理"))) == []
