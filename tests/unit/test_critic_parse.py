"""Critic replies as real models write them: anchors outside the grid, prose, JSON5."""

import pytest

from c2v.agents.critic import parse_report
from c2v.errors import ReplyParseError


def test_anchors_outside_the_grid_are_dropped_but_the_problem_kept():
    reply = (
        'Looks crowded.\n```json\n{"issues": [{"problem": "label off", "fix": "move it", "line": 9, '
        '"anchor": "G7"}, {"problem": "overlap", "anchor": " c3 "},]}\n```'
    )
    report = parse_report(reply)
    assert [i.anchor for i in report.issues] == [None, "C3"]
    assert report.issues[0].problem == "label off" and "'G7' is outside the grid" in report.issues[0].fix


def test_prose_instead_of_json_is_refused_for_the_re_ask():
    with pytest.raises(ReplyParseError, match="no JSON object"):
        parse_report("The layout looks fine to me, but the title is a bit small.")


def test_a_report_that_breaks_the_schema_names_the_field():
    with pytest.raises(ReplyParseError, match=r"CriticReport schema at issues.0.problem"):
        parse_report('{"issues": [{"problem": ""}]}')
