"""The Docker sandbox image: its name, its content-addressed tag, and whether it is built.

The image is built without any registry (``make sandbox-image`` runs
``scripts/build_sandbox_image.sh``): a debootstrap'ed Debian bookworm root filesystem with
TeX Live, CJK fonts and Debian's Python, plus a virtualenv at ``/opt/c2v`` installed offline
from a wheelhouse built on the host, then ``docker import``-ed.

Its tag is a digest of everything that decides its content: the files of the image
definition (``sandbox/image/``), the build script, the host's Manim version and Python
major.minor, and the pinned Python lock (Manim and its dependency closure at the versions
installed on the host, so the sandbox runs exactly the Manim the host plans with). An
unchanged definition gives the same tag, so the build is skipped; any change gives a new
one, and a backend asking for :func:`image_tag` never runs a stale image.

The c2v runtime (``sandbox/runtime/c2v_*.py``) is not part of the image: it is copied into
each render's work dir.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from c2v.errors import SandboxUnavailable

if TYPE_CHECKING:
    import docker

IMAGE_REPO = "c2v-sandbox"
#: The interpreter inside the image: a virtualenv on Debian's python3, with Manim installed.
IMAGE_PYTHON = "/opt/c2v/bin/python"
#: The unprivileged user scenes run as inside the image (name ``c2v``).
IMAGE_UID = 10001
#: What to run when the image is missing or stale.
BUILD_COMMAND = "make sandbox-image"
#: The top of the Python dependency closure installed in the image.
ROOT_DISTRIBUTION = "manim"

_REPO_ROOT = Path(__file__).resolve().parent.parent
DEFINITION_DIR = Path(__file__).resolve().parent / "image"
BUILD_SCRIPT = _REPO_ROOT / "scripts" / "build_sandbox_image.sh"


def host_manim_version() -> str:
    return importlib.metadata.version(ROOT_DISTRIBUTION)


def python_minor() -> str:
    """The host interpreter's ``major.minor``: the wheelhouse is built for it."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def requirements_lock(root: str = ROOT_DISTRIBUTION) -> str:
    """``name==version`` lines for ``root`` and every distribution it needs, as installed here.

    Markers are evaluated for this interpreter with no extras, so the lock is what the host
    actually runs. Raises :class:`importlib.metadata.PackageNotFoundError` when part of the
    closure is not installed (run ``make setup``).
    """
    pinned: dict[str, str] = {}
    todo = [root]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in pinned:
            continue
        dist = importlib.metadata.distribution(name)
        pinned[name] = dist.version
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return "".join(f"{name}=={version}\n" for name, version in sorted(pinned.items()))


def unsatisfied_requires_python(python_version: str, root: str = ROOT_DISTRIBUTION) -> list[str]:
    """Locked distributions whose ``Requires-Python`` excludes ``python_version`` (e.g. 3.11.2).

    The image runs Debian's python3, whose patch release may be older than the host's; the
    build installs such distributions anyway and names them with this.
    """
    found = []
    for line in requirements_lock(root).splitlines():
        name, _, version = line.partition("==")
        spec = importlib.metadata.metadata(name)["Requires-Python"]
        if spec and not SpecifierSet(spec).contains(python_version, prereleases=True):
            found.append(f"{name}=={version} (Requires-Python {spec})")
    return found


def definition_files(definition_dir: Path | None = None) -> list[Path]:
    """Every file of the image definition, in a stable order."""
    root = DEFINITION_DIR if definition_dir is None else definition_dir
    if not root.is_dir():
        raise SandboxUnavailable(f"the sandbox image definition is missing: {root} is not a directory")
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def image_inputs_digest(definition_dir: Path | None = None, build_script: Path | None = None) -> str:
    """sha256 (hex) over everything that decides the image's content.

    The definition files (by relative path and content), the build script, where the
    interpreter lives and which uid scenes run as, the host's Manim version and Python
    major.minor, and the pinned lock of Manim's dependency closure.
    """
    root = DEFINITION_DIR if definition_dir is None else definition_dir
    script = BUILD_SCRIPT if build_script is None else build_script
    if not script.is_file():
        raise SandboxUnavailable(f"the sandbox image build script is missing: {script}")
    h = hashlib.sha256()

    def part(label: str, data: bytes) -> None:
        for chunk in (label.encode(), data):
            h.update(len(chunk).to_bytes(8, "big"))
            h.update(chunk)

    for path in definition_files(root):
        part(f"def:{path.relative_to(root).as_posix()}", path.read_bytes())
    part("build-script", script.read_bytes())
    part("image-python", IMAGE_PYTHON.encode())
    part("image-uid", str(IMAGE_UID).encode())
    part("manim", host_manim_version().encode())
    part("python", python_minor().encode())
    part("lock", requirements_lock().encode())
    return h.hexdigest()


def image_tag(definition_dir: Path | None = None, build_script: Path | None = None) -> str:
    """``c2v-sandbox:<first 16 hex digits of the inputs digest>``."""
    return f"{IMAGE_REPO}:{image_inputs_digest(definition_dir, build_script)[:16]}"


def image_exists(client: docker.DockerClient | None = None, tag: str | None = None) -> bool:
    """Whether the engine holds the image for the current definition (or ``tag``).

    With no client, one is made from the environment. Raises :class:`SandboxUnavailable`
    (naming the fix) when the Docker engine cannot be reached.
    """
    import docker  # noqa: PLC0415 - the SDK is needed only by callers of the Docker backend
    from docker.errors import DockerException, ImageNotFound  # noqa: PLC0415

    wanted = image_tag() if tag is None else tag
    try:
        engine = docker.from_env() if client is None else client
        engine.images.get(wanted)
    except ImageNotFound:
        return False
    except (DockerException, OSError) as exc:  # requests' connection errors are OSErrors
        raise SandboxUnavailable(
            f"cannot reach the Docker engine ({exc}); start it (`sudo systemctl start docker`, "
            "or `sudo dockerd &`) and check `docker info`"
        ) from exc
    return True


def missing_image_message(tag: str | None = None) -> str:
    wanted = image_tag() if tag is None else tag
    return f"the sandbox image {wanted} is not built: run `{BUILD_COMMAND}`"
