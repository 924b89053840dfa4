// Loading the fairmark WebAssembly package and the published models.
//
// The package (wasm-bindgen --target web) lives under /pkg. It is imported
// dynamically so that a missing or broken package shows an error on the page
// instead of stopping every other module from loading.
//
// Everything here is a GET to this page's own origin: the model list, the
// manifest text and the weights. Nothing is ever sent.
//
// Both threads import this module, each with its own copy of the package and
// of the model list: the detector worker (js/worker.js) loads the models and
// runs them (`getModel`), the page uses the package for quick calls
// (`relocate`, `checkOrder`, the audit chart) and never loads a model.

const PKG_URL = new URL("../pkg/fairmark.js", import.meta.url);
const API_MODELS = new URL("../api/models", import.meta.url);

let fmPromise = null;
let fmLoaded = null;

/** The wasm module if it has finished loading, else null (for synchronous renderers). */
export function loadedPackage() {
  return fmLoaded;
}

/** The initialised wasm module namespace (`fm`). */
export function loadPackage() {
  if (!fmPromise) {
    fmPromise = (async () => {
      let fm;
      try {
        fm = await import(PKG_URL.href);
      } catch (e) {
        throw new Error(
          `could not load the WebAssembly package from ${PKG_URL.pathname} (${e.message}); ` +
            "build it with `bash scripts/build-web.sh`",
        );
      }
      await fm.default();
      fmLoaded = fm;
      return fm;
    })();
    fmPromise.catch(() => {
      fmPromise = null; // let a later call try again
    });
  }
  return fmPromise;
}

/**
 * Decodes an image file into an ImageBitmap, refusing one with more pixels
 * than the wasm model takes (`maxPixels()`, the limit `fairmark detect`
 * applies to files too) before it is drawn to a canvas: the canvas, its RGBA
 * copy and the copy in wasm memory would take 12 bytes per pixel.
 */
export async function decodeImageFile(file) {
  const fm = await loadPackage();
  const max = fm.maxPixels();
  const bmp = await createImageBitmap(file);
  const pixels = bmp.width * bmp.height;
  if (pixels > max) {
    bmp.close();
    throw new Error(
      `${bmp.width}×${bmp.height} = ${pixels.toLocaleString("en")} pixels exceeds the limit of ` +
        `${max.toLocaleString("en")}; reduce the image first`,
    );
  }
  return bmp;
}

async function getOk(url, what) {
  let res;
  try {
    res = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
  } catch (e) {
    throw new Error(`${what}: network error (${e.message})`);
  }
  if (!res.ok) {
    const err = new Error(`${what}: HTTP ${res.status} ${res.statusText} for ${new URL(url, location.href).pathname}`);
    err.status = res.status;
    throw err;
  }
  return res;
}

let catalogue = null;

/** `GET /api/models` → [{name, manifest, manifest_url, weights_url, card_url}] */
export async function listModels() {
  if (!catalogue) {
    const res = await getOk(API_MODELS.href, "model list");
    const body = await res.json();
    if (!body || !Array.isArray(body.models)) throw new Error("model list: the server answered without a `models` array");
    catalogue = body.models;
  }
  return catalogue;
}

export function modelEntry(name) {
  return (catalogue || []).find((m) => m.name === name) || null;
}

const bytesCache = new Map(); // name → Promise<{weights, manifestText}>
const modelCache = new Map(); // `${name}|${backend}` → Promise<Model>

async function fetchPair(entry) {
  const [m, w] = await Promise.all([
    getOk(entry.manifest_url, `manifest of ${entry.name}`),
    getOk(entry.weights_url, `weights of ${entry.name}`),
  ]);
  return { manifestText: await m.text(), weights: new Uint8Array(await w.arrayBuffer()) };
}

function fetchModelFiles(entry) {
  if (!bytesCache.has(entry.name)) {
    const p = (async () => {
      try {
        return await fetchPair(entry);
      } catch (e) {
        // The listed URLs name one version (?v=<sha256>): 409 means the model
        // was published again since the list was read. List again, retry once,
        // so the manifest and the weights always come from one publish.
        if (e.status !== 409) throw e;
        catalogue = null;
        await listModels();
        const fresh = modelEntry(entry.name);
        if (!fresh) throw new Error(`model ${JSON.stringify(entry.name)} is no longer published`);
        return await fetchPair(fresh);
      }
    })();
    p.catch(() => bytesCache.delete(entry.name));
    bytesCache.set(entry.name, p);
  }
  return bytesCache.get(entry.name);
}

/**
 * The loaded model `name` on `backend` ("auto" | "webgpu" | "cpu"), cached.
 * Rejects with the API's Error (sha256 mismatch, bad manifest, no WebGPU…).
 */
export function getModel(name, backend) {
  const key = `${name}|${backend}`;
  if (!modelCache.has(key)) {
    const p = (async () => {
      const entry = modelEntry(name);
      if (!entry) throw new Error(`unknown model ${JSON.stringify(name)}`);
      const [fm, files] = await Promise.all([loadPackage(), fetchModelFiles(entry)]);
      // Copy: the wasm side may take ownership of the buffer.
      return await fm.Model.load(files.weights.slice(), files.manifestText, backend);
    })();
    p.catch(() => modelCache.delete(key));
    modelCache.set(key, p);
  }
  return modelCache.get(key);
}

/** Attributes of a catalogue entry: [{name, groups}] from the manifest's
 * `attributes` (which the core checks against its config when it loads). */
export function entryAttributes(entry) {
  const top = entry && entry.manifest && entry.manifest.attributes;
  if (top && typeof top === "object") return Object.entries(top).map(([name, groups]) => ({ name, groups }));
  return [];
}
