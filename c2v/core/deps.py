"""Check the system tools a render needs, and say how to install what is missing."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from c2v.errors import MissingDependencyError

APT_HINT = "run `make setup` (or `sudo apt-get install {pkg}`)"


@dataclass(frozen=True)
class Dependency:
    name: str
    command: str
    package: str
    why: str


SYSTEM_DEPENDENCIES = (
    Dependency("ffmpeg", "ffmpeg", "ffmpeg", "stitching sections into one video"),
    Dependency("LaTeX", "latex", "texlive-latex-base texlive-latex-extra", "MathTex and Tex formulas"),
    Dependency("dvisvgm", "dvisvgm", "dvisvgm", "turning LaTeX output into vector shapes"),
    Dependency("bubblewrap", "bwrap", "bubblewrap", "the sandbox that runs generated code"),
)


def missing_dependencies() -> list[Dependency]:
    return [d for d in SYSTEM_DEPENDENCIES if shutil.which(d.command) is None]


def require_system_dependencies() -> None:
    missing = missing_dependencies()
    if missing:
        first = missing[0]
        names = ", ".join(d.name for d in missing)
        packages = " ".join(d.package for d in missing)
        raise MissingDependencyError(
            f"missing system dependency: {names} (needed for {first.why}); " + APT_HINT.format(pkg=packages)
        )
