"""The sandbox image tag is a content address: same inputs, same tag; any change, a new one."""

import importlib.metadata
import re
import shutil

import pytest

import sandbox.image as image
from c2v.errors import SandboxUnavailable


@pytest.fixture
def definition(tmp_path):
    """A private copy of the image definition and build script, safe to edit."""
    defn = tmp_path / "image"
    shutil.copytree(image.DEFINITION_DIR, defn)
    script = tmp_path / "build_sandbox_image.sh"
    shutil.copy(image.BUILD_SCRIPT, script)
    return defn, script


def test_tag_format_and_stability():
    tag = image.image_tag()
    assert re.fullmatch(r"c2v-sandbox:[0-9a-f]{16}", tag)
    assert image.image_tag() == tag
    assert tag.split(":")[1] == image.image_inputs_digest()[:16]


def test_identical_copy_gives_the_same_tag(definition):
    defn, script = definition
    assert image.image_tag(defn, script) == image.image_tag()


def test_editing_a_definition_file_changes_the_tag(definition):
    defn, script = definition
    before = image.image_tag(defn, script)
    packages = defn / "packages.txt"
    packages.write_text(packages.read_text() + "htop\n")
    assert image.image_tag(defn, script) != before


def test_adding_or_renaming_a_definition_file_changes_the_tag(definition):
    defn, script = definition
    before = image.image_tag(defn, script)
    (defn / "extra.txt").write_text("")
    added = image.image_tag(defn, script)
    assert added != before
    (defn / "extra.txt").rename(defn / "other.txt")
    assert image.image_tag(defn, script) not in (before, added)


def test_editing_the_build_script_changes_the_tag(definition):
    defn, script = definition
    before = image.image_tag(defn, script)
    script.write_text(script.read_text() + "\n# changed\n")
    assert image.image_tag(defn, script) != before


def test_host_manim_and_python_versions_are_inputs(monkeypatch):
    before = image.image_tag()
    monkeypatch.setattr(image, "host_manim_version", lambda: "0.0.1")
    assert image.image_tag() != before
    monkeypatch.undo()
    monkeypatch.setattr(image, "python_minor", lambda: "3.99")
    assert image.image_tag() != before


def test_lock_pins_the_hosts_manim_and_its_dependencies():
    lock = image.requirements_lock().splitlines()
    assert f"manim=={importlib.metadata.version('manim')}" in lock
    names = {line.split("==")[0] for line in lock}
    assert {"numpy", "pycairo", "manimpango", "av", "scipy"} <= names
    for line in lock:
        name, _, version = line.partition("==")
        assert importlib.metadata.version(name) == version
    assert "pytest" not in names and "ray" not in names


def test_a_different_installed_dependency_version_changes_the_tag(monkeypatch):
    before = image.image_tag()
    lock = image.requirements_lock()
    monkeypatch.setattr(image, "requirements_lock", lambda: lock.replace("numpy==", "numpy==0.0.0+"))
    assert image.image_tag() != before


def test_definition_lists_latex_and_cjk_fonts():
    wanted = {
        "python3",
        "texlive-latex-base",
        "texlive-latex-recommended",
        "texlive-latex-extra",
        "texlive-fonts-recommended",
        "texlive-science",
        "dvisvgm",
        "texlive-xetex",
        "texlive-lang-chinese",
        "fonts-noto-cjk",
        "fontconfig",
    }
    listed = {
        line.split("#")[0].strip()
        for line in (image.DEFINITION_DIR / "packages.txt").read_text().splitlines()
    }
    assert wanted <= listed


def test_missing_definition_is_a_clear_error(tmp_path):
    with pytest.raises(SandboxUnavailable, match="definition is missing"):
        image.image_tag(tmp_path / "nope", image.BUILD_SCRIPT)
    with pytest.raises(SandboxUnavailable, match="build script is missing"):
        image.image_tag(image.DEFINITION_DIR, tmp_path / "nope.sh")


def test_image_python_is_an_absolute_path_inside_the_image():
    assert image.IMAGE_PYTHON.startswith("/") and image.IMAGE_PYTHON.endswith("/python")
