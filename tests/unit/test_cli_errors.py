"""Bad input: one clear line, the right exit code, no traceback, nothing written."""

import pytest


def assert_one_clean_line(proc, code):
    assert proc.returncode == code, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert "Traceback" not in proc.stderr
    return lines


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["generate", ""], "topic is empty"),
        (["generate", "a" * 10_000], "10000 characters"),
        (["generate", "Quantum chromodynamics", "--api", "offline"], "bundled topics"),
        (["generate", "Pythagorean theorem", "--api", "nosuchprovider"], "unknown provider"),
        (["generate", "Pythagorean theorem", "--folder_prefix", "../../etc"], "folder prefix"),
        (["generate", "Pythagorean theorem", "--video_quality", "x"], "Invalid value"),
        (["generate"], "TOPIC"),
    ],
)
def test_usage_errors_exit_2(c2v, tmp_path, args, needle):
    proc = c2v(*args, "-o", str(tmp_path / "out"))
    lines = assert_one_clean_line(proc, 2)
    assert needle in proc.stderr
    assert not (tmp_path / "out").exists(), "nothing may be written for bad input"
    if needle != "Invalid value" and needle != "TOPIC":
        assert len(lines) == 1, lines


def test_unknown_topic_lists_bundled_topics(c2v, tmp_path):
    proc = c2v("generate", "Quantum chromodynamics", "-o", str(tmp_path))
    assert "'Pythagorean theorem'" in proc.stderr and proc.returncode == 2


def test_chinese_and_emoji_topics_are_accepted_as_input(c2v, tmp_path):
    # Not bundled offline, so they stop at the transcript lookup: the point is a clean error.
    for topic in ("线性代数", "Quick 🔍 sort 🚀"):
        proc = c2v("generate", topic, "-o", str(tmp_path))
        lines = assert_one_clean_line(proc, 2)
        assert len(lines) == 1 and topic in proc.stderr


def test_output_dir_that_cannot_be_created(c2v, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    proc = c2v("generate", "Pythagorean theorem", "-o", str(blocker / "sub"))
    lines = assert_one_clean_line(proc, 2)
    assert len(lines) == 1 and "cannot create case folder" in lines[0]
    assert blocker.read_text() == "x"


def test_missing_system_dependency_names_it_and_the_fix(c2v, tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    proc = c2v("generate", "Pythagorean theorem", "-o", str(tmp_path / "out"), env={"PATH": str(empty_bin)})
    lines = assert_one_clean_line(proc, 1)
    assert len(lines) == 1
    assert "ffmpeg" in lines[0] and "apt-get install" in lines[0]
    assert not (tmp_path / "out").exists()


def test_help_lists_code2video_spellings(c2v):
    proc = c2v("generate", "--help")
    for flag in (
        "--knowledge_point",
        "--API",
        "--video_quality",
        "--folder_prefix",
        "--use_feedback",
        "--max_fix_bug_tries",
        "--max_regenerate_tries",
        "--portrait",
        "--landscape",
    ):
        assert flag in proc.stdout, flag


def test_render_of_a_case_with_a_broken_storyboard_is_a_usage_error(c2v, tmp_path):
    case = tmp_path / "out" / "c2v" / "t"
    case.mkdir(parents=True)
    (case / "storyboard.json").write_text('{"sections": 3}', encoding="utf-8")
    proc = c2v("render", str(case))
    lines = assert_one_clean_line(proc, 2)
    assert len(lines) == 1 and "storyboard.json is not a c2v storyboard" in lines[0]


def test_every_command_family_registers_its_commands():
    import click

    from c2v.app import cli

    assert sorted(cli.cli.commands) == [
        *("assets", "batch", "demo", "doctor", "eval", "generate", "keys"),
        *("render", "report", "serve", "status", "submit"),
    ]
    group = click.Group()
    for add_family in cli.FAMILIES:
        add_family(group)
    assert sorted(group.commands) == sorted(cli.cli.commands), "FAMILIES is the one list of commands"
