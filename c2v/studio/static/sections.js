// One section in depth: its frames with the layout lint's findings boxed, code, critic notes,
// and the revise box; after a person's note, the new version beside the old one.

import { el, loadInto } from "./dom.js";
import { attempts, doing } from "./words.js";

const MAX_FRAMES = 3;

function frame(media, section, version, animation, findings, orientation) {
  const path = animation ? `${version.keyframe_url}&animation=${animation}` : version.keyframe_url;
  const when = animation ? `after animation ${animation}` : "its last frame";
  const img = el("img", {
    alt: `Section ${section.id}, attempt ${version.attempt}, ${when}`,
    width: orientation === "portrait" ? 270 : 480,
    height: orientation === "portrait" ? 480 : 270,
  });
  const boxes = findings
    .filter((f) => f.box)
    .map((f) => {
      const box = el("span", { class: `box sev-${f.severity}`, "aria-hidden": "true" }, el("span", { text: f.rule }));
      // CSSOM properties, not a style attribute: allowed by the page's Content-Security-Policy.
      box.style.left = `${(f.box.x0 * 100).toFixed(2)}%`;
      box.style.top = `${(f.box.y0 * 100).toFixed(2)}%`;
      box.style.width = `${((f.box.x1 - f.box.x0) * 100).toFixed(2)}%`;
      box.style.height = `${((f.box.y1 - f.box.y0) * 100).toFixed(2)}%`;
      return box;
    });
  return el("div", { class: `frame ${orientation}` }, loadInto(img, media, path), boxes);
}

function frames(media, section, version, orientation) {
  const byAnimation = new Map();
  for (const f of version.findings) {
    if (!f.box) continue;
    const at = f.animation > 0 && f.animation <= version.animations ? f.animation : 0;
    if (!byAnimation.has(at)) byAnimation.set(at, []);
    byAnimation.get(at).push(f);
  }
  if (!byAnimation.size) return [frame(media, section, version, 0, [], orientation)];
  return [...byAnimation.entries()]
    .slice(0, MAX_FRAMES)
    .map(([at, found]) => frame(media, section, version, at, found, orientation));
}

function findingsList(version) {
  if (!version.findings.length) return el("p", { class: "help", text: "The layout lint found nothing." });
  return el(
    "ul",
    { class: "findings", "aria-label": `Layout findings of attempt ${version.attempt}` },
    version.findings.map((f) =>
      el(
        "li",
        { class: `sev-${f.severity}` },
        el("strong", { text: `${f.rule} (${f.severity})` }),
        `: ${f.message}`,
        f.anchors.length ? ` — cells ${f.anchors.join(", ")}` : "",
        f.line ? `, line ${f.line}` : "",
      ),
    ),
  );
}

function code(label, text) {
  return el("details", { class: "code" }, el("summary", { text: label }), el("pre", {}, el("code", { text })));
}

function versionFigure(media, section, version, caption, orientation) {
  return el(
    "figure",
    { class: "version" },
    el("figcaption", { text: caption }),
    el("div", { class: "frames" }, frames(media, section, version, orientation)),
    findingsList(version),
    code(`Code of attempt ${version.attempt}`, version.code),
  );
}

function versions(media, section, orientation) {
  const all = section.versions;
  if (!all.length) {
    const why = section.message ? `Not rendered: ${section.message}` : "Not rendered yet.";
    return [el("p", { class: "help", text: why }), section.code ? code("Code of the last attempt", section.code) : null];
  }
  const last = all[all.length - 1];
  if (all.length > 1 && last.kind === "note") {
    const before = all[all.length - 2];
    return el(
      "div",
      { class: "compare" },
      versionFigure(media, section, before, `Before the note (attempt ${before.attempt})`, orientation),
      versionFigure(media, section, last, `After the note (attempt ${last.attempt}, in the video)`, orientation),
    );
  }
  return versionFigure(media, section, last, `In the video (attempt ${last.attempt})`, orientation);
}

function critic(section) {
  if (!section.critic.length) return el("p", { class: "help", text: "The critic did not review this section." });
  return el(
    "ul",
    { class: "critic", "aria-label": `Critic's notes on section ${section.id}` },
    section.critic.map((note) =>
      el(
        "li",
        {},
        el("strong", { text: `Round ${note.round} (${note.change})` }),
        note.error ? `: the critic failed: ${note.error}` : "",
        note.issues.length
          ? el(
              "ul",
              {},
              note.issues.map((issue) =>
                el(
                  "li",
                  {},
                  issue.problem,
                  issue.fix ? ` — fix: ${issue.fix}` : "",
                  issue.anchor ? ` [${issue.anchor}]` : "",
                  issue.line ? ` (line ${issue.line})` : "",
                ),
              ),
            )
          : !note.error
            ? ": no issues"
            : "",
      ),
    ),
  );
}

function reviseForm(section, onRevise) {
  const id = `note-${section.id}`;
  const status = el("p", { class: "status-line", "aria-live": "polite" });
  const note = el("textarea", {
    id,
    name: "note",
    rows: 2,
    maxlength: 4000,
    required: true,
    placeholder: "e.g. make the array larger and move the pointer labels below it",
  });
  const button = el("button", { type: "submit", text: `Revise section ${section.id}` });
  const form = el(
    "form",
    { class: "revise", method: "post" },
    el("label", { for: id, text: `Your note on section ${section.id}` }),
    note,
    button,
    status,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onRevise(section, note.value, { form, button, status });
  });
  return form;
}

/** The details of every section; `revisable` adds each rendered section's revise box. */
export function renderDetails(container, page, { media, revisable, onRevise, open }) {
  const nodes = page.sections.map((section) => {
    return el(
      "details",
      { class: "section", id: `detail-${section.id}`, "data-section": section.id, open: open.has(section.id) },
      el("summary", {}, el("strong", { text: `§${section.id} ${section.title}` }), ` — ${doing(section.status)}, ${attempts(section.attempts)}`),
      versions(media, section, page.orientation),
      el("h4", { text: "Critic's notes" }),
      critic(section),
      revisable && section.versions.length ? reviseForm(section, onRevise) : null,
    );
  });
  container.replaceChildren(...nodes);
}
