// The caller's videos, newest first, with cancel for one still queued or running.

import { call } from "./api.js";
import { $, el } from "./dom.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
export const isTerminal = (status) => TERMINAL.has(status);

function when(iso) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? "" : at.toLocaleString();
}

function item(video, { onOpen, onCancel }) {
  const cancel = isTerminal(video.status)
    ? null
    : el("button", {
        type: "button",
        class: "quiet",
        text: video.cancel_requested ? "Cancelling…" : "Cancel",
        disabled: video.cancel_requested,
        "aria-label": `Cancel the video “${video.topic}”`,
        onclick: () => onCancel(video),
      });
  return el(
    "li",
    { "data-video": video.id, "data-status": video.status },
    el("button", {
      type: "button",
      class: "link topic",
      text: video.topic,
      "aria-label": `Open the video “${video.topic}”`,
      onclick: () => onOpen(video.id),
    }),
    el("span", { class: `badge ${video.status}`, text: video.status }),
    el("span", { class: "help", text: `${video.quality} · ${video.orientation} · ${video.api} · ${when(video.created_at)}` }),
    video.error ? el("span", { class: "help error-text", text: video.error }) : null,
    cancel,
  );
}

/** Fetch and draw the list; returns the videos shown. */
export async function renderHistory(handlers) {
  const page = await call("GET", "/v1/videos?limit=20");
  const list = $("history-list");
  if (!page.videos.length) {
    list.replaceChildren(el("li", { class: "help", text: "No videos yet: make one above." }));
  } else {
    list.replaceChildren(...page.videos.map((v) => item(v, handlers)));
  }
  return page.videos;
}
