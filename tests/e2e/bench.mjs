// In-browser detection time for one image (a 512×512 phantom, or a real
// radiograph at its own size with --image, e.g. a 1935×2400 ISBI cephalogram
// for the coarse-to-fine model): headless
// chromium, the real fairmark-server, model.detect timed cold (first call
// after loading the model: shader compilation, buffer allocation) and warm
// (median of N further calls), on WebGPU and on the CPU. Each backend runs in
// a fresh browser so that nothing, not even the shader cache, is warm.
//
//   node bench.mjs [--model ceph-unet-phantom] [--runs 10] [--backends webgpu,cpu] [--json out.json]
//   node bench.mjs --model isbi-unet-c2f --image /samples/isbi/153.jpg --runs 3
//
// Prints a table; --json writes the numbers. FAIRMARK_SERVER_BIN / FAIRMARK_URL
// as in e2e.mjs.
import { writeFileSync } from "node:fs";
import { launch, startServer } from "./lib.mjs";

function parseArgs(argv) {
  const o = { model: "ceph-unet-phantom", runs: 10, backends: ["webgpu", "cpu"], json: null, size: 512, image: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--model") o.model = v();
    else if (a === "--runs") o.runs = Math.max(1, Number(v()));
    else if (a === "--backends") o.backends = v().split(",").map((s) => s.trim()).filter(Boolean);
    else if (a === "--json") o.json = v();
    else if (a === "--size") o.size = Number(v());
    else if (a === "--image") o.image = v();
    else if (a === "-h" || a === "--help") {
      console.log("node bench.mjs [--model NAME] [--runs N] [--backends webgpu,cpu] [--size 512 | --image /samples/isbi/153.jpg] [--json PATH]");
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const b of o.backends) if (!["webgpu", "cpu"].includes(b)) throw new Error(`backend ${b}: expected webgpu or cpu`);
  return o;
}

/** Runs inside the page. */
async function benchInPage({ model: name, runs, backend, size, image }) {
  const now = () => performance.now();
  const t0 = now();
  const fm = await import("/pkg/fairmark.js");
  await fm.default();
  const tInit = now() - t0;
  const list = (await (await fetch("/api/models")).json()).models;
  const entry = list.find((m) => m.name === name);
  if (!entry) throw new Error(`model ${name} not served; have ${list.map((m) => m.name).join(", ")}`);
  const [manifestText, weights] = await Promise.all([
    fetch(entry.manifest_url).then((r) => r.text()),
    fetch(entry.weights_url).then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b)),
  ]);
  let adapter = null;
  if (navigator.gpu) {
    const a = await navigator.gpu.requestAdapter();
    if (a) adapter = { vendor: a.info?.vendor || "", architecture: a.info?.architecture || "", description: a.info?.description || "" };
  }
  const t1 = now();
  const model = await fm.Model.load(weights, manifestText, backend);
  const tLoad = now() - t1;

  let width = size;
  let height = size;
  let pixels;
  if (image) {
    // A real radiograph at its own size, decoded as the page decodes files.
    const bmp = await createImageBitmap(await (await fetch(image)).blob());
    [width, height] = [bmp.width, bmp.height];
    const c = new OffscreenCanvas(width, height);
    const cx = c.getContext("2d");
    cx.drawImage(bmp, 0, 0);
    pixels = cx.getImageData(0, 0, width, height).data;
  } else {
    // A size×size image: the bundled phantom, resampled on a canvas (RGBA).
    const anatomy = model.anatomy || entry.manifest.anatomy || "ceph";
    const p = fm.renderPhantom(anatomy, 0, { seed: 0 });
    const src = new OffscreenCanvas(p.width, p.height);
    const sctx = src.getContext("2d");
    const id = sctx.createImageData(p.width, p.height);
    for (let i = 0; i < p.width * p.height; i++) {
      const v = p.pixels.length === p.width * p.height ? p.pixels[i] : p.pixels[4 * i];
      id.data.set([v, v, v, 255], 4 * i);
    }
    sctx.putImageData(id, 0, 0);
    const dst = new OffscreenCanvas(size, size);
    const dctx = dst.getContext("2d");
    dctx.drawImage(src, 0, 0, size, size);
    pixels = dctx.getImageData(0, 0, size, size).data;
  }

  const one = async () => {
    const s = now();
    const r = await model.detect(pixels, width, height, {});
    return { ms: now() - s, t: r.timings_ms, n: r.landmarks.length, backend: r.backend };
  };
  const cold = await one();
  const warm = [];
  for (let i = 0; i < runs; i++) warm.push(await one());
  return { tInit, tLoad, adapter, backend: model.backend, backendNote: model.backendNote, cold, warm, version: fm.version(), inputSize: model.inputSize, image: [width, height] };
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r1 = (x) => Math.round(x * 10) / 10;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const server = await startServer({ log: (m) => console.error(m) });
  const out = { schema: "fairmark.web-bench/1", date: new Date().toISOString(), model: o.model, image: [o.size, o.size], image_url: o.image, runs: o.runs, server: server.url, results: {} };
  try {
    for (const backend of o.backends) {
      const browser = await launch({ webgpu: backend === "webgpu" });
      out.chromium = browser.version();
      try {
        const page = await browser.newPage();
        page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
        await page.goto(`${server.url}/`, { waitUntil: "load" });
        const wall0 = Date.now();
        const r = await page.evaluate(benchInPage, { model: o.model, runs: o.runs, backend, size: o.size, image: o.image });
        out.image = r.image;
        if (r.backend !== backend) throw new Error(`asked for ${backend}, the model runs on ${r.backend} (${r.backendNote})`);
        const wm = (f) => r1(median(r.warm.map(f)));
        out.version = r.version;
        out.results[backend] = {
          backend: r.backend,
          note: r.backendNote,
          adapter: r.adapter,
          model_input: r.inputSize,
          init_ms: r1(r.tInit),
          load_ms: r1(r.tLoad),
          cold_ms: r1(r.cold.ms),
          cold_timings_ms: r.cold.t,
          warm_median_ms: wm((w) => w.ms),
          warm_min_ms: r1(Math.min(...r.warm.map((w) => w.ms))),
          warm_max_ms: r1(Math.max(...r.warm.map((w) => w.ms))),
          warm_median_timings_ms: Object.fromEntries(Object.keys(r.warm[0].t || {}).map((k) => [k, wm((w) => w.t[k])])),
          warm_ms: r.warm.map((w) => r1(w.ms)),
          landmarks: r.cold.n,
          wall_s: (Date.now() - wall0) / 1000,
        };
      } finally {
        await browser.close();
      }
    }
  } finally {
    await server.stop();
  }

  const rows = Object.values(out.results);
  const head = ["backend", "load ms", "cold ms", "warm median ms", "warm min ms", "warm forward ms", "device"];
  const body = rows.map((x) => [
    x.backend,
    x.load_ms,
    x.cold_ms,
    x.warm_median_ms,
    x.warm_min_ms,
    x.warm_median_timings_ms.forward ?? "–",
    x.backend === "webgpu" ? [x.adapter?.vendor, x.adapter?.architecture].filter(Boolean).join(" ") || "?" : "wasm (1 thread)",
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padStart(i ? w[i] : 0).padEnd(w[i])).join("  ");
  console.log(`fairmark ${out.version} · ${o.model} · ${out.image.join("×")} image${o.image ? ` (${o.image})` : ""} · chromium ${out.chromium} · ${o.runs} warm runs`);
  console.log(line(head));
  for (const r of body) console.log(line(r));
  if (o.json) {
    writeFileSync(o.json, JSON.stringify(out, null, 2) + "\n");
    console.log(`wrote ${o.json}`);
  } else console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`bench failed: ${e.stack || e}`);
  process.exit(1);
});
