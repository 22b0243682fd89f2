// Building the page from API data: every text goes in as a text node, never as markup.

/** An element with attributes ("text" sets its text, "on<event>" adds a listener) and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = String(value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (id) => document.getElementById(id);

/** Fetched media as blob: URLs, one fetch per path, all revoked when another video opens. */
export class MediaCache {
  constructor(fetcher) {
    this.fetcher = fetcher;
    this.urls = new Map();
  }

  get(path) {
    if (!this.urls.has(path)) {
      const pending = this.fetcher(path);
      pending.catch(() => this.urls.delete(path));
      this.urls.set(path, pending);
    }
    return this.urls.get(path);
  }

  clear() {
    for (const pending of this.urls.values()) pending.then((url) => URL.revokeObjectURL(url), () => {});
    this.urls.clear();
  }
}

/** Set an <img>'s source from the cache; a failed fetch leaves its alt text showing. */
export function loadInto(img, media, path) {
  media.get(path).then(
    (url) => {
      img.src = url;
    },
    () => img.classList.add("broken"),
  );
  return img;
}
