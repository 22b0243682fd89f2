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


def _tb(last: str) -> str:
    return TB.rsplit("\n", 2)[0] + "\n" + last + "\n"


def test_forbidden_os_errors_are_policy():
    for last in (
        "PermissionError: [Errno 13] Permission denied: '/etc/passwd'",
        "OSError: [Errno 30] Read-only file system: '/usr/x'",
        "OSError: [Errno 101] Network is unreachable",
        "ConnectionRefusedError: [Errno 111] Connection refused",
        "socket.gaierror: [Errno -3] Temporary failure in name resolution",
    ):
        c = classify(outcome(stderr_tail=_tb(last)), video_ok=False)
        assert c.status is RenderStatus.policy, last
        assert c.message == f"forbidden in the sandbox: {last}"
        assert c.error_line == 14
        assert c.status.is_models_fault()


def test_a_scene_error_quoting_an_os_error_stays_a_code_error():
    last = "RuntimeError: probe: [Errno 101] Network is unreachable"
    assert classify(outcome(stderr_tail=_tb(last)), video_ok=False).status is RenderStatus.code_error
    missing = "FileNotFoundError: [Errno 2] No such file or directory: 'pic.png'"
    assert classify(outcome(stderr_tail=_tb(missing)), video_ok=False).status is RenderStatus.code_error


def test_backend_verdicts_win_over_the_exit_code():
    quota = classify(outcome(signal=9, exit_code=None, policy_violation="wrote more than 64 MB"), False)
    assert (quota.status, quota.message) == (RenderStatus.policy, "wrote more than 64 MB")
    oom = classify(outcome(exit_code=137, oom_killed=True), video_ok=False)
    assert oom.status is RenderStatus.oom
    infra = classify(outcome(infra_error="docker failed", policy_violation="x"), video_ok=False)
    assert infra.status is RenderStatus.infra_error


def test_container_start_failure_is_infra():
    c = classify(outcome(exit_code=125, stderr_tail="docker: Error response from daemon"), video_ok=False)
    assert c.status is RenderStatus.infra_error


def test_a_timeout_names_the_limit_set_not_the_time_it_took_to_kill():
    late = outcome(timed_out=True, exit_code=None, signal=9, wall_s=2.7)
    assert classify(late, False, wall_limit_s=0.3).message == "render did not finish within 0.3 s"
    assert classify(late, False, wall_limit_s=180.0).message == "render did not finish within 180 s"
