"""Hostile Manim scenes against the real backends (bubblewrap and Docker), through ``render_scene``.

Every scene here is a real scene file (``from manim import *``, ``class Section1(Scene)``)
with an attack in ``construct`` or at module level. Each test is built so that a leak
makes it fail: a listener that accepts a connection, a host file that appears, a secret
that shows up in the result, a marked process that survives, and so on. Where "nothing
happened" could also mean "the attack never ran", the scene reports that it got to the
end (a probe marker in its error) or a watcher sees its processes while they live.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

import sandbox
from c2v.models import RenderRequest, RenderStatus, SandboxLimits
from sandbox.base import TAIL_BYTES, SandboxBackend
from sandbox.bwrap import BwrapBackend
from sandbox.render import RenderOutput, render_scene

from .conftest import ProcessWatch, RenderFn, record_row, wait_until_gone

pytestmark = pytest.mark.security

PROJECT_DIR = Path(sandbox.__file__).resolve().parents[1]
NOBODY = 65534  # an unprivileged host user, to run c2v itself without root
WIDTH, HEIGHT = 854, 480


def scene(body: str, **subs: object) -> str:
    """A scene file from a dedented template; ``__NAME__`` placeholders are filled with repr()."""
    code = textwrap.dedent(body).lstrip()
    for name, value in subs.items():
        code = code.replace(f"__{name.upper()}__", repr(value))
    assert not re.search(r"__[A-Z]+__", code), f"unfilled placeholder in:\n{code}"
    return code


def decodes_as_video(data: bytes) -> tuple[int, int] | None:
    """Width and height when ``data`` alone (no siblings, no references) is an MP4 video."""
    try:
        with av.open(io.BytesIO(data), format="mp4") as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            return stream.width, stream.height
    except (av.error.FFmpegError, OSError, ValueError):
        return None


@contextlib.contextmanager
def host_file(path: Path, content: bytes) -> Iterator[Path]:
    """Create a host file the sandbox must not see; always removed afterwards."""
    assert not path.exists(), path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


# --- sanity -------------------------------------------------------------------------------
BENIGN = """
from manim import *

class Section1(Scene):
    def construct(self):
        self.play(Create(Circle()), run_time=0.5)
"""


@pytest.fixture(scope="module")
def benign(sandbox_backend: SandboxBackend) -> RenderOutput:
    """A real render of a harmless scene (rendered once per module)."""
    started = time.monotonic()
    out = render_scene(
        RenderRequest(
            case_id="security-benign",
            section_id="s1",
            scene_name="Section1",
            code=scene(BENIGN),
            tier="l",
            orientation="landscape",
            limits=SandboxLimits(wall_s=60),
        ),
        sandbox_backend,
    )
    record_row(
        "sanity: benign scene", sandbox_backend.name, out.result.status.value, time.monotonic() - started
    )
    return out


@pytest.fixture(scope="module")
def benign_video(benign: RenderOutput) -> bytes:
    """A valid 854x480 video, used as a decoy host file by the output-swap attacks."""
    assert benign.result.status is RenderStatus.ok, benign.result
    assert benign.video is not None
    return benign.video


def test_benign_scene_renders_ok(benign: RenderOutput) -> None:
    res = benign.result
    assert res.status is RenderStatus.ok, res
    assert (res.width, res.height) == (WIDTH, HEIGHT)
    assert res.video_duration_s is not None and res.video_duration_s > 0
    assert benign.video is not None
    assert decodes_as_video(benign.video) == (WIDTH, HEIGHT)


# --- 1. network -------------------------------------------------------------------------------
NETWORK = """
import socket
from manim import *

TARGETS = __TARGETS__
ABSTRACT = __ABSTRACT__

class Section1(Scene):
    def construct(self):
        leaks, refused = [], []
        for host, port in TARGETS:
            try:
                with socket.create_connection((host, port), timeout=3) as s:
                    s.sendall(b"LEAK")
                leaks.append(f"tcp {host}:{port}")
            except OSError as exc:
                refused.append(f"tcp {host}:{port}: {exc}")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(3)
                s.connect("\\0" + ABSTRACT)
                s.sendall(b"LEAK")
            leaks.append("abstract unix socket")
        except OSError as exc:
            refused.append(f"abstract unix: {exc}")
        try:
            socket.getaddrinfo("example.com", 80)
            leaks.append("dns")
        except OSError as exc:
            refused.append(f"dns: {exc}")
        if leaks:
            print("NETWORK LEAKS:", leaks, flush=True)
            self.play(Create(Square()), run_time=0.3)  # a leak must not look like a failure
        else:
            raise RuntimeError("NETPROBE all blocked: " + "; ".join(refused))
"""


def test_network_is_unreachable(render: RenderFn, marker: str) -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as abstract,
    ):
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        abstract.bind("\0" + marker)
        abstract.listen(8)
        code = scene(
            NETWORK,
            targets=[("127.0.0.1", port), ("localhost", port), ("10.255.255.1", 80)],
            abstract=marker,
        )
        r = render("network: loopback listener, 10.255.255.1, abstract unix, dns", code)
        for sock in (listener, abstract):
            sock.settimeout(0.5)
            with pytest.raises(TimeoutError):
                conn, _ = sock.accept()
                conn.close()
    assert "NETWORK LEAKS" not in r.outcome.stdout_tail
    assert r.out.result.status is RenderStatus.code_error, r.out.result
    assert "NETPROBE all blocked" in r.out.result.message, r.out.result
    assert r.elapsed_s < 30


# --- 2. writes outside the work dir ---------------------------------------------------------------
WRITES = """
import os
from manim import *

NEW = __NEW__
EXISTING = __EXISTING__

class Section1(Scene):
    def construct(self):
        report = []
        for path in NEW:
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as fh:
                    fh.write("written by a hostile scene")
                report.append(f"wrote {path}")
            except OSError as exc:
                report.append(f"denied {path}: {type(exc).__name__}")
        for path in EXISTING:
            try:
                os.close(os.open(path, os.O_WRONLY))  # opening for write is enough to prove it
                report.append(f"WRITABLE {path}")
            except OSError as exc:
                report.append(f"denied {path}: {type(exc).__name__}")
        raise RuntimeError("WRITEPROBE " + " | ".join(report))
"""


def _snapshot(paths: list[Path]) -> dict[Path, tuple[float, int, bytes]]:
    return {p: (p.stat().st_mtime, p.stat().st_size, p.read_bytes()) for p in paths}


def test_writes_outside_workdir_do_not_reach_host(render: RenderFn, marker: str) -> None:
    site = Path(sysconfig.get_paths()["purelib"])
    new = [
        Path(tempfile.gettempdir()) / marker,
        PROJECT_DIR / marker,
        site / f"{marker}.pth",  # a .pth here would run code in every later host Python
        Path(sys.base_prefix) / marker,
        Path.home() / marker,
        Path("/etc") / marker,
        Path("/usr/local/bin") / marker,
    ]
    existing = [
        p
        for p in (
            PROJECT_DIR / "pyproject.toml",
            Path(sandbox.__file__),
            Path("/etc/passwd"),
            Path("/etc/hosts"),
        )
        if p.is_file()
    ]
    for p in new:
        assert not p.exists(), p
    before = _snapshot(existing)
    try:
        r = render(
            "write outside work dir: /tmp, project, site-packages, $HOME, /etc",
            scene(WRITES, new=[str(p) for p in new], existing=[str(p) for p in existing]),
        )
        appeared = [p for p in new if p.exists()]
    finally:
        for p in new:
            with contextlib.suppress(OSError):
                p.unlink()
    assert appeared == [], f"the scene created host files: {appeared}"
    assert _snapshot(existing) == before
    assert r.out.result.status is RenderStatus.code_error, r.out.result
    assert "WRITEPROBE" in r.out.result.message
    assert "WRITABLE" not in r.out.result.traceback


# --- 3. secrets in the environment ----------------------------------------------------------------
ENV_DUMP = """
import glob, os, sys
from manim import *

class Section1(Scene):
    def construct(self):
        env = dict(os.environ)
        found = {}
        for path in sorted(glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline")):
            try:
                with open(path, "rb") as fh:
                    found[path] = fh.read().replace(b"\\0", b" ").decode(errors="replace")
            except OSError as exc:
                found[path] = f"<{type(exc).__name__}>"
        hits = [f"{k}={v}" for k, v in env.items() if "KEY" in k or "sk-" in v]
        hits += [f"{p}: {t}" for p, t in found.items() if "KEY" in t or "sk-" in t]
        print("PROC DUMP", found, file=sys.stderr)
        raise RuntimeError(f"ENVDUMP hits={hits!r} env={env!r}")
"""


def test_api_keys_do_not_reach_the_scene(
    render: RenderFn, monkeypatch: pytest.MonkeyPatch, marker: str
) -> None:
    keys = {
        "OPENAI_API_KEY": f"sk-test-{secrets.token_hex(16)}",
        "GEMINI_API_KEY": f"gm-test-{secrets.token_hex(16)}",
        "ANTHROPIC_API_KEY": f"sk-ant-test-{secrets.token_hex(16)}",
        "C2V_SECRET": f"c2v-secret-{secrets.token_hex(16)}",
    }
    for k, v in keys.items():
        monkeypatch.setenv(k, v)
    r = render("env: dump os.environ and /proc/*/environ", scene(ENV_DUMP))
    res = r.out.result
    assert res.status is RenderStatus.code_error, res
    # The dump really reached the result (else "no secret" would prove nothing).
    assert "ENVDUMP hits=[]" in res.message, res.message
    assert "PYTHONDONTWRITEBYTECODE" in res.traceback
    dumped = res.model_dump_json() + r.outcome.stdout_tail + r.outcome.stderr_tail
    assert "/proc/1/environ" in r.outcome.stderr_tail
    for name, value in keys.items():
        assert value not in dumped, f"{name} leaked into the render result"


_PID1_PROBE = r"""
import json, sys, tempfile
from pathlib import Path
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from c2v.models import SandboxLimits
from sandbox.bwrap import BwrapBackend
backend = BwrapBackend()
reason = backend.unavailable_reason()
if reason:
    print(json.dumps({"skip": reason}))
    raise SystemExit(0)
script = 'for f in /proc/[0-9]*/environ; do echo "== $f"; tr "\\0" "\\n" < "$f"; done'
with tempfile.TemporaryDirectory(prefix="c2vsec-") as tmp:
    work = Path(tmp)
    out = backend.run(work, ["/bin/sh", "-c", script], {"PATH": "/usr/bin:/bin"}, SandboxLimits(wall_s=15))
print(json.dumps({"uid": __import__("os").getuid(), "stdout": out.stdout_tail, "stderr": out.stderr_tail}))
"""


@pytest.mark.skipif(
    os.geteuid() != 0,
    reason="c2v is not root here, so test_api_keys_do_not_reach_the_scene already runs unprivileged",
)
def test_api_keys_hidden_from_pid1_when_c2v_runs_unprivileged(marker: str) -> None:
    """Without root, bwrap uses a user namespace and the scene has the same uid as bwrap's
    pid-1 reaper, so it can read /proc/1/environ: the environment bwrap itself was started
    with. Run the real backend as an unprivileged user to check that holds no secrets."""
    helper = Path("/usr/bin/python3")
    if not helper.is_file() or not shutil.which("setpriv"):
        pytest.skip("needs setpriv and a system python3 to run the backend unprivileged")
    ver = subprocess.run(
        [str(helper), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    if ver.stdout.strip() != str(sys.version_info[:2]):
        pytest.skip(f"system python {ver.stdout.strip()} cannot load this venv's packages")
    secret = f"sk-test-{secrets.token_hex(16)}"
    env = {"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": secret, "GEMINI_API_KEY": secret, "C2V_MARK": marker}
    started = time.monotonic()
    proc = subprocess.run(
        [
            "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
            str(helper), "-c", _PID1_PROBE, str(PROJECT_DIR), sysconfig.get_paths()["purelib"],
        ],
        capture_output=True, text=True, env=env, cwd="/", timeout=60, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.skip(f"cannot run the backend unprivileged here: {proc.stderr.strip()[-300:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    if "skip" in report:
        pytest.skip(f"unprivileged bwrap unavailable: {report['skip']}")
    leaked = secret in report["stdout"] + report["stderr"]
    record_row(
        "env: /proc/1/environ, c2v unprivileged",
        "bwrap (as uid 65534)",
        "LEAKED" if leaked else "contained",
        time.monotonic() - started,
    )
    assert report["uid"] == NOBODY
    # The probe could read environs (its own at least), so an absent secret means something.
    assert "== /proc/1/environ" in report["stdout"]
    assert "PATH=/usr/bin:/bin" in report["stdout"]
    assert secret not in report["stdout"] + report["stderr"], "bwrap's pid 1 exposes the host environment"
    assert marker not in report["stdout"] + report["stderr"]


# --- 4. reading host secrets ---------------------------------------------------------------------
READS = """
import os, sys
from manim import *

TARGETS = __TARGETS__

class Section1(Scene):
    def construct(self):
        report = []
        for path in TARGETS:
            try:
                if os.path.isdir(path):
                    report.append(f"{path}: LISTED {os.listdir(path)!r}")
                else:
                    with open(path, "rb") as fh:
                        report.append(f"{path}: READ {fh.read(4096)!r}")
            except OSError as exc:
                report.append(f"{path}: {type(exc).__name__}")
        print("\\n".join(report), file=sys.stderr)
        raise RuntimeError("READPROBE " + " | ".join(report))
"""


def test_host_secrets_are_unreadable(render: RenderFn, marker: str) -> None:
    secret = f"sk-test-{secrets.token_hex(16)}-{marker}"
    payload = json.dumps({"openai_api_key": secret}).encode()
    project_secret = PROJECT_DIR / f"api_config.{marker}.json"
    home_secret = Path.home() / f".c2v-{marker}" / "api_config.json"
    shadow = Path("/etc/shadow")
    shadow_lines = [
        line
        for line in (shadow.read_text(errors="replace").splitlines() if os.access(shadow, os.R_OK) else [])
        if line.strip()
    ]
    targets = [
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/sudoers",
        str(Path.home() / ".ssh"),
        str(Path.home() / ".ssh" / "id_rsa"),
        "/root/.ssh/id_ed25519",
        str(project_secret),
        str(home_secret),
        str(PROJECT_DIR),
        str(Path.home()),
        "/proc/1/root" + str(project_secret),
    ]
    try:
        with host_file(project_secret, payload), host_file(home_secret, payload):
            r = render("read /etc/shadow, ~/.ssh, api_config.json", scene(READS, targets=targets))
    finally:
        with contextlib.suppress(OSError):
            home_secret.parent.rmdir()
    res = r.out.result
    dumped = res.model_dump_json() + r.outcome.stderr_tail + r.outcome.stdout_tail
    assert res.status is RenderStatus.code_error, res
    assert "READPROBE" in res.message
    assert "READPROBE" in r.outcome.stderr_tail or "/etc/shadow:" in r.outcome.stderr_tail
    assert secret not in dumped
    for line in shadow_lines:
        assert line not in dumped, "a line of the host's /etc/shadow reached the result"


# --- 5. never-ending scene ------------------------------------------------------------------------
FOREVER = """
import subprocess
from manim import *

# marker: __MARKER__

class Section1(Scene):
    def construct(self):
        subprocess.Popen([__MARKER__, "100000"], executable="/bin/sleep", start_new_session=True)
        while True:
            pass
"""


def test_never_ending_scene_times_out(render: RenderFn, marker: str, watch: ProcessWatch) -> None:
    wall = 6.0
    r = render(
        "never-ending scene (busy loop + sleeper)", scene(FOREVER, marker=marker), SandboxLimits(wall_s=wall)
    )
    assert r.out.result.status is RenderStatus.timeout, r.out.result
    assert r.elapsed_s < wall + 5
    assert r.out.result.wall_s < wall + 5
    assert watch.started_by_scene(), "the scene's sleeper was never seen: the check below would be vacuous"
    assert wait_until_gone(marker) == {}


SPIN = """
import threading
from manim import *

def spin():
    x = 0
    while True:
        x += 1

class Section1(Scene):
    def construct(self):
        for _ in range(4):
            threading.Thread(target=spin, daemon=True).start()
        spin()
"""


def test_cpu_spin_past_the_timeout_is_stopped(render: RenderFn) -> None:
    wall = 5.0
    r = render("CPU spin, 5 threads, past the timeout", scene(SPIN), SandboxLimits(wall_s=wall))
    assert r.out.result.status is RenderStatus.timeout, r.out.result
    assert r.elapsed_s < wall + 5


SLEEP_FOREVER = """
import time
from manim import *

class Section1(Scene):
    def construct(self):
        time.sleep(10 ** 6)
"""


def test_sleeping_forever_times_out(render: RenderFn) -> None:
    wall = 4.0
    r = render("sleep forever", scene(SLEEP_FOREVER), SandboxLimits(wall_s=wall))
    assert r.out.result.status is RenderStatus.timeout, r.out.result
    assert r.elapsed_s < wall + 5


# --- 5b. filling the disk ------------------------------------------------------------------------
FILL_DISK = """
import os
from manim import *

class Section1(Scene):
    def construct(self):
        chunk = os.urandom(4 * 1024 * 1024)
        n = 0
        while True:  # many files, each under the per-file limit
            with open(f"/sandbox/fill-{n}.bin", "wb") as fh:
                for _ in range(4):
                    fh.write(chunk)
            n += 1
"""


def test_filling_the_disk_is_stopped(render: RenderFn, tmp_path: Path, marker: str) -> None:
    limits = SandboxLimits(wall_s=60, workdir_mb=128, file_mb=32)
    free_before = shutil.disk_usage(tmp_path).free
    r = render("fill the disk (workdir_mb=128)", scene(FILL_DISK), limits)
    res = r.out.result
    assert res.status is RenderStatus.policy, res
    assert "128 MB" in res.message
    assert r.elapsed_s < 30, "the quota did not stop the scene promptly"
    # The work dir went away with the render: the host got its space back.
    assert list((tmp_path / f"scratch-{marker}").iterdir()) == []
    assert shutil.disk_usage(tmp_path).free > free_before - 64 * 1024 * 1024


# --- 6. background process meant to outlive the render ------------------------------------------
OUTLIVE = """
import os, signal, subprocess, time
from manim import *

class Section1(Scene):
    def construct(self):
        subprocess.Popen([__MARKER__ + "-popen", "100000"], executable="/bin/sleep", start_new_session=True)
        if os.fork() == 0:  # classic daemon: fork, setsid, fork, ignore signals, exec
            os.setsid()
            if os.fork() == 0:
                for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_IGN)
                os.execv("/bin/sleep", [__MARKER__ + "-daemon", "100000"])
            os._exit(0)
        time.sleep(0.5)
        self.play(Create(Square()), run_time=0.3)
"""


def test_background_process_does_not_outlive_render(
    render: RenderFn, marker: str, watch: ProcessWatch
) -> None:
    r = render("background sleeper + setsid daemon", scene(OUTLIVE, marker=marker), SandboxLimits(wall_s=60))
    # The scene itself is fine; what matters is that nothing it started survives it.
    assert r.out.result.status is RenderStatus.ok, r.out.result
    seen = " ".join(watch.started_by_scene())
    assert f"{marker}-popen" in seen and f"{marker}-daemon" in seen, seen
    assert wait_until_gone(marker) == {}


# --- 7. fork bomb ------------------------------------------------------------------------------------
FORK_BOMB = """
import os, time
from manim import *

class Section1(Scene):
    def construct(self):
        root = os.getpid()
        refused = 0
        for _ in range(10):  # at most 2**10 processes even with no limit at all
            try:
                os.fork()
            except OSError:
                refused += 1
        if os.getpid() != root:
            try:
                os.execv("/bin/sleep", [__MARKER__, "100000"])
            finally:
                os._exit(0)
        time.sleep(1)
        raise RuntimeError(f"FORKBOMB refused={refused}")
"""


def test_fork_bomb_is_contained(render: RenderFn, marker: str, watch: ProcessWatch) -> None:
    limits = SandboxLimits(wall_s=20, processes=64)
    r = render("fork bomb (2**10, processes=64)", scene(FORK_BOMB, marker=marker), limits)
    res = r.out.result
    assert res.status in {RenderStatus.code_error, RenderStatus.killed, RenderStatus.timeout}, res
    if res.status is RenderStatus.code_error and "FORKBOMB" in res.message:
        refused = int(re.search(r"refused=(\d+)", res.message).group(1))  # type: ignore[union-attr]
        assert refused > 0, "no fork was ever refused: the process limit did not apply"
    assert watch.started_by_scene(), "no fork-bomb child was ever seen"
    assert watch.max_alive <= limits.processes, watch.max_alive
    assert wait_until_gone(marker) == {}
    # The host can still start processes.
    assert subprocess.run(["/bin/true"], check=False).returncode == 0
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    assert os.waitpid(pid, 0)[1] >> 8 == 7


# --- 8. memory ---------------------------------------------------------------------------------------
MEMORY = """
from manim import *

class Section1(Scene):
    def construct(self):
        hog = []
        while True:
            hog.append(bytearray(64 * 1024 * 1024))
"""


def test_unbounded_allocation_is_oom(render: RenderFn) -> None:
    r = render(
        "unbounded allocation (memory_mb=1024)", scene(MEMORY), SandboxLimits(wall_s=30, memory_mb=1024)
    )
    assert r.out.result.status is RenderStatus.oom, r.out.result
    assert r.elapsed_s < 30


# --- 9. swapping the output video for a link to the host -----------------------------------------
SWAP = """
import atexit, glob, os, shutil, sys
from manim import *

VARIANT = __VARIANT__
TARGET = __TARGET__


def _swap():
    # Runs after Manim wrote the final video, just before the process exits.
    videos = [p for p in glob.glob("/sandbox/media/videos/**/section.mp4", recursive=True)
              if "partial_movie_files" not in p]
    try:
        video = videos[0]
        folder = os.path.dirname(video)
        if VARIANT == "file-symlink":
            os.unlink(video)
            os.symlink(TARGET, video)
        elif VARIANT == "dir-symlink":
            shutil.rmtree(folder)
            os.symlink(TARGET, folder)
        elif VARIANT == "videos-symlink":
            os.rename("/sandbox/media/videos", "/sandbox/media/videos.real")
            os.symlink(TARGET, "/sandbox/media/videos")
        elif VARIANT == "hardlink":
            os.unlink(video)
            os.link(TARGET, video)
        elif VARIANT == "ffconcat":
            # Not a link at all: a concat playlist that makes the host's ffmpeg open a
            # sibling, which is a link out of the sandbox.
            os.symlink(TARGET, os.path.join(folder, "host.mp4"))
            with open(video, "w") as fh:
                fh.write("ffconcat version 1.0\\nfile 'host.mp4'\\n")
        print(f"SWAP-DONE {VARIANT}", file=sys.stderr, flush=True)
    except OSError as exc:
        print(f"SWAP-FAILED {VARIANT}: {exc!r}", file=sys.stderr, flush=True)


atexit.register(_swap)


class Section1(Scene):
    def construct(self):
        self.play(Create(Square()), run_time=0.5)
"""

_SWAP_VARIANTS = [
    pytest.param("file-symlink", id="file-symlink"),
    pytest.param("dir-symlink", id="dir-symlink"),
    pytest.param("videos-symlink", id="videos-symlink"),
    pytest.param("hardlink", id="hardlink"),
    # A playlist named section.mp4 would make a format-guessing probe open a host file.
    pytest.param("ffconcat", id="ffconcat"),
]


@pytest.mark.parametrize("variant", _SWAP_VARIANTS)
def test_output_swapped_for_host_link(
    render: RenderFn, marker: str, benign_video: bytes, variant: str
) -> None:
    decoy_dir = Path.home() / f".c2v-{marker}"
    decoy = decoy_dir / "section.mp4"  # a valid video, so following the link would look "ok"
    target = {
        "file-symlink": str(decoy),
        "dir-symlink": str(decoy_dir),
        "videos-symlink": str(decoy_dir),
        "hardlink": "/etc/passwd",
        "ffconcat": str(decoy),
    }[variant]
    host_bytes = Path(target).read_bytes() if variant == "hardlink" else benign_video
    try:
        with host_file(decoy, benign_video):
            r = render(f"swap output for host link ({variant})", scene(SWAP, variant=variant, target=target))
    finally:
        with contextlib.suppress(OSError):
            decoy_dir.rmdir()
    res = r.out.result
    stderr = r.outcome.stderr_tail
    # The swap itself happened inside the sandbox (only a hard link across mounts can't).
    if variant == "hardlink":
        assert "SWAP-DONE" in stderr or "SWAP-FAILED" in stderr, stderr[-2000:]
    else:
        assert f"SWAP-DONE {variant}" in stderr, stderr[-2000:]
    if res.status is RenderStatus.ok:
        assert r.out.video is not None
        assert r.out.video != host_bytes, "the host file was returned as the video"
        assert host_bytes not in r.out.video
        # "ok" means the returned bytes are themselves the video, with nothing outside them.
        assert decodes_as_video(r.out.video) == (WIDTH, HEIGHT), r.out.video[:200]
    else:
        assert r.out.video is None


# --- 10. flooding stdout/stderr ------------------------------------------------------------------
FLOOD = """
import sys, time
from manim import *

class Section1(Scene):
    def construct(self):
        chunk = (b"x" * 1023 + b"\\n") * 1024  # 1 MiB
        started, sent = time.monotonic(), 0
        while sent < 400 * 1024 * 1024 and time.monotonic() - started < 8:
            sys.stdout.buffer.write(chunk)
            sys.stderr.buffer.write(chunk)
            sent += 2 * len(chunk)
        sys.stdout.flush()
        raise RuntimeError(f"FLOOD sent={sent}")
"""


def test_output_flood_stays_bounded(render: RenderFn) -> None:
    wall = 20.0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = render("stdout/stderr flood (~400 MiB)", scene(FLOOD), SandboxLimits(wall_s=wall))
    rss_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    res = r.out.result
    assert res.status in {RenderStatus.code_error, RenderStatus.timeout}, res
    assert r.elapsed_s < wall + 5
    assert len(r.outcome.stderr_tail) <= TAIL_BYTES
    assert len(r.outcome.stdout_tail) <= TAIL_BYTES
    assert len(res.stderr_tail) <= TAIL_BYTES
    assert rss_growth_mb < 256, f"the host process grew by {rss_growth_mb:.0f} MiB reading the flood"
    if res.status is RenderStatus.code_error:
        sent = int(re.search(r"FLOOD sent=(\d+)", res.message).group(1))  # type: ignore[union-attr]
        assert sent >= 64 * 1024 * 1024, f"the scene only flooded {sent} bytes"


def test_a_virtualenv_under_tmp_is_still_visible(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A checkout in /tmp holds the venv there; the sandbox's private /tmp must not hide it."""
    from c2v.models import SandboxLimits

    monkeypatch.setattr(sys, "prefix", "/tmp/c2v-ci-checkout/.venv")
    cmd = BwrapBackend().command(tmp_path, ["true"], {}, SandboxLimits())
    tmpfs_at = cmd.index("/tmp")
    assert cmd[tmpfs_at - 1] == "--tmpfs"
    assert tmpfs_at < cmd.index("/tmp/c2v-ci-checkout/.venv"), (
        "the private /tmp must come before binds under it"
    )
