"""The built sandbox image: the host's Manim, LaTeX and CJK fonts, usable read-only as uid 10001.

CI builds the image first (`make sandbox-image`); a missing engine or image fails here with
the command that fixes it, never a skip.
"""

import importlib.metadata
import json
import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.errors import DockerException

from c2v.core.tiers import video_format
from c2v.media.probe import probe_video
from c2v.models import RenderRequest
from sandbox.base import INSIDE_WORKDIR
from sandbox.image import IMAGE_PYTHON, IMAGE_UID, image_exists, image_tag, missing_image_message
from sandbox.render import OUTPUT_NAME, SCENE_ENV, manim_argv, prepare_workdir

pytestmark = pytest.mark.docker

SCENE = r"""from manim import *
from c2v_layout import TeachingScene

class Section1(TeachingScene):
    def construct(self):
        eq = MathTex(r"e^{i\pi} + 1 = 0", font_size=72)
        zh = Text("欧拉公式", font_size=48).next_to(eq, DOWN)
        self.play(Write(eq))
        self.add(zh)
        self.wait(0.2)
"""


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    try:
        engine = docker.from_env()
        engine.ping()
    except DockerException as exc:
        pytest.fail(
            f"no Docker engine ({exc}): start it with scripts/docker_engine.sh, then `make sandbox-image`"
        )
    if not image_exists(engine):
        pytest.fail(missing_image_message())
    yield engine
    engine.close()


def run_in_image(
    client: docker.DockerClient,
    command: list[str],
    work: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    """Run ``command`` the way the Docker backend does: read-only, no network, no caps."""
    volumes = {str(work): {"bind": INSIDE_WORKDIR, "mode": "rw"}} if work else None
    container = client.containers.run(
        image_tag(),
        command,
        detach=True,
        user=f"{IMAGE_UID}:{IMAGE_UID}",
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": "rw,size=256m", "/home/c2v": f"rw,size=16m,uid={IMAGE_UID},gid={IMAGE_UID}"},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        init=True,
        working_dir=INSIDE_WORKDIR,
        environment=env or {},
        volumes=volumes,
    )
    try:
        status = container.wait(timeout=300)
        logs = container.logs(stdout=True, stderr=True).decode(errors="replace")
    finally:
        container.remove(force=True)
    return int(status["StatusCode"]), logs


def test_image_runs_the_hosts_manim(client):
    code, out = run_in_image(client, [IMAGE_PYTHON, "-c", "import manim; print(manim.__version__)"])
    assert code == 0, out
    assert out.strip().splitlines()[-1] == importlib.metadata.version("manim")


def test_image_has_cjk_fonts_and_latex(client):
    script = (
        "fc-list :lang=zh family | head -n1; for t in latex xelatex dvisvgm timeout; do command -v $t; done;"
        " ls -A /tmp/fc/fontconfig 2>/dev/null | wc -l"
    )
    code, out = run_in_image(client, ["sh", "-c", script], env={"XDG_CACHE_HOME": "/tmp/fc"})
    assert code == 0, out
    lines = out.strip().splitlines()
    assert "Noto" in lines[0], out
    assert [Path(p).name for p in lines[1:5]] == ["latex", "xelatex", "dvisvgm", "timeout"], out
    # The image's font cache is valid: fontconfig wrote no cache of its own (a rescan of
    # the CJK fonts would cost every render about a second).
    assert lines[5] == "0", out


def test_mathtex_and_chinese_text_render_inside_the_image(client, tmp_path):
    request = RenderRequest(
        case_id="image", section_id="1", scene_name="Section1", code=SCENE, tier="l", orientation="landscape"
    )
    work = tmp_path / "work"
    prepare_workdir(work, request)
    if os.geteuid() == 0:
        for path in [work, *work.rglob("*")]:
            os.chown(path, IMAGE_UID, IMAGE_UID, follow_symlinks=False)
    else:
        work.chmod(0o777)

    code, out = run_in_image(client, manim_argv(request, IMAGE_PYTHON), work, dict(SCENE_ENV))

    assert code == 0, out[-3000:]
    videos = [p for p in (work / "media").rglob(f"{OUTPUT_NAME}.mp4") if "partial_movie_files" not in p.parts]
    assert len(videos) == 1, out[-3000:]
    info = probe_video(videos[0].read_bytes())
    fmt = video_format(request.tier, request.orientation)
    assert info is not None and (info.width, info.height) == (fmt.width, fmt.height)
    # The layout record saw the formula (LaTeX worked) and the Chinese text.
    record = json.loads((work / "layout.json").read_text())
    units = [u for snap in record["snapshots"] for u in snap.get("units", [])]
    kinds = {(u.get("kind"), u.get("text")) for u in units}
    assert ("text", "欧拉公式") in kinds, kinds
    assert any(kind == "formula" for kind, _ in kinds), kinds
