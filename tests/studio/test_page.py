"""The studio's files as the service sends them: strict CSP, nothing inline, labels, text-only DOM."""

import re
from html.parser import HTMLParser
from importlib import resources

from c2v.studio.mount import CONTENT_SECURITY_POLICY
from tests.service.test_api import service  # noqa: F401  (the fixture)

STATIC = resources.files("c2v.studio") / "static"
CONTROLS = {"input", "select", "textarea"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_script = True


def parsed() -> Page:
    page = Page()
    page.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    return page


def test_page_and_files_are_sent_with_a_strict_policy(service):  # noqa: F811
    page = service.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    script = service.get("/studio/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert service.get("/studio/nope.js").status_code == 404
    assert service.get("/studio/../routes.py").status_code == 404
    # The API's own pages are untouched by the studio's policy (Swagger UI loads its bundle).
    assert "content-security-policy" not in service.get("/docs").headers
    assert service.get("/v1/videos").status_code == 401  # / does not shadow the API


def test_nothing_inline_that_the_policy_would_block():
    page = parsed()
    assert not page.inline_script
    for tag, attrs in page.tags:
        assert "style" not in attrs, tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "script":
            assert attrs.get("type") == "module" and str(attrs["src"]).startswith("/studio/")


def test_every_control_has_a_label():
    page = parsed()
    labelled = {attrs["for"] for tag, attrs in page.tags if tag == "label" and attrs.get("for")}
    for tag, attrs in page.tags:
        if tag in CONTROLS:
            assert attrs.get("id") in labelled or attrs.get("aria-label"), (tag, attrs)
    # Controls built in script carry a label too (the revise box) or an aria-label.
    sections = (STATIC / "sections.js").read_text(encoding="utf-8")
    assert 'el("label", { for: id' in sections


def test_scripts_put_api_text_in_as_text_and_keep_the_key_out_of_urls():
    for module in STATIC.iterdir():
        if not module.name.endswith(".js"):
            continue
        code = module.read_text(encoding="utf-8")
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ):
            assert sink not in code, (module.name, sink)
        assert "localStorage" not in code, module.name  # the key is kept for this tab only
        assert not re.search(r"[?&](key|token|api_key)=", code), module.name
        for imported in re.findall(r'from "\./([a-z]+\.js)"', code):
            assert (STATIC / imported).is_file(), (module.name, imported)
    api = (STATIC / "api.js").read_text(encoding="utf-8")
    assert "Authorization: `Bearer" in api and "sessionStorage" in api
