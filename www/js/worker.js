// The detector worker (a module worker started by js/engine.js): it loads the
// wasm package and the models through the same js/wasm.js as the page and
// runs the long calls of the wasm API here, off the page's main thread:
// `Model.load`, `model.detect`, `audit`, `renderPhantom`. WebGPU
// (`navigator.gpu`) exists in dedicated workers, so "auto" and "webgpu" work
// here as they did in the page; the CPU fallback is the same wasm.
//
// Messages: `{id, op, args}` in, `{id, ok: true, value}` or `{id, ok: false,
// error}` out (docs/WEB.md, "The worker"). `error` is the message of what
// the wasm API or a fetch threw, unchanged.

import { getModel, listModels, loadPackage } from "./wasm.js";
import { errorText } from "./util.js";

/** The model's getters, as plain data that can cross to the page. */
function describe(model) {
  return {
    name: model.name,
    backend: model.backend,
    backendNote: model.backendNote,
    method: model.method,
    anatomy: model.anatomy,
    inputSize: Array.from(model.inputSize),
    landmarkNames: Array.from(model.landmarkNames),
  };
}

// The catalogue is the worker's own copy of `GET /api/models` (wasm.js keeps
// it per thread); it is read before the first model is loaded.
async function model(name, backend) {
  await listModels();
  return getModel(name, backend);
}

/** RGBA bytes of an ImageBitmap sent by the page, read here, off the main thread. */
function bitmapPixels(bitmap) {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext("2d", { willReadFrequently: true });
  g.drawImage(bitmap, 0, 0);
  bitmap.close();
  return g.getImageData(0, 0, width, height).data;
}

const ops = {
  async load({ name, backend }) {
    return { value: describe(await model(name, backend)) };
  },
  async detect({ name, backend, source, width, height, options }) {
    const m = await model(name, backend);
    const pixels = typeof ImageBitmap !== "undefined" && source instanceof ImageBitmap ? bitmapPixels(source) : source;
    return { value: await m.detect(pixels, width, height, options) };
  },
  async audit({ csv, options }) {
    const fm = await loadPackage();
    return { value: fm.audit(csv, options) };
  },
  async renderPhantom({ anatomy, index, options }) {
    const fm = await loadPackage();
    const p = fm.renderPhantom(anatomy, index, options);
    // The pixels move to the page rather than being copied.
    return { value: p, transfer: p.pixels && p.pixels.buffer ? [p.pixels.buffer] : [] };
  },
};

self.addEventListener("message", async (e) => {
  const { id, op, args } = e.data || {};
  try {
    if (!Object.hasOwn(ops, op)) throw new Error(`the detector worker has no operation ${JSON.stringify(op)}`);
    const { value, transfer = [] } = await ops[op](args || {});
    self.postMessage({ id, ok: true, value }, transfer);
  } catch (err) {
    self.postMessage({ id, ok: false, error: errorText(err) });
  }
});
