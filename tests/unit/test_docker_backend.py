"""The Docker backend's container settings and the backend choice, without an engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from c2v.errors import ConfigError, SandboxUnavailable
from c2v.models import SandboxLimits
from sandbox import backends
from sandbox.base import INSIDE_WORKDIR
from sandbox.docker import LABEL, DockerBackend
from sandbox.quota import DiskWatch, disk_usage


def test_container_is_hardened(tmp_path: Path) -> None:
    limits = SandboxLimits(wall_s=30, memory_mb=1024, processes=64, tmp_mb=100, cpus=1.5)
    opts = DockerBackend(image="c2v-sandbox:test", runtime="").container_options(
        tmp_path, {"HOME": INSIDE_WORKDIR}, limits, {"c2v.case": "k", "c2v.section": "s1"}
    )
    assert opts["network_mode"] == "none"
    assert opts["read_only"] is True
    assert opts["cap_drop"] == ["ALL"]
    assert opts["security_opt"] == ["no-new-privileges"]
    assert opts["init"] is True and opts["detach"] is True
    assert opts["pids_limit"] == 64
    assert opts["mem_limit"] == opts["memswap_limit"] == 1024 * 1024 * 1024
    assert opts["nano_cpus"] == 1_500_000_000
    assert set(opts["tmpfs"]) == {"/tmp", "/home/c2v"} and "size=100m" in opts["tmpfs"]["/tmp"]
    assert opts["volumes"] == {str(tmp_path): {"bind": INSIDE_WORKDIR, "mode": "rw"}}
    assert not opts["user"].startswith("0:") and opts["user"] != "root"
    assert opts["environment"] == {"HOME": INSIDE_WORKDIR}
    assert opts["labels"][LABEL] == "1" and opts["labels"]["c2v.section"] == "s1"
    assert int(opts["labels"]["c2v.deadline"]) > 0
    assert opts["log_config"]["Config"]["max-size"] == "1m"
    assert "runtime" not in opts


def test_runtime_setting_is_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C2V_DOCKER_RUNTIME", "runsc")
    opts = DockerBackend(image="x:y").container_options(tmp_path, {}, SandboxLimits(), {})
    assert opts["runtime"] == "runsc"


class _Unavailable:
    name = "docker"
    python = "/opt/c2v/bin/python"

    def unavailable_reason(self) -> str:
        return "the Docker engine does not answer"


def test_auto_falls_back_to_bwrap_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    real = backends.make_backend
    monkeypatch.setattr(backends, "make_backend", lambda n: _Unavailable() if n == "docker" else real(n))
    backend, why = backends.resolve_backend("auto")
    assert backend.name == "bwrap"
    assert "bwrap" in why and "engine does not answer" in why


def test_docker_named_explicitly_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "make_backend", lambda n: _Unavailable())
    with pytest.raises(SandboxUnavailable, match="engine does not answer"):
        backends.resolve_backend("docker")


def test_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="auto"):
        backends.make_backend("firecracker")


def test_disk_usage_counts_nested_files_and_not_links(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"x" * 100_000)
    (tmp_path / "link").symlink_to("/usr")
    assert 100_000 <= disk_usage(tmp_path) < 1_000_000


def test_disk_watch_fires_once_past_the_limit(tmp_path: Path) -> None:
    fired: list[int] = []
    with DiskWatch(tmp_path, 50_000, lambda: fired.append(1)) as watch:
        (tmp_path / "big").write_bytes(b"y" * 200_000)
        import time

        deadline = time.monotonic() + 5
        while not fired and time.monotonic() < deadline:
            time.sleep(0.05)
    assert fired == [1]
    assert "work dir" in watch.exceeded


@pytest.mark.parametrize(
    ("error", "dockerd", "expected"),
    [
        (
            "Error while fetching server API version: ('Connection aborted.', "
            "FileNotFoundError(2, 'No such file or directory'))",
            "/usr/sbin/dockerd",
            "the Docker engine is not running; `make sandbox-image` starts it and builds the image",
        ),
        ("anything", None, "docker.io is not installed"),
        (
            "500 Server Error: boom\nmore",
            "/usr/sbin/dockerd",
            "the Docker engine does not answer: 500 Server",
        ),
    ],
)
def test_engine_down_reason_is_one_short_actionable_line(
    monkeypatch: pytest.MonkeyPatch, error: str, dockerd: str | None, expected: str
) -> None:
    import docker

    from sandbox import docker as docker_module

    monkeypatch.setattr(docker_module.shutil, "which", lambda _name: dockerd)
    reason = docker_module._engine_down_reason(docker.errors.DockerException(error))
    assert reason.startswith(expected)
    assert "\n" not in reason and "FileNotFoundError" not in reason and len(reason) < 120


def test_auto_fallback_line_is_short(monkeypatch: pytest.MonkeyPatch) -> None:
    class _NotRunning(_Unavailable):
        def unavailable_reason(self) -> str:
            return "the Docker engine is not running; `make sandbox-image` starts it and builds the image"

    real = backends.make_backend
    monkeypatch.setattr(backends, "make_backend", lambda n: _NotRunning() if n == "docker" else real(n))
    _backend, why = backends.resolve_backend("auto")
    assert why.startswith("sandbox: bwrap (Docker not used: the Docker engine is not running")
    assert len(why) < 140
