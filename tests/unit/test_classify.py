import signal

from c2v.models import RenderStatus
from sandbox.base import ProcessOutcome
from sandbox.classify import classify, error_line, extract_traceback

TB = """Manim Community v0.22.0
Traceback (most recent call last):
  File "/sandbox/c2v_manim.py", line 20, in <module>
  File "/sandbox/scene.py", line 14, in construct
    graph = axes.get_graph(lambda x: x)
  File "/sandbox/c2v_layout.py", line 80, in place_at
AttributeError: 'Axes' object has no attribute 'get_graph'
"""


def outcome(**kw):
    base = dict(exit_code=1, signal=None, timed_out=False, stdout_tail="", stderr_tail="", wall_s=1.0)
    base.update(kw)
    return ProcessOutcome(**base)


def test_traceback_and_scene_line():
    tb = extract_traceback(TB)
    assert tb.startswith("Traceback") and error_line(tb) == 14


def test_code_error():
    c = classify(outcome(stderr_tail=TB), video_ok=False)
    assert c.status is RenderStatus.code_error
    assert c.message == "AttributeError: 'Axes' object has no attribute 'get_graph'"
    assert c.error_line == 14


def test_ok_needs_a_valid_video():
    assert classify(outcome(exit_code=0), video_ok=True).status is RenderStatus.ok
    assert classify(outcome(exit_code=0), video_ok=False).status is RenderStatus.code_error


def test_timeout_wins():
    assert (
        classify(outcome(timed_out=True, exit_code=None, signal=9), video_ok=False).status
        is RenderStatus.timeout
    )


def test_cpu_limit_is_a_timeout():
    assert classify(outcome(exit_code=None, signal=signal.SIGXCPU), False).status is RenderStatus.timeout


def test_memory_error_is_oom():
    tb = 'Traceback (most recent call last):\n  File "/sandbox/scene.py", line 3\nMemoryError\n'
    assert classify(outcome(stderr_tail=tb), False).status is RenderStatus.oom


def test_killed_by_signal():
    c = classify(outcome(exit_code=None, signal=signal.SIGKILL), False)
    assert c.status is RenderStatus.killed and "SIGKILL" in c.message


def test_sandbox_start_failure_is_infra():
    c = classify(
        outcome(exit_code=1, stderr_tail="bwrap: Can't mount proc on /newroot/proc: Operation not permitted"),
        False,
    )
    assert c.status is RenderStatus.infra_error
    assert classify(outcome(infra_error="cannot start bwrap"), False).status is RenderStatus.infra_error
