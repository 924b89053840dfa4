// The page's handle on the detector worker (js/worker.js): model loading,
// detection, the bias audit and phantom rendering run there, so the page
// never freezes while the wasm works. Each call is one message; the answer
// resolves or rejects the call's promise. Protocol: docs/WEB.md, "The
// worker".
//
// Errors keep their words: the worker sends the message of what the wasm API
// threw, and the promise rejects with an Error carrying that message, so the
// page shows the same text as when the wasm ran on the main thread. A worker
// that cannot start, or that dies, rejects every pending call with a message
// saying so; the next call starts a fresh worker.

const WORKER_URL = new URL("./worker.js", import.meta.url);

let worker = null;
let nextId = 1;
const pending = new Map(); // id → {resolve, reject, op}

function failAll(message) {
  const calls = [...pending.values()];
  pending.clear();
  if (worker) worker.terminate();
  worker = null;
  for (const c of calls) c.reject(new Error(`${message} (during ${c.op})`));
}

function start() {
  const w = new Worker(WORKER_URL, { type: "module", name: "fairmark-detector" });
  w.addEventListener("message", (e) => {
    const { id, ok, value, error } = e.data || {};
    const call = pending.get(id);
    if (!call) return;
    pending.delete(id);
    if (ok) call.resolve(value);
    else call.reject(new Error(error));
  });
  // A module that fails to load or an exception outside any call: the event
  // carries no useful message in Chromium when the script itself failed.
  w.addEventListener("error", (e) => {
    e.preventDefault();
    failAll(`the detector worker failed: ${e.message || `could not run ${WORKER_URL.pathname}`}`);
  });
  w.addEventListener("messageerror", () => failAll("the detector worker sent a message that could not be read"));
  return w;
}

/**
 * Sends `{id, op, args}` to the worker; resolves with its `value`. `transfer`
 * lists what moves instead of being copied (an ImageBitmap).
 */
export function call(op, args = {}, transfer = []) {
  if (!worker) worker = start();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, op });
    try {
      worker.postMessage({ id, op, args }, transfer);
    } catch (e) {
      pending.delete(id);
      reject(e);
    }
  });
}

/**
 * The model `name` on `backend` ("auto" | "webgpu" | "cpu"), loaded in the
 * worker (which caches it). Resolves to its description, the getters of the
 * wasm `Model` (`name`, `backend`, `backendNote`, `method`, `anatomy`,
 * `inputSize`, `landmarkNames`), with `detect(source, width, height,
 * options)` as on the wasm `Model`: `source` is an ImageBitmap (moved to the
 * worker, which reads its pixels there) or RGBA/grey bytes (copied).
 */
export async function getModel(name, backend) {
  const info = await call("load", { name, backend });
  return {
    ...info,
    detect(source, width, height, options = {}) {
      const transfer = typeof ImageBitmap !== "undefined" && source instanceof ImageBitmap ? [source] : [];
      return call("detect", { name, backend, source, width, height, options }, transfer);
    },
  };
}

/** `fm.audit(csv, options)` in the worker: the fairmark.audit/1 report. */
export function audit(csv, options) {
  return call("audit", { csv, options });
}

/** `fm.renderPhantom(anatomy, index, options)` in the worker; its pixels are moved back. */
export function renderPhantom(anatomy, index, options) {
  return call("renderPhantom", { anatomy, index, options });
}
