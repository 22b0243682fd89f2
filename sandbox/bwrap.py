"""The bubblewrap backend: the embedded default on Linux.

The sandbox sees a read-only, whitelisted view of the host (system dirs, the Python
interpreter and virtualenv, TeX and font caches), its own work dir as the only writable
place, private /tmp, /proc and /dev, and no network. Nothing from the host environment is
passed in. When c2v runs as root, the scene runs as ``nobody`` (via setpriv inside the
sandbox), with a uid of its own, so that file permissions and RLIMIT_NPROC apply to it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO

from c2v.models import SandboxLimits
from sandbox.base import INSIDE_WORKDIR, TAIL_BYTES, ProcessOutcome, chown_tree
from sandbox.quota import DiskWatch

#: When c2v runs as root, each sandbox runs as its own unprivileged uid from this range,
#: so RLIMIT_NPROC (counted per uid) bounds one scene without starving its neighbours.
SANDBOX_UID_BASE = 200_000
SANDBOX_UID_SPAN = 100_000
_SYSTEM_DIRS = ("/usr", "/etc")
_OPTIONAL_DIRS = ("/var/lib/texmf", "/var/cache/fontconfig", "/usr/share/fonts")
_MASKED_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/sudoers")
_MERGED_USR = ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
#: bwrap's own environment: none. ``--clearenv`` only clears what the scene inherits, but
#: bwrap's pid-1 reaper keeps the environment bwrap was started with, and a scene with the
#: same uid (always, when c2v does not run as root) can read it at /proc/1/environ.
_BWRAP_ENV: dict[str, str] = {}


def _python_dirs() -> list[Path]:
    """The interpreter's install prefix and the virtualenv it runs in (if not under /usr)."""
    dirs = {Path(sys.base_prefix).resolve(), Path(sys.prefix).absolute()}
    return sorted(d for d in dirs if d != Path("/usr") and Path("/usr") not in d.parents)


class _Tail:
    """Keep the last ``limit`` bytes of a stream without holding a flood in memory."""

    def __init__(self, stream: IO[bytes], limit: int = TAIL_BYTES) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._limit = limit
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes]) -> None:
        while chunk := stream.read(8192):
            self._chunks.append(chunk)
            self._size += len(chunk)
            while self._size - len(self._chunks[0]) >= self._limit:
                self._size -= len(self._chunks.popleft())

    def text(self) -> str:
        self._thread.join(timeout=5)
        data = b"".join(self._chunks)[-self._limit :]
        return data.decode("utf-8", errors="replace")


class BwrapBackend:
    name = "bwrap"
    #: The host virtualenv's python (not its resolved target), so site-packages is found.
    python = str(Path(sys.prefix) / "bin" / "python")

    def __init__(self, bwrap: str | None = None) -> None:
        self._bwrap = bwrap or shutil.which("bwrap") or ""

    def unavailable_reason(self) -> str | None:
        if not self._bwrap:
            return "bubblewrap is not installed: run `sudo apt-get install bubblewrap` (or `make setup`)"
        if os.geteuid() == 0 and not shutil.which("setpriv"):
            return "setpriv (util-linux) is missing: run `sudo apt-get install util-linux`"
        probe = subprocess.run(
            [self._bwrap, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--", "/bin/true"],
            capture_output=True,
            check=False,
            timeout=20,
        )
        if probe.returncode != 0:
            err = probe.stderr.decode(errors="replace").strip().splitlines()
            return f"bubblewrap cannot create namespaces here: {err[-1] if err else probe.returncode}"
        return None

    def command(
        self,
        workdir: Path,
        argv: list[str],
        env: dict[str, str],
        limits: SandboxLimits,
        uid: int | None = None,
    ) -> list[str]:
        """The full bwrap command line (exposed for tests and for `c2v doctor`)."""
        args = [self._bwrap, "--tmpfs", "/"]
        made: set[str] = {"/"}

        def parents(path: Path) -> None:
            for parent in reversed(path.parents):
                p = str(parent)
                if p not in made:
                    made.add(p)
                    args.extend(["--perms", "0755", "--dir", p])

        for d in _SYSTEM_DIRS:
            args.extend(["--ro-bind", d, d])
            made.add(d)
        # Private /dev, /proc and /tmp first: binds below may live under /tmp (a checkout
        # there holds the virtualenv) and must land on top of the tmpfs, not under it.
        tmp_bytes = str(limits.tmp_mb * 1024 * 1024)
        args += ["--dev", "/dev", "--proc", "/proc"]
        private_tmp = "/tmp"  # noqa: S108 - the sandbox's own tmpfs, not the host's /tmp
        args += ["--perms", "1777", "--size", tmp_bytes, "--tmpfs", private_tmp]
        made.update({"/dev", "/proc", private_tmp})
        for link in _MERGED_USR:
            target = Path(link)
            if target.is_symlink():
                args.extend(["--symlink", str(target.readlink()), link])
            elif target.is_dir():
                args.extend(["--ro-bind", link, link])
        for d in _OPTIONAL_DIRS:
            if Path(d).is_dir() and not d.startswith("/usr/"):
                parents(Path(d))
                args.extend(["--ro-bind", d, d])
                made.add(d)
        for f in _MASKED_FILES:
            if Path(f).exists():
                args.extend(["--ro-bind", "/dev/null", f])
        for prefix in _python_dirs():
            parents(prefix)
            args.extend(["--ro-bind", str(prefix), str(prefix)])
            made.add(str(prefix))
        args += ["--bind", str(workdir), INSIDE_WORKDIR, "--chdir", INSIDE_WORKDIR]
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        args += ["--die-with-parent", "--new-session", "--clearenv"]
        for key, value in sorted(env.items()):
            args.extend(["--setenv", key, value])
        if os.geteuid() == 0:
            args += [
                "--cap-add",
                "CAP_SETUID,CAP_SETGID",
                "--",
                shutil.which("setpriv") or "/usr/bin/setpriv",
            ]
            uid = sandbox_uid() if uid is None else uid
            args += [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
            args += ["--inh-caps=-all", "--bounding-set=-all", "--"]
        else:
            args.append("--")
        return args + argv

    def run(
        self,
        workdir: Path,
        argv: list[str],
        env: dict[str, str],
        limits: SandboxLimits,
        labels: dict[str, str] | None = None,
    ) -> ProcessOutcome:
        uid = sandbox_uid()
        if os.geteuid() == 0:
            chown_tree(workdir, uid)
        cmd = self.command(workdir, argv, env, limits, uid)
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_BWRAP_ENV,
                preexec_fn=lambda: _apply_limits(limits),  # noqa: PLW1509 - rlimits must be set in the child
                start_new_session=True,
            )
        except OSError as exc:
            return ProcessOutcome(None, None, False, "", "", 0.0, infra_error=f"cannot start bwrap: {exc}")
        assert proc.stdout is not None and proc.stderr is not None
        out, err = _Tail(proc.stdout), _Tail(proc.stderr)
        timed_out = False
        quota = DiskWatch(workdir, limits.workdir_mb * 1024 * 1024, lambda: _kill_group(proc.pid))
        try:
            with quota:
                proc.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # This reaches bwrap only: its pid-1 is in a session of its own (--new-session).
            # --die-with-parent kills that pid-1 as bwrap dies, and with it every process in
            # the sandbox's pid namespace, however the scene detached them.
            _kill_group(proc.pid)
            proc.wait()
        wall = time.monotonic() - started
        code = proc.returncode
        return ProcessOutcome(
            exit_code=code if code is not None and code >= 0 else None,
            signal=-code if code is not None and code < 0 else None,
            timed_out=timed_out,
            stdout_tail=out.text(),
            stderr_tail=err.text(),
            wall_s=wall,
            policy_violation=quota.exceeded,
        )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def sandbox_uid() -> int:
    """The uid a scene runs as (root hosts only): distinct for concurrent renders.

    One render runs per worker process at a time, so the worker's pid picks the uid.
    """
    return SANDBOX_UID_BASE + os.getpid() % SANDBOX_UID_SPAN


def _apply_limits(limits: SandboxLimits) -> None:
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb, limits.memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb, limits.file_mb * mb))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
