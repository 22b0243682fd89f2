"""``c2v doctor``: can this machine make a video, and with which providers?

One table: for every provider (Code2Video's names, the entries of ``api_config.json`` and
``offline``) whether its key is present, where it came from, and whether its endpoint
answers within a short timeout; then whether Manim, LaTeX, dvisvgm, ffmpeg, PyAV, the
bubblewrap sandbox and Ray are usable. The exit code is 1 when the selected provider
(``--api``) or a tool every render needs cannot work, else 0. Keys are never shown.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from c2v.app.options import api_config_option
from c2v.errors import C2VError, ConfigError
from c2v.llm.offline import bundled_transcripts
from c2v.llm.registry import make_llm
from c2v.llm.remote import ProbeResult, RemoteLLM
from c2v.llm.settings import (
    PRESETS,
    ProviderKind,
    ProviderSettings,
    canonical_name,
    configured_names,
    require_usable,
    resolve_provider,
)
from c2v.review.fonts import scripts_available


class CheckStatus(StrEnum):
    """A row's verdict, as the table shows it."""

    ok = "ok"
    fail = "FAIL"
    skip = "-"


OK, FAIL, SKIP = CheckStatus.ok, CheckStatus.fail, CheckStatus.skip


@dataclass
class Row:
    component: str
    key: str
    status: CheckStatus
    detail: str
    blocking: bool = False  # a failure here makes the exit code non-zero


def _provider_row(name: str, selected: str, config: Path | None, timeout_s: float) -> Row:
    label = f"{name} (selected)" if name == selected else name
    is_selected = name == selected
    try:
        settings = resolve_provider(name, config)
    except ConfigError as exc:
        return Row(label, "", FAIL if is_selected else SKIP, _short(exc, name), blocking=is_selected)
    if settings.kind is ProviderKind.offline:
        topics = ", ".join(t.topic for t in bundled_transcripts())
        return Row(label, "not needed", OK, f"replays bundled transcripts: {topics}")
    key = f"present ({settings.key_source})" if settings.api_key is not None else "missing"
    preset = PRESETS.get(name)
    if settings.api_key is None and preset is not None and not preset.needs_key:
        key = "not needed"
    try:
        require_usable(settings)
    except ConfigError as exc:
        return Row(label, key, FAIL if is_selected else SKIP, _short(exc, name), blocking=is_selected)
    where = f"{_describe(settings)}: "
    result = _probe(settings, timeout_s)
    return Row(label, key, OK if result.ok else FAIL, where + result.detail, blocking=is_selected)


def _short(exc: ConfigError, name: str) -> str:
    """A configuration error without the provider's name, which the row already shows."""
    return str(exc).removeprefix(f"provider {name!r} ").removeprefix("has ").removeprefix("is ")


def _describe(settings: ProviderSettings) -> str:
    kind = {
        ProviderKind.azure: "Azure OpenAI",
        ProviderKind.openai: "OpenAI API" if settings.base_url is None else "OpenAI-compatible",
        ProviderKind.anthropic: "Azure AI Foundry" if settings.is_foundry else "Anthropic API",
        ProviderKind.gemini: "Gemini API",
    }.get(settings.kind, settings.kind.value)
    host = f" at {settings.base_url}" if settings.base_url else ""
    return f"{kind}{host}, model {settings.model}"


def _probe(settings: ProviderSettings, timeout_s: float) -> ProbeResult:
    client = make_llm(settings, "planner")
    if not isinstance(client, RemoteLLM):
        return ProbeResult(True, "no endpoint")
    try:
        return client.probe(timeout_s)
    except C2VError as exc:
        return ProbeResult(False, str(exc))


def _tool(name: str, command: str, version_args: list[str], blocking: bool = True) -> Row:
    path = shutil.which(command)
    if path is None:
        return Row(name, "", FAIL, f"`{command}` is not on PATH: run `make setup`", blocking=blocking)
    try:
        done = subprocess.run([path, *version_args], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Row(name, "", FAIL, f"{path} does not run: {exc}", blocking=blocking)
    first = next((ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()), "")
    first = first.split(" Copyright")[0].strip()
    return Row(name, "", OK if done.returncode == 0 else FAIL, first[:90], blocking=blocking)


def _module(name: str, module: str, blocking: bool = True) -> Row:
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        return Row(name, "", FAIL, f"cannot import {module}: {exc}", blocking=blocking)
    return Row(name, "", OK, f"{module} {getattr(loaded, '__version__', '')}".strip(), blocking=blocking)


def _fonts() -> Row:
    """Which scripts some installed font can draw; Chinese needs fonts-noto-cjk."""
    scripts = scripts_available()
    missing = [name for name, ok in scripts.items() if not ok]
    if missing:
        hint = (
            "install fonts-noto-cjk (`make setup`)"
            if "CJK (Chinese/Japanese)" in missing
            else "install a font"
        )
        return Row(
            "fonts", "", FAIL, f"no font for {', '.join(missing)}: text in it renders as boxes; {hint}"
        )
    return Row("fonts", "", OK, "CJK, Hangul, Cyrillic and Greek text can be drawn")


def _sandbox() -> Row:
    from sandbox.backends import make_backend  # noqa: PLC0415 - imports Manim's render helpers

    reason = make_backend("bwrap").unavailable_reason()
    if reason is not None:
        return Row("sandbox (bubblewrap)", "", FAIL, reason, blocking=True)
    return Row("sandbox (bubblewrap)", "", OK, "namespaces work; no network, empty environment")


def _docker_sandbox() -> Row:
    from sandbox.backends import make_backend  # noqa: PLC0415

    backend = make_backend("docker")
    reason = backend.unavailable_reason()
    if reason is not None:
        # Not blocking: --sandbox auto falls back to bubblewrap.
        return Row("sandbox (docker)", "", FAIL, reason)
    image = getattr(backend, "image", "")
    return Row("sandbox (docker)", "", OK, f"engine answers, image {image}; --sandbox auto uses it")


def _ray(address: str | None) -> Row:
    import ray  # noqa: PLC0415 - heavy; only when checked

    from cluster.runtime import ensure_ray  # noqa: PLC0415

    started = time.monotonic()
    try:
        resources = ensure_ray(address)
    except C2VError as exc:
        return Row("Ray", "", FAIL, str(exc), blocking=True)
    finally:
        if ray.is_initialized():
            ray.shutdown()
    where = address or "a local instance"
    cpus = resources.get("CPU", 0)
    took = time.monotonic() - started
    return Row("Ray", "", OK, f"ray {ray.__version__}: started {where}, {cpus:g} CPUs ({took:.1f} s)")


def system_rows(ray_address: str | None) -> list[Row]:
    checks: list[Callable[[], Row]] = [
        lambda: _module("Manim", "manim"),
        lambda: _tool("LaTeX", "latex", ["--version"]),
        lambda: _tool("dvisvgm", "dvisvgm", ["--version"]),
        lambda: _tool("ffmpeg", "ffmpeg", ["-version"]),
        lambda: _tool("XeLaTeX (Chinese in Tex)", "xelatex", ["--version"], blocking=False),
        _fonts,
        lambda: _module("PyAV", "av"),
        _sandbox,
        _docker_sandbox,
        lambda: _ray(ray_address),
    ]
    return [check() for check in checks]


def run_doctor(
    api: str, config: Path | None, timeout_s: float, ray_address: str | None, console: Console
) -> int:
    """Print the table; return the exit code."""
    selected = canonical_name(api)
    try:
        names = configured_names(config)
    except ConfigError as exc:
        console.print(f"c2v doctor: {exc}")
        return 2
    if selected not in names:
        names.insert(0, selected)
    with ThreadPoolExecutor(max_workers=8) as pool:
        provider_rows = list(pool.map(lambda n: _provider_row(n, selected, config, timeout_s), names))
    rows = provider_rows + system_rows(ray_address)
    table = Table(title="c2v doctor", show_lines=False)
    for column in ("component", "key", "status", "details"):
        table.add_column(column)
    styles = {OK: "green", FAIL: "bold red", SKIP: "dim"}
    for row in rows:
        table.add_row(row.component, row.key, f"[{styles[row.status]}]{row.status}[/]", row.detail)
    console.print(table)
    failed = [r.component for r in rows if r.blocking and r.status is FAIL]
    if failed:
        console.print(f"not ready: {', '.join(failed)}")
        return 1
    console.print(f"ready: `c2v generate TOPIC --api {selected}` can run here")
    return 0


@click.command()
@click.option("--api", "--API", "api", default="offline", show_default=True, help="The provider to check.")
@api_config_option
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 120),
    default=5.0,
    show_default=True,
    help="Seconds each provider endpoint may take to answer.",
)
@click.option("--ray-address", envvar="RAY_ADDRESS", default=None, help="Check joining this Ray cluster.")
def doctor(api: str, api_config: Path | None, timeout: float, ray_address: str | None) -> None:
    """Check providers (keys, endpoints) and the render toolchain; exit 1 if --api cannot work."""
    code = run_doctor(api, api_config, timeout, ray_address, Console())
    if code:
        sys.exit(code)


def register(cli: click.Group) -> None:
    cli.add_command(doctor)
