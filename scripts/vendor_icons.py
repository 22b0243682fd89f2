"""Refresh the curated icon subset bundled in ``c2v/assets/data`` from the npm registry.

The bundled set is a subset of ``@iconify-json/fluent-emoji-flat`` (MIT, Microsoft's Fluent
Emoji, flat style), in IconifyJSON form: every icon except skin-tone and gendered variants of
people, which keeps the package data near 2 MB while covering objects, symbols, animals,
food, places and activities. Needs ``npm`` (Debian's ``npm`` package).

Usage: .venv/bin/python scripts/vendor_icons.py [--version 1.2.6]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@iconify-json/fluent-emoji-flat"
OUT = Path(__file__).resolve().parent.parent / "c2v" / "assets" / "data"
_TONE = re.compile(r"-(light|medium-light|medium|medium-dark|dark)$")
_PEOPLE_VARIANT = re.compile(r"^(man|woman|men|women|person|people|couple|family|kiss)(-|$)")


def keep(name: str, category: str) -> bool:
    if _TONE.search(name):
        return False
    return not (category == "People & Body" and _PEOPLE_VARIANT.match(name))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", default="1.2.6")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"{PACKAGE}@{args.version}", "--silent"], cwd=tmp, check=True)
        tgz = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tgz) as tar:
            tar.extractall(tmp, filter="data")
        pkg = Path(tmp) / "package"
        icons = json.loads((pkg / "icons.json").read_text())
        info = json.loads((pkg / "info.json").read_text())
        categories = json.loads((pkg / "metadata.json").read_text())["categories"]
    category_of = {n: c for c, names in categories.items() for n in names}
    kept = {n: b for n, b in icons["icons"].items() if keep(n, category_of.get(n, ""))}
    aliases = {
        a: v for a, v in icons.get("aliases", {}).items() if v["parent"] in kept and not _TONE.search(a)
    }
    subset = {
        "prefix": icons["prefix"],
        "info": {**info, "total": len(kept), "version": args.version, "package": PACKAGE},
        "lastModified": icons.get("lastModified"),
        "width": icons.get("width", 16),
        "height": icons.get("height", 16),
        "icons": kept,
        "aliases": aliases,
        "categories": {c: sorted(n for n in names if n in kept) for c, names in categories.items()},
    }
    out = OUT / f"{icons['prefix']}.json"
    out.write_text(json.dumps(subset, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"{out}: {len(kept)} icons, {len(aliases)} aliases, {out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
