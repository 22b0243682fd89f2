"""Plots for the report, drawn with matplotlib as SVG and embedded as data URIs (no files, no server).

A data URI in an ``<img>`` keeps each plot's element ids to itself, so many plots can share
one page.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display: render to memory only

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

_SIZE = (6.0, 2.6)
#: DejaVu first, then the Noto CJK fonts that setup.sh installs: a Chinese topic's name is drawn, not boxes.
#: A list of families is matplotlib's per-glyph fallback; a missing family is skipped.
matplotlib.rcParams["font.family"] = ["DejaVu Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "sans-serif"]


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue().encode("utf-8")).decode("ascii")


def stacked_bars(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], unit: str) -> str:
    """Horizontal bars, one per label, stacked by series (tokens in/out, seconds per stage)."""
    height = max(_SIZE[1], 0.9 + 0.32 * len(labels)) + (0.4 if len(series) > 1 else 0.0)
    fig, ax = plt.subplots(figsize=(_SIZE[0], height))
    left = [0.0] * len(labels)
    for name, values in series.items():
        ax.barh(list(labels), list(values), left=left, label=name)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(unit, fontsize=9)
    ax.tick_params(labelsize=8)
    if len(series) > 1:
        ax.legend(fontsize=8, ncols=min(4, len(series)), loc="upper center", bbox_to_anchor=(0.5, -0.22))
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def grouped_bars(
    title: str,
    groups: Sequence[str],
    series: Mapping[str, Sequence[float]],
    unit: str,
    top: float | None = None,
) -> str:
    """Vertical bars side by side per group (accuracy per stage per topic, AES per dimension)."""
    fig, ax = plt.subplots(figsize=(_SIZE[0], _SIZE[1] + 0.5))
    width = 0.8 / max(1, len(series))
    for k, (name, values) in enumerate(series.items()):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(groups))]
        ax.bar(xs, list(values), width=width, label=name)
    ax.set_xticks(range(len(groups)), [g if len(g) <= 18 else g[:17] + "…" for g in groups], fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit, fontsize=9)
    ax.tick_params(labelsize=8)
    if top is not None:
        ax.set_ylim(0, top)
    ax.legend(fontsize=8, ncols=min(4, len(series)), loc="upper center", bbox_to_anchor=(0.5, -0.14))
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)
