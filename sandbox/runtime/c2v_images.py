"""Icon files shipped into the work dir's ``assets/`` folder, loaded as Manim mobjects (in the sandbox).

The host copies only the files a section's storyboard resolved, named ``<slug>-<hash8>.svg``
or ``.png``. A scene names one by its file name; a name whose hash part is wrong still finds
the file of the same slug, and a name with no file at all draws nothing (a warning on
stderr) rather than failing the section: an icon is decoration, never the lesson.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from manim import ImageMobject, Mobject, SVGMobject, VMobject

ASSETS = Path(__file__).resolve().parent / "assets"
DEFAULT_HEIGHT = 1.5
_HASHED = re.compile(r"^(?P<slug>[a-z0-9-]+?)-[0-9a-f]{8}\.(svg|png)$")
_WORD = re.compile(r"[a-z0-9]+")


def _slug(name: str) -> str:
    match = _HASHED.match(name)
    if match:
        return match.group("slug")
    return "-".join(_WORD.findall(Path(name).stem.lower()))


def asset_path(file: str) -> Path | None:
    """The file in ``assets/`` that ``file`` names: exactly, else by its slug; None if none."""
    name = Path(file).name
    exact = ASSETS / name
    if _HASHED.match(name) and exact.is_file():
        return exact
    slug = _slug(name)
    if not ASSETS.is_dir() or not slug:
        return None
    same = sorted(p for p in ASSETS.iterdir() if (m := _HASHED.match(p.name)) and m.group("slug") == slug)
    return same[0] if same else None


def load_image(file: str, height: float = DEFAULT_HEIGHT) -> Mobject:
    """An SVGMobject (.svg) or ImageMobject (.png) ``height`` units tall; an empty mobject if absent."""
    path = asset_path(file)
    if path is None:
        print(f"c2v: no asset {file!r} in assets/; the image is left out", file=sys.stderr)
        return VMobject()
    mobj: Mobject = SVGMobject(str(path)) if path.suffix == ".svg" else ImageMobject(str(path))
    mobj.scale_to_fit_height(height)
    mobj._c2v_image = path.name  # type: ignore[attr-defined]  # for the layout record
    return mobj
