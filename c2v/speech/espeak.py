"""The offline speech provider: Debian's ``espeak-ng``, run as a subprocess on the host.

The text goes in on stdin (UTF-8), never on the command line, so a segment that starts
with ``-`` is spoken, not read as an option. Chinese is spoken by the Mandarin voice
``cmn``. The cache key carries espeak-ng's version, so an upgrade re-synthesises.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from c2v.core.deps import APT_HINT
from c2v.errors import MissingDependencyError, SpeechRequestError, SpeechTimeout
from c2v.speech.base import SpeechRequest

TIMEOUT_S = 60.0


@cache
def espeak_binary() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        raise MissingDependencyError(
            "missing system dependency: espeak-ng (needed for offline narration, --tts espeak); "
            + APT_HINT.format(pkg="espeak-ng")
        )
    return found


@cache
def espeak_version() -> str:
    """``espeak-ng-1.51`` (the model name in the cache key)."""
    done = subprocess.run([espeak_binary(), "--version"], capture_output=True, text=True, check=False)
    words = done.stdout.split()
    version = next((w for w in words if w[:1].isdigit()), "unknown")
    return f"espeak-ng-{version}"


class EspeakSpeech:
    name = "espeak"

    def __init__(self, words_per_minute: int = 165) -> None:
        self.words_per_minute = words_per_minute

    def synthesize(self, request: SpeechRequest) -> bytes:
        binary = espeak_binary()
        with tempfile.TemporaryDirectory(prefix="c2v-espeak-") as tmp:
            out = Path(tmp) / "speech.wav"
            cmd = [binary, "-v", request.voice, "-s", str(self.words_per_minute), "-b", "1", "-w", str(out)]
            try:
                done = subprocess.run(
                    cmd,
                    input=request.text.encode("utf-8"),
                    capture_output=True,
                    timeout=TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise SpeechTimeout(f"espeak-ng: no audio within {TIMEOUT_S:g} s") from None
            if done.returncode != 0 or not out.is_file():
                reason = " ".join(done.stderr.decode("utf-8", "replace").split())[-200:] or "no output"
                raise SpeechRequestError(f"espeak-ng (voice {request.voice!r}): {reason}")
            return out.read_bytes()
