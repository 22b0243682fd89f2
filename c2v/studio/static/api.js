// The service's public v1 API, as the page calls it.
// The API key lives in this tab's sessionStorage and travels only in the Authorization
// header: media (keyframes, the video) are fetched with it and shown from blob: URLs.

const KEY = "c2v.key";

export class ApiError extends Error {
  constructor(status, line) {
    super(line);
    this.status = status;
  }
}

export const signedIn = () => sessionStorage.getItem(KEY) !== null;
export const setKey = (key) => sessionStorage.setItem(KEY, key.trim());
export const clearKey = () => sessionStorage.removeItem(KEY);

function headers(extra = {}) {
  return { Authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ""}`, ...extra };
}

/** One readable line, whatever the answer held. */
export function oneLine(text) {
  return String(text ?? "").replace(/\s+/g, " ").trim().slice(0, 400);
}

async function problem(answer) {
  let detail = answer.statusText || `HTTP ${answer.status}`;
  try {
    const body = await answer.json();
    if (body && body.detail !== undefined) {
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    }
  } catch {
    // not JSON: keep the status text
  }
  let line = oneLine(detail);
  const wait = answer.headers.get("Retry-After");
  if (answer.status === 429 && wait) line += ` — try again in ${wait} s`;
  return new ApiError(answer.status, line);
}

async function send(method, path, init = {}) {
  try {
    return await fetch(path, { method, cache: "no-store", ...init });
  } catch {
    throw new ApiError(0, `${method} ${path}: the service did not answer`);
  }
}

/** A JSON call; an error answer becomes an ApiError with the service's one-line detail. */
export async function call(method, path, body) {
  const init = { headers: headers() };
  if (body !== undefined) {
    init.headers = headers({ "Content-Type": "application/json" });
    init.body = JSON.stringify(body);
  }
  const answer = await send(method, path, init);
  if (!answer.ok) throw await problem(answer);
  return answer.json();
}

/** A media file of the API as a blob: URL (the caller revokes it when done). */
export async function blobUrl(path) {
  const answer = await send("GET", path, { headers: headers() });
  if (!answer.ok) throw await problem(answer);
  return URL.createObjectURL(await answer.blob());
}

function parseBlock(block) {
  const event = { id: null, event: "message", data: [] };
  for (const line of block.split(/\r?\n|\r/)) {
    if (!line || line.startsWith(":")) continue;
    const at = line.indexOf(":");
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
    if (field === "data") event.data.push(value);
    else if (field === "event") event.event = value;
    else if (field === "id") event.id = value;
  }
  return event.data.length ? { ...event, data: event.data.join("\n") } : null;
}

/**
 * The video's server-sent events after `after` (EventSource cannot send a header, so the
 * stream is read with fetch). Yields parsed event views until the server ends the stream.
 */
export async function* events(videoId, after, signal) {
  const extra = { Accept: "text/event-stream" };
  if (after) extra["Last-Event-ID"] = String(after);
  const answer = await send("GET", `/v1/videos/${encodeURIComponent(videoId)}/events`, {
    headers: headers(extra),
    signal,
  });
  if (!answer.ok) throw await problem(answer);
  const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const blocks = buffer.split(/\r\n\r\n|\n\n|\r\r/);
    buffer = blocks.pop();
    for (const block of blocks) {
      const parsed = parseBlock(block);
      if (parsed) yield JSON.parse(parsed.data);
    }
  }
}
