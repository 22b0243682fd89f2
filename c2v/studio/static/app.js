// The studio page: sign in, make a video, follow it live, play it, revise a section.

import { ApiError, blobUrl, call, clearKey, events, oneLine, setKey, signedIn } from "./api.js";
import { $, MediaCache, el, loadInto } from "./dom.js";
import { isTerminal, renderHistory } from "./history.js";
import { renderDetails } from "./sections.js";
import { attempts, doing } from "./words.js";

const REVISION_POLL_MS = 2000;
const media = new MediaCache(blobUrl);
// `revised` counts this page's revisions of the open video: each one stitches a new file.
const state = { video: null, follow: null, stages: [], titles: new Map(), revised: 0 };
const videoPath = (id) => `/v1/videos/${encodeURIComponent(id)}`;

// -- errors: one readable line ----------------------------------------------------------
function showError(error) {
  const line = error instanceof ApiError ? error.message : oneLine(error?.message ?? error);
  const box = $("error");
  box.textContent = line;
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

async function guarded(action) {
  try {
    clearError();
    return await action();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && !$("studio").hidden) signOut(false);
    showError(error);
    return undefined;
  }
}

// -- signing in ---------------------------------------------------------------------------
function signOut(clear = true) {
  clearKey();
  clearTimeout(historyTimer);
  if (state.follow) state.follow.abort();
  media.clear();
  $("studio").hidden = true;
  $("current").hidden = true;
  $("sign-out").hidden = true;
  $("signin").hidden = false;
  if (clear) clearError();
}

async function enterStudio() {
  await loadProviders();
  $("signin").hidden = true;
  $("studio").hidden = false;
  $("sign-out").hidden = false;
  await refreshHistory();
}

async function loadProviders() {
  const list = await call("GET", "/v1/providers");
  const select = $("provider");
  select.replaceChildren(
    ...list.providers.map((p) =>
      el("option", { value: p.name, text: p.model ? `${p.name} (${p.model})` : p.name, selected: p.name === list.default }),
    ),
  );
}

// -- the current video ------------------------------------------------------------------
function card(section) {
  return el(
    "li",
    { class: `card ${section.status === "ok" ? "ok" : ""}`, "data-section": section.id, "data-status": section.status },
    el("div", { class: `thumb ${state.video?.orientation ?? "landscape"}` }),
    el("span", { class: "card-title", text: `§${section.id} ${section.title || state.titles.get(section.id) || ""}` }),
    el("span", { class: "card-status", text: `${doing(section.status)} · ${attempts(section.attempts)}` }),
  );
}

function drawCards(sections) {
  const cards = $("cards");
  const old = new Map([...cards.children].map((li) => [li.dataset.section, li]));
  cards.replaceChildren(
    ...sections.map((s) => {
      const next = card(s);
      const thumb = old.get(s.id)?.querySelector(".thumb img");
      if (thumb) next.querySelector(".thumb").append(thumb);
      return next;
    }),
  );
}

function thumbnails(page) {
  const first = page.sections[0]?.versions.at(-1);
  if (first) {
    // The player's poster: a section's opening frame is often blank, its last keyframe is not.
    media.get(first.keyframe_url).then((url) => {
      $("player").poster = url;
    }, () => {});
  }
  for (const section of page.sections) {
    const last = section.versions[section.versions.length - 1];
    const slot = document.querySelector(`#cards li[data-section="${CSS.escape(section.id)}"] .thumb`);
    if (!last || !slot) continue;
    const img = slot.querySelector("img");
    if (img && img.dataset.render === last.render) continue;
    const fresh = el("img", { alt: `Last keyframe of section ${section.id}`, "data-render": last.render });
    slot.replaceChildren(loadInto(fresh, media, last.keyframe_url));
  }
}

/** While it runs: how many sections have rendered, or the stage before there are sections. */
function progress(view) {
  if (isTerminal(view.status)) return "";
  const total = view.sections.length;
  if (total) return ` · ${view.sections.filter((s) => s.status === "ok").length} of ${total} sections rendered`;
  return state.stages.length ? ` · ${state.stages[state.stages.length - 1]}` : "";
}

function took(view) {
  if (!view.started_at || !view.finished_at) return "";
  const seconds = (new Date(view.finished_at) - new Date(view.started_at)) / 1000;
  return Number.isFinite(seconds) ? ` in ${Math.round(seconds)} s` : "";
}

function showVideo(view) {
  state.video = view;
  $("current").hidden = false;
  $("current").dataset.video = view.id;
  $("current").dataset.status = view.status;
  $("current-title").textContent = view.topic;
  const orientation = view.orientation === "portrait" ? "portrait" : "landscape";
  $("current").dataset.orientation = orientation;
  $("current-status").textContent = `${view.status}${view.error ? `: ${view.error}` : progress(view)}${took(view)}`;
  drawCards(view.sections);
}

async function refreshSections(view) {
  const page = await call("GET", `${videoPath(view.id)}/sections`);
  if (state.video?.id !== view.id) return;
  for (const section of page.sections) state.titles.set(section.id, section.title);
  drawCards(state.video.sections);
  thumbnails(page);
  const open = new Set([...$("details").querySelectorAll("details.section[open]")].map((d) => d.dataset.section));
  renderDetails($("details"), page, { media, open, revisable: view.status === "succeeded", onRevise: revise });
  $("details-title").hidden = !page.sections.length;
}

async function showResult(view) {
  $("result").hidden = view.status !== "succeeded";
  if (view.status !== "succeeded") return;
  // Published to S3: the player loads the signed link itself (no key; the page's policy
  // allows that origin for media). Otherwise the file comes through the API, with the key.
  const link = await call("GET", `${videoPath(view.id)}/video/link`);
  if (state.video?.id !== view.id) return;
  const url = link.signed ? link.url : await media.get(`${videoPath(view.id)}/video?v=${state.revised}`);
  const player = $("player");
  player.className = view.orientation;
  if (player.src !== url) player.src = url;
  $("download").href = url;
  $("download").setAttribute("download", `${view.id}.mp4`);
  const cost = view.cost_usd ? ` · $${view.cost_usd.toFixed(4)}` : " · no cost (offline)";
  $("usage").textContent = `${view.tokens.toLocaleString()} tokens${cost}`;
}

function sectionEvent(event) {
  // The card follows the event at once; attempts and the thumbnail come with the next fetch.
  const known = state.video.sections.find((s) => s.id === event.section_id);
  if (known) known.status = event.text;
  else state.video.sections.push({ id: event.section_id, title: "", status: event.text, attempts: 0 });
  drawCards(state.video.sections);
}

async function follow(view) {
  const controller = new AbortController();
  state.follow = controller;
  let last = 0;
  while (!controller.signal.aborted) {
    try {
      for await (const event of events(view.id, last, controller.signal)) {
        if (controller.signal.aborted) return;
        last = event.id;
        if (event.kind === "stage") {
          state.stages.push(event.text);
          $("stages").append(el("li", { text: event.text }));
          showVideo(state.video);
        } else if (event.kind === "section" && !event.done) {
          sectionEvent(event);
        } else {
          const fresh = await call("GET", videoPath(view.id));
          if (controller.signal.aborted) return;
          showVideo(fresh);
          if (event.kind === "section") await refreshSections(fresh);
          if (event.kind === "status" && isTerminal(event.text)) return finish(fresh);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof ApiError && error.status !== 0) throw error;
    }
    const now = await call("GET", videoPath(view.id));
    if (isTerminal(now.status)) return finish(now);
    await new Promise((done) => setTimeout(done, 1000));
  }
}

async function finish(view) {
  showVideo(view);
  await refreshSections(view);
  await showResult(view);
  await refreshHistory();
}

async function openVideo(id) {
  if (state.follow) state.follow.abort();
  media.clear();
  state.stages = [];
  state.titles.clear();
  state.revised = 0;
  $("stages").replaceChildren();
  $("cards").replaceChildren();
  $("details").replaceChildren();
  $("result").hidden = true;
  const view = await call("GET", videoPath(id));
  showVideo(view);
  if (isTerminal(view.status)) return finish(view);
  await refreshSections(view);
  return follow(view);
}

// -- revising one section ---------------------------------------------------------------
async function revise(section, note, { button, status }) {
  const view = state.video;
  await guarded(async () => {
    button.disabled = true;
    status.textContent = `Sending your note on section ${section.id}…`;
    try {
      const made = await call("POST", `${videoPath(view.id)}/sections/${encodeURIComponent(section.id)}/revise`, {
        note,
      });
      status.textContent = `Section ${section.id} is being revised; only it renders again.`;
      sectionEvent({ section_id: section.id, text: "note" });
      const done = await waitRevision(view.id, made.id);
      if (done.status !== "succeeded") throw new ApiError(0, done.error || `the revision ${done.status}`);
      state.revised += 1;
      const fresh = await call("GET", videoPath(view.id));
      await finish(fresh);
      const detail = document.getElementById(`detail-${section.id}`);
      if (detail) detail.open = true;
    } finally {
      button.disabled = false;
      status.textContent = "";
    }
  });
}

async function waitRevision(videoId, revisionId) {
  for (;;) {
    const all = await call("GET", `${videoPath(videoId)}/revisions`);
    const mine = all.find((r) => r.id === revisionId);
    if (mine && isTerminal(mine.status)) return mine;
    await new Promise((done) => setTimeout(done, REVISION_POLL_MS));
  }
}

// -- the history ------------------------------------------------------------------------
const HISTORY_POLL_MS = 3000;
let historyTimer = null;

/** Draw the list; while a video in it is queued or running, draw it again a little later. */
async function refreshHistory() {
  clearTimeout(historyTimer);
  const shown = await renderHistory({
    onOpen: (id) => guarded(() => openVideo(id)),
    onCancel: (video) =>
      guarded(async () => {
        await call("DELETE", videoPath(video.id));
        await refreshHistory();
        if (state.video?.id === video.id) showVideo(await call("GET", videoPath(video.id)));
      }),
  });
  if (shown.some((v) => !isTerminal(v.status)) && !$("studio").hidden) {
    historyTimer = setTimeout(() => guarded(refreshHistory), HISTORY_POLL_MS);
  }
  return shown;
}

// -- wiring -----------------------------------------------------------------------------
function wire() {
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setKey($("key").value);
    guarded(async () => {
      try {
        await enterStudio();
        $("key").value = "";
      } catch (error) {
        signOut(false);
        $("key").value = "";
        $("key").focus();
        throw error;
      }
    });
  });
  $("sign-out").addEventListener("click", () => signOut());
  const topic = $("topic");
  const count = () => {
    $("topic-count").textContent = `${topic.value.length} / ${topic.maxLength} characters`;
  };
  topic.addEventListener("input", count);
  count();
  $("make-form").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(async () => {
      $("make-button").disabled = true;
      try {
        const made = await call("POST", "/v1/videos", {
          topic: topic.value,
          quality: $("quality").value,
          orientation: $("orientation").value,
          api: $("provider").value,
          use_feedback: $("critic").checked,
        });
        await refreshHistory();
        openVideo(made.id).catch(showError);
      } finally {
        $("make-button").disabled = false;
      }
    });
  });
  $("history-refresh").addEventListener("click", () => guarded(refreshHistory));
  if (signedIn()) guarded(enterStudio);
}

wire();
