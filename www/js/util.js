// Small DOM and formatting helpers shared by the views.

/** `el("p", {class: "x", text: "hi"}, child…)`; attributes only, never inline style. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Number with `d` decimals, or "–" when missing or not finite. */
export function fmt(x, d = 2) {
  return typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "–";
}

/** Percent (input 0–100) with one decimal. */
export function pct(x) {
  return typeof x === "number" && Number.isFinite(x) ? `${x.toFixed(1)} %` : "–";
}

/** Fraction 0–1 shown as percent. */
export function frac(x) {
  return typeof x === "number" && Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : "–";
}

/** Starts a download of `blob` as `filename`; nothing leaves the browser. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The message of anything thrown, for the status line. */
export function errorText(e) {
  if (e instanceof Error) return e.message || String(e);
  if (typeof e === "string") return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

/** Lets the browser paint (progress, status) between long synchronous steps. */
export function nextFrame() {
  return new Promise((r) => setTimeout(r, 0));
}

/** Writes `text` to a status element, marking errors. */
export function setStatus(node, text, kind = "info") {
  node.textContent = text;
  node.classList.toggle("error", kind === "error");
  node.classList.toggle("busy", kind === "busy");
}

/** Strips characters that do not belong in a file name. */
export function safeName(s) {
  return String(s || "image").split(/[\\/]/).pop().replace(/\.[a-z0-9]+$/i, "").replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 80) || "image";
}
