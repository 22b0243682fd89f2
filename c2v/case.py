"""The case folder: every stage's output, written atomically, so a killed run resumes.

::

    <out>/<folder_prefix>/<topic-slug>/
      outline.json  storyboard.json  manifest.json  video.mp4
      calls/<key>.json               every LLM call: tag, replies, usage, parsed payload
      sections/<id>/attempt-<n>.py   every version of the section's code
      sections/<id>/history.json     attempts and their render outcomes
      sections/<id>/final.py         the code that rendered (frozen for `c2v render`)
      renders/<hash>/                render cache: result.json (+ video.mp4 when ok)

Only this module knows the layout: everyone else reads and writes a case through
:class:`CaseDir`, whose ``read_*`` methods return None for a record not written yet and
raise :class:`c2v.errors.CaseFileError` for one that is there but unusable.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from c2v.core.fsio import write_bytes_atomic, write_model_atomic, write_text_atomic
from c2v.errors import CaseBusyError, CaseFileError, OutputDirError
from c2v.llm.base import CallTag, LLMReply
from c2v.models import AttemptRecord, Manifest, Outline, RenderResult, RenderStatus, Storyboard, Strict

_Record = TypeVar("_Record", bound=BaseModel)

#: The name of the record every consumer of a case starts from (and a publication ends with).
MANIFEST_FILE = "manifest.json"

CACHEABLE = {
    RenderStatus.ok,
    RenderStatus.code_error,
    RenderStatus.timeout,
    RenderStatus.oom,
    RenderStatus.policy,
}


class CallRecord(Strict):
    """One agent call as stored in ``calls/``: what was asked, what came back."""

    key: str
    tag: CallTag
    payload: str
    replies: list[LLMReply]
    error: str | None = None  # set for a call whose replies were unusable (kept for accounting)
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def inputs_digest(inputs: object) -> str:
    blob = json.dumps(inputs, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


class CaseDir:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock_fd: int | None = None

    @classmethod
    def create(cls, root: Path) -> CaseDir:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputDirError(f"cannot create case folder {root}: {exc.strerror}") from exc
        if not os.access(root, os.W_OK | os.X_OK):
            raise OutputDirError(f"case folder {root} is not writable")
        return cls(root)

    def lock(self) -> None:
        """Claim the case for this process (held until exit) and sweep stale partial files.

        Two runs writing one case would interleave their stages; the second one stops with
        a clear error instead. Partial files are left only by a killed writer.
        """
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise CaseBusyError(f"case folder {self.root} is in use by another c2v run") from None
        self._lock_fd = fd
        for stale in self.root.rglob(".*.part"):
            stale.unlink(missing_ok=True)

    def unlock(self) -> None:
        """Give the case back before this process ends (a batch runs many cases in one process).

        The lock is an ``flock`` on an open file: the kernel also drops it when the process
        dies, even by SIGKILL, so a killed run never leaves a stale lock behind.
        """
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the only descriptor releases the flock
            self._lock_fd = None

    # -- fixed files ----------------------------------------------------------------------
    @property
    def outline(self) -> Path:
        return self.root / "outline.json"

    @property
    def storyboard(self) -> Path:
        return self.root / "storyboard.json"

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST_FILE

    @property
    def video(self) -> Path:
        return self.root / "video.mp4"

    def load_manifest(self) -> Manifest | None:
        """The case's manifest, or None when it has none yet (or one this version cannot read)."""
        try:
            return Manifest.model_validate_json(self.manifest.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError, ValidationError):
            return None

    def section_dir(self, section_id: str) -> Path:
        return self.root / "sections" / section_id

    def attempt_code(self, section_id: str, n: int) -> Path:
        return self.section_dir(section_id) / f"attempt-{n}.py"

    def final_code(self, section_id: str) -> Path:
        return self.section_dir(section_id) / "final.py"

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def path(self, relative: str) -> Path:
        """A file a record names relative to the case (``manifest.video``, a section's video)."""
        return self.root / relative

    def resolved(self, relative: str) -> Path | None:
        """``relative`` resolved through links, or None when it leads outside the case folder.

        A case's ``renders/`` may be a link to a render cache shared by many cases (the
        service's): a path under ``renders/`` may lead into that cache, and nowhere else.
        """
        root = self.root.resolve()
        target = (root / relative).resolve()
        if target.is_relative_to(root):
            return target
        renders = self.root / "renders"
        if renders.is_symlink() and Path(relative).parts[:1] == ("renders",):
            cache = renders.resolve()
            if target.is_relative_to(cache) and target != cache:
                return target
        return None

    # -- records --------------------------------------------------------------------------
    def is_started(self) -> bool:
        """Planning has written something: the folder is a case, finished or not."""
        return self.outline.is_file() or self.storyboard.is_file()

    def read_manifest(self) -> Manifest | None:
        """The last run's manifest; None before a run has finished (or given up)."""
        return self._read(self.manifest, Manifest, "manifest")

    def read_storyboard(self) -> Storyboard | None:
        """The planned sections; None while the case is still being planned."""
        return self._read(self.storyboard, Storyboard, "storyboard")

    def save_outline(self, outline: Outline) -> None:
        write_model_atomic(self.outline, outline)

    def save_storyboard(self, board: Storyboard) -> None:
        write_model_atomic(self.storyboard, board)

    def save_manifest(self, manifest: Manifest) -> None:
        write_model_atomic(self.manifest, manifest)

    def _read(self, path: Path, model: type[_Record], what: str) -> _Record | None:
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise CaseFileError(path, path.name, f"cannot be read ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise CaseFileError(path, path.name, f"is not a c2v {what} (not UTF-8 text)") from None
        try:
            return model.model_validate_json(text)
        except ValidationError as exc:
            raise CaseFileError(
                path, path.name, f"is not a c2v {what} ({exc.error_count()} errors)"
            ) from None

    # -- LLM call journal -----------------------------------------------------------------
    def call_key(self, tag: CallTag, inputs: object) -> str:
        return f"{tag.key}-{inputs_digest(inputs)}"

    def load_call(self, key: str) -> CallRecord | None:
        path = self.root / "calls" / f"{key}.json"
        try:
            return CallRecord.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValidationError:
            return None  # written by another version: ask again rather than trust it

    def save_call(self, record: CallRecord) -> None:
        write_model_atomic(self.root / "calls" / f"{record.key}.json", record)

    def all_calls(self) -> list[CallRecord]:
        out = []
        for path in sorted((self.root / "calls").glob("*.json")):
            try:
                out.append(CallRecord.model_validate_json(path.read_text(encoding="utf-8")))
            except ValidationError:
                continue
        return out

    # -- render cache ---------------------------------------------------------------------
    def render_dir(self, key: str) -> Path:
        return self.root / "renders" / key

    def render_video(self, key: str) -> Path:
        return self.render_dir(key) / "video.mp4"

    def load_render(self, key: str, needs_video: bool = True) -> RenderResult | None:
        """A cached verdict; an ``ok`` needs its video, unless it is a dry run's (it has none)."""
        folder = self.render_dir(key)
        try:
            result = RenderResult.model_validate_json((folder / "result.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValidationError):
            return None
        if needs_video and result.status is RenderStatus.ok and not (folder / "video.mp4").is_file():
            return None
        return result

    def all_renders(self) -> list[RenderResult]:
        """Every render verdict stored in the case, in key order."""
        found = (self.load_render(d.name, needs_video=False) for d in sorted(self.render_dir("").glob("*/")))
        return [r for r in found if r is not None]

    def save_render(self, key: str, result: RenderResult, video: bytes | None) -> None:
        """Video first, result last: a result.json always names a complete video."""
        if result.status not in CACHEABLE:
            return
        folder = self.render_dir(key)
        if video is not None:
            write_bytes_atomic(folder / "video.mp4", video)
        write_model_atomic(folder / "result.json", result)

    # -- section records ------------------------------------------------------------------
    def save_code(self, section_id: str, n: int, code: str) -> Path:
        path = self.attempt_code(section_id, n)
        if not path.is_file() or path.read_text(encoding="utf-8") != code:
            write_text_atomic(path, code)
        return path

    def save_final(self, section_id: str, code: str) -> None:
        write_text_atomic(self.final_code(section_id), code)

    def has_final(self, section_id: str) -> bool:
        """The section rendered and its code is frozen."""
        return self.final_code(section_id).is_file()

    def frozen_code(self, board: Storyboard) -> dict[str, str]:
        """The frozen code of every section of ``board`` that has it (what ``c2v render`` renders)."""
        return {
            s.id: self.final_code(s.id).read_text(encoding="utf-8")
            for s in board.sections
            if self.has_final(s.id)
        }

    def load_history(self, section_id: str) -> list[AttemptRecord]:
        """The attempts a section went through, as its last generate run recorded them."""
        try:
            data = json.loads((self.section_dir(section_id) / "history.json").read_text(encoding="utf-8"))
            return [AttemptRecord.model_validate(item) for item in data]
        except (FileNotFoundError, ValueError):
            return []

    def save_history(self, section_id: str, history: list[AttemptRecord]) -> None:
        data = [h.model_dump(mode="json") for h in history]
        write_text_atomic(self.section_dir(section_id) / "history.json", json.dumps(data, indent=2) + "\n")
