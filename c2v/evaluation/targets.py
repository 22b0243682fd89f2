"""What ``PATH`` names: one case folder, or a batch folder holding many."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from c2v.batch.report import load_report
from c2v.case import CaseDir
from c2v.errors import UsageError
from c2v.models import Manifest


@dataclass(frozen=True)
class Target:
    case: CaseDir
    rel: str  # the case folder relative to PATH ("." for a single case)
    manifest: Manifest

    @property
    def topic(self) -> str:
        return self.manifest.topic


def find_targets(path: Path) -> list[Target]:
    """The finished cases under ``path``, in the batch's order; a usage error when there are none."""
    if not path.is_dir():
        raise UsageError(f"{path} is not a folder (give a case folder or a batch folder)")
    single = CaseDir(path)
    if (manifest := single.load_manifest()) is not None:
        return [Target(single, ".", manifest)]
    if single.manifest.is_file():
        raise UsageError(f"{single.manifest} cannot be read as a c2v manifest")
    report = load_report(path)
    names = [t.slug for t in report.topics] if report is not None else sorted(p.name for p in path.iterdir())
    found = []
    for name in names:
        case = CaseDir(path / name)
        if (m := case.load_manifest()) is not None:
            found.append(Target(case, name, m))
    if not found:
        raise UsageError(f"{path} holds no c2v case (no manifest.json in it or in its sub-folders)")
    return found
