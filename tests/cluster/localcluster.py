"""A real multi-node Ray cluster on this machine, started with `ray start`, for fault-tolerance tests.

Every node is its own `ray start` (raylet, agents, log monitor); the head also runs the GCS
and the dashboard (job server). Token authentication is on (``RAY_AUTH_MODE=token`` with a
fresh ``RAY_AUTH_TOKEN``), as on a production cluster.

Nothing here uses `ray stop`: it stops every Ray process of the machine, other people's
included. Each node's processes are found instead: the processes `ray start` left behind
(new processes naming this cluster's temp dir) and their descendants, and only those are
killed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
RAY = str(VENV_BIN / "ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process visible in /proc."""
    out: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out[int(entry.name)] = (ppid, cmd)
    return out


def descendants(roots: set[int]) -> set[int]:
    procs = _processes()
    found = {p for p in roots if p in procs}
    grew = True
    while grew:
        kids = {pid for pid, (ppid, _) in procs.items() if ppid in found and pid not in found}
        found |= kids
        grew = bool(kids)
    return found


@dataclass
class Node:
    name: str
    pids: set[int] = field(default_factory=set)  # what `ray start` left running for this node

    def all_pids(self) -> set[int]:
        return descendants(self.pids)

    def kill(self) -> set[int]:
        """SIGKILL every process of this node (raylet, workers, agents, their sandboxes)."""
        victims = self.all_pids()
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return victims


class LocalCluster:
    def __init__(self) -> None:
        # Short: Ray's unix sockets live under it, and socket paths are limited to 107 bytes.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="c2vrc-", dir="/tmp"))
        self.gcs_port = free_port()
        self.dashboard_port = free_port()
        self.token = uuid.uuid4().hex
        self.nodes: list[Node] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gcs_port}"

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every cluster process and client: token auth on, this venv first."""
        env = dict(os.environ)
        for name in ("RAY_ADDRESS", "RAY_API_SERVER_ADDRESS", "RAY_AUTH_TOKEN_PATH", "C2V_RENDER_POOLS"):
            env.pop(name, None)
        env.update(
            RAY_AUTH_MODE="token",
            RAY_AUTH_TOKEN=self.token,
            RAY_USAGE_STATS_ENABLED="0",
            PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            # Notice a dead node within seconds, not the default ~30 s.
            RAY_health_check_period_ms="1000",
            RAY_health_check_timeout_ms="1000",
            RAY_health_check_failure_threshold="3",
        )
        env.update(extra)
        return env

    def _ours(self) -> set[int]:
        # The Ray Client proxy the head starts names neither the temp dir nor a node's pid as
        # parent once the head is gone; it names the GCS port it serves.
        marker, gcs = str(self.temp_dir), re.compile(rf"--address=\S+:{self.gcs_port}(\s|$)")
        return {pid for pid, (_, cmd) in _processes().items() if marker in cmd or gcs.search(cmd)}

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> Node:
        before = self._ours()
        proc = subprocess.run(
            [RAY, "start", *args, "--node-name", name, "--disable-usage-stats"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"ray start for {name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        # New processes naming our temp dir, minus any an earlier node spawned meanwhile.
        earlier: set[int] = set()
        for other in self.nodes:
            earlier |= other.all_pids()
        node = Node(name, self._ours() - before - earlier)
        self.nodes.append(node)
        return node

    def start_head(self, num_cpus: int = 1) -> Node:
        return self._start(
            "head",
            [
                "--head",
                "--port",
                str(self.gcs_port),
                "--num-cpus",
                str(num_cpus),
                "--include-dashboard",
                "true",
                "--dashboard-host",
                "127.0.0.1",
                "--dashboard-port",
                str(self.dashboard_port),
                "--ray-client-server-port",
                str(free_port()),
                "--dashboard-agent-listen-port",
                str(free_port()),
                "--temp-dir",
                str(self.temp_dir),
            ],
            self.env(),
        )

    def add_worker(self, name: str, num_cpus: int, resources: str = "{}", **env: str) -> Node:
        return self._start(
            name,
            [
                "--address",
                self.address,
                "--num-cpus",
                str(num_cpus),
                "--resources",
                resources,
                "--dashboard-agent-listen-port",
                str(free_port()),
            ],
            self.env(**env),
        )

    def wait_dead(self, node: Node, timeout: float = 60) -> None:
        """Until the GCS reports ``node`` dead (it may take a few health checks)."""
        script = (
            "import ray, sys\n"
            f"ray.init(address={self.address!r}, logging_level='ERROR')\n"
            f"alive = [n for n in ray.nodes() if n['NodeName'] == {node.name!r} and n['Alive']]\n"
            "sys.exit(1 if alive else 0)\n"
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check = subprocess.run(
                [sys.executable, "-c", script], env=self.env(), capture_output=True, timeout=60, check=False
            )
            if check.returncode == 0:
                return
            time.sleep(1)
        raise TimeoutError(f"node {node.name} still alive after {timeout} s")

    def stop(self) -> None:
        victims: set[int] = set()
        for node in self.nodes:
            victims |= node.kill()
        victims |= descendants(self._ours())  # anything else still naming our temp dir
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.temp_dir, ignore_errors=True)
