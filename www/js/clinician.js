// Clinician view: open an X-ray (file, drop or bundled phantom), detect the
// landmarks, correct them by dragging or with the keyboard, read the
// measurements, export CSV / JSON / annotated PNG.
//
// Image bytes stay in this tab: files are decoded with createImageBitmap,
// drawn to a canvas and handed to the wasm model, which runs in the detector
// worker (js/engine.js), as an ImageBitmap. Relocating a dragged landmark and
// ordering the table are quick calls made to the page's own copy of the wasm
// package, so they never wait behind a detection.

import { loadPackage, loadedPackage, modelEntry, entryAttributes, decodeImageFile } from "./wasm.js";
import { getModel, renderPhantom } from "./engine.js";
import { drawScene, drawScaleBar } from "./draw.js";
import { landmarksCsv } from "./csv.js";
import { el, fmt, saveBlob, errorText, setStatus, safeName } from "./util.js";

const $ = (id) => document.getElementById(id);

// The detection document (fairmark.detect/2) is made in Rust, by the wasm
// model, and changed only through the wasm `relocate` (corrections, a new
// spacing): the page renders it and never re-derives mm, spacing or
// measurements.
const state = {
  entry: null, // catalogue entry of the chosen model
  image: null, // {canvas, width, height, name, phantom?: {landmarks, attributes, mm_per_px}}
  result: null, // the current detection document
  landmarks: [], // editable positions: [{keypoint, name, x, y}], mirrored into `result` by relocate
  selected: -1,
  givenMm: null, // spacing given by the user (null = none: the policy decides)
  measureError: null,
  view: { s: 1, tx: 0, ty: 0 },
  labels: "names",
  busy: false,
};

let ctxApp = null; // {backend(), reportModel(model)}
let canvas, ctx;

export function initClinician(app) {
  ctxApp = app;
  canvas = $("viewer");
  ctx = canvas.getContext("2d");
  $("clin-model").addEventListener("change", onModelChange);
  $("clin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    detect();
  });
  $("clin-file").addEventListener("change", (e) => {
    const f = e.target.files && e.target.files[0];
    if (f) openFile(f);
    e.target.value = "";
  });
  $("clin-sample").addEventListener("click", () => loadPhantom());
  $("clin-real-load").addEventListener("click", () => loadRealSample($("clin-real").value));
  $("clin-mm-use").addEventListener("click", () => {
    $("clin-mm").value = String(ISBI_MM_PER_PX);
    $("clin-mm-offer").hidden = true;
    onSpacingChange();
  });
  $("clin-truth").addEventListener("change", redraw);
  $("clin-mm").addEventListener("change", onSpacingChange);
  $("export-csv").addEventListener("click", exportCsv);
  $("export-json").addEventListener("click", exportJson);
  $("export-png").addEventListener("click", exportPng);
  $("zoom-in").addEventListener("click", () => zoomAt(1.25));
  $("zoom-out").addEventListener("click", () => zoomAt(0.8));
  $("zoom-fit").addEventListener("click", () => {
    fit();
    redraw();
  });
  addLabelSelect();
  setupDrop();
  setupPointer();
  setupKeys();
  new ResizeObserver(() => resizeCanvas()).observe(canvas);
  resizeCanvas();
}

export function setModels(models) {
  const sel = $("clin-model");
  sel.replaceChildren(...models.map((m) => el("option", { value: m.name, text: m.name })));
  // Start with a model trained on real cephalograms, else a plain U-Net on
  // ceph phantoms.
  const isbi = models.filter((m) => m.manifest && m.manifest.anatomy === "isbi");
  // The plain coarse-to-fine U-Net before its fine-tunes.
  const real = isbi.find((m) => m.manifest.method === "refine") || isbi[0];
  const phantom = models.find((m) => m.manifest && m.manifest.anatomy === "ceph" && m.manifest.method === "unet");
  const first = real || phantom;
  if (first) sel.value = first.name;
  onModelChange();
}

function anatomy() {
  return (state.entry && state.entry.manifest && state.entry.manifest.anatomy) || null;
}

function addLabelSelect() {
  const sel = el(
    "select",
    { id: "labels-mode" },
    el("option", { value: "names", text: "names" }),
    el("option", { value: "numbers", text: "numbers" }),
    el("option", { value: "off", text: "off" }),
  );
  sel.addEventListener("change", () => {
    state.labels = sel.value;
    redraw();
  });
  $("zoom-fit").after(el("label", { for: "labels-mode", class: "inline small", text: "Labels" }), sel);
}

// ---------------------------------------------------------------- model

function onModelChange() {
  const name = $("clin-model").value;
  const entry = modelEntry(name);
  const before = anatomy();
  state.entry = entry;
  const card = $("clin-model-card");
  if (entry && entry.card_url) {
    card.href = entry.card_url;
    card.textContent = `Model card of ${entry.name}`;
    card.hidden = false;
  } else card.hidden = true;
  const m = entry ? entry.manifest || {} : {};
  const overall = m.metrics && m.metrics.overall;
  $("clin-model-info").textContent = entry
    ? `${m.method || "?"} · ${m.anatomy || "?"} · ${(m.landmark_names || []).length} landmarks · input ${(m.input_size || []).join("×")}` +
      (overall ? ` · test MRE ${fmt(overall.mre_mm)} mm` : "")
    : "";
  // Patient attributes of this model.
  const box = $("clin-attr-fields");
  box.replaceChildren();
  for (const a of entryAttributes(entry)) {
    const id = `clin-attr-${a.name}`;
    box.append(
      el("label", { for: id, text: a.name.replace(/_/g, " ") }),
      el("select", { id, "data-attr": a.name }, el("option", { value: "", text: "unknown" }), ...a.groups.map((g) => el("option", { value: g, text: g }))),
    );
  }
  clearResult();
  if (state.image && state.image.phantom && before !== anatomy()) loadPhantom();
  else if (state.image && state.image.phantom) fillPhantomFields(state.image.phantom);
  updateButtons();
}

function attributesFromForm() {
  const out = {};
  for (const s of $("clin-attr-fields").querySelectorAll("select[data-attr]")) if (s.value) out[s.dataset.attr] = s.value;
  return out;
}

// ---------------------------------------------------------------- images

function setImage(img) {
  state.image = img;
  clearResult();
  fit();
  redraw();
  $("clin-image-info").textContent = `${img.name}: ${img.width}×${img.height} px${img.phantom ? ", synthetic phantom" : ""}.`;
  updateButtons();
}

async function openFile(file) {
  const st = $("clin-status");
  if (!/^image\/(png|jpeg)$/.test(file.type) && !/\.(png|jpe?g)$/i.test(file.name)) {
    setStatus(st, `${file.name}: not a PNG or JPEG image (type ${file.type || "unknown"}).`, "error");
    return;
  }
  try {
    const bmp = await decodeImageFile(file); // refuses images over the pixel cap
    const c = document.createElement("canvas");
    c.width = bmp.width;
    c.height = bmp.height;
    c.getContext("2d").drawImage(bmp, 0, 0);
    bmp.close();
    setImage({ canvas: c, width: c.width, height: c.height, name: file.name });
    $("clin-mm").value = "";
    // The spacing is offered, never guessed: only the user knows where the file came from.
    $("clin-mm-offer").hidden = !(c.width === ISBI_SIZE[0] && c.height === ISBI_SIZE[1]);
    setStatus(st, `Opened ${file.name} (${c.width}×${c.height}); it stays in this browser.`);
  } catch (e) {
    setStatus(st, `${file.name}: could not decode the image (${errorText(e)}).`, "error");
  }
}

function setupDrop() {
  const zone = $("drop");
  // A file dropped anywhere else must not make the browser navigate away to it.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => {
    e.preventDefault();
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (f && !$("view-clinician").hidden) openFile(f);
  });
  const targets = [zone, canvas];
  for (const t of targets) {
    t.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("over");
    });
    t.addEventListener("dragleave", () => zone.classList.remove("over"));
    t.addEventListener("drop", (e) => {
      e.preventDefault();
      e.stopPropagation();
      zone.classList.remove("over");
      const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      if (f) openFile(f);
    });
  }
}

function balancedGroups(attrs) {
  return attrs.flatMap((a) => a.groups.map((g) => `${g}:${(1 / a.groups.length).toFixed(6)}`)).join(",");
}

/** ISBI 2015 cephalograms: 1935×2400 pixels of 0.1 mm (Wang et al. 2016). */
const ISBI_SIZE = [1935, 2400];
const ISBI_MM_PER_PX = 0.1;

/** Opens one of the bundled ISBI 2015 Test1 cephalograms (www/samples/isbi). */
export async function loadRealSample(id) {
  const st = $("clin-status");
  if (!/^\d{3}$/.test(id || "")) return;
  try {
    const res = await fetch(`samples/isbi/${id}.jpg`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const blob = await res.blob();
    await openFile(new File([blob], `isbi-${id}.jpg`, { type: "image/jpeg" }));
    if (!state.image || state.image.name !== `isbi-${id}.jpg`) return;
    // The dataset states the spacing of its images: filling it in is not a guess.
    $("clin-mm").value = String(ISBI_MM_PER_PX);
    $("clin-mm-offer").hidden = true;
    setStatus(st, `ISBI 2015 cephalogram #${id} (Test1, 1935×2400, ${ISBI_MM_PER_PX} mm/px from the dataset). Press “Detect landmarks”.`);
  } catch (e) {
    setStatus(st, `Could not load the sample cephalogram: ${errorText(e)}`, "error");
  }
}

/** Renders the bundled phantom number N of the chosen model's anatomy. */
export async function loadPhantom() {
  const st = $("clin-status");
  const an = anatomy();
  if (!an) {
    setStatus(st, "Choose a model with a known anatomy (ceph or hand) to render its sample phantom.", "error");
    return;
  }
  const index = Math.max(0, Math.floor(Number($("clin-sample-index").value) || 0));
  try {
    const p = await renderPhantom(an, index, { seed: 0, groups: balancedGroups(entryAttributes(state.entry)) });
    const c = document.createElement("canvas");
    c.width = p.width;
    c.height = p.height;
    const cx = c.getContext("2d");
    const id = cx.createImageData(p.width, p.height);
    const px = p.pixels;
    const rgba = id.data;
    const grey = px.length === p.width * p.height;
    for (let i = 0, n = p.width * p.height; i < n; i++) {
      const v = grey ? px[i] : px[4 * i];
      rgba[4 * i] = grey ? v : px[4 * i];
      rgba[4 * i + 1] = grey ? v : px[4 * i + 1];
      rgba[4 * i + 2] = grey ? v : px[4 * i + 2];
      rgba[4 * i + 3] = 255;
    }
    cx.putImageData(id, 0, 0);
    const name = p.image || `${an}-phantom-${index}`;
    setImage({ canvas: c, width: p.width, height: p.height, name, phantom: { landmarks: p.landmarks, attributes: p.attributes || {}, mm_per_px: p.mm_per_px } });
    fillPhantomFields(state.image.phantom);
    const attrs = Object.entries(p.attributes || {}).map(([k, v]) => `${k} ${v}`).join(", ");
    setStatus(st, `Sample phantom ${name} (${an}${attrs ? `, ${attrs}` : ""}, ${fmt(p.mm_per_px, 3)} mm/px). Press “Detect landmarks”.`);
  } catch (e) {
    setStatus(st, `Could not render the sample phantom: ${errorText(e)}`, "error");
  }
}

function fillPhantomFields(ph) {
  $("clin-mm").value = ph.mm_per_px ? String(ph.mm_per_px) : "";
  for (const s of $("clin-attr-fields").querySelectorAll("select[data-attr]")) {
    const v = ph.attributes[s.dataset.attr];
    s.value = v && [...s.options].some((o) => o.value === v) ? v : "";
  }
}

// ---------------------------------------------------------------- detection

function updateButtons() {
  $("clin-detect").disabled = state.busy || !state.image || !state.entry;
  const has = state.landmarks.length > 0;
  for (const id of ["export-csv", "export-json", "export-png"]) $(id).disabled = !has;
  $("clin-truth").disabled = !(state.image && state.image.phantom);
}

/** Indices of the landmarks corrected by hand, from the document. */
function correctedSet() {
  const r = state.result;
  return new Set(r ? r.landmarks.flatMap((l, i) => (l.corrected ? [i] : [])) : []);
}

function clearResult() {
  state.result = null;
  state.landmarks = [];
  state.selected = -1;
  state.measureError = null;
  renderTables();
  redraw();
  updateButtons();
}

async function detect() {
  const st = $("clin-status");
  if (!state.image || !state.entry || state.busy) return;
  const mmField = $("clin-mm").value.trim();
  let mm = null;
  if (mmField) {
    mm = Number(mmField);
    if (!(mm > 0 && Number.isFinite(mm))) {
      setStatus(st, `Pixel spacing must be a positive number of mm per pixel, got “${mmField}”.`, "error");
      $("clin-mm").focus();
      return;
    }
  }
  state.busy = true;
  updateButtons();
  const backend = ctxApp.backend();
  try {
    setStatus(st, `Loading ${state.entry.name} (${backend})…`, "busy");
    const model = await getModel(state.entry.name, backend);
    ctxApp.reportModel(model);
    setStatus(st, `Detecting with ${model.name} on ${model.backend}…`, "busy");
    const img = state.image;
    // A snapshot of the canvas, moved to the worker: its pixels are read there.
    const bitmap = await createImageBitmap(img.canvas);
    const opts = { attributes: attributesFromForm(), imageName: img.name || null };
    if (mm !== null) opts.mmPerPx = mm;
    const r = await model.detect(bitmap, img.width, img.height, opts);
    state.result = r;
    state.givenMm = mm;
    state.landmarks = r.landmarks.map((l) => ({ keypoint: l.keypoint, name: l.name, x: l.x, y: l.y }));
    state.selected = -1;
    state.measureError = null;
    renderTables();
    redraw();
    const t = r.timings_ms || {};
    setStatus(
      st,
      `Detected ${r.landmarks.length} landmarks with ${r.model.method} on ${r.backend} in ${fmt(t.total, 0)} ms ` +
        `(preprocess ${fmt(t.preprocess, 0)}${r.preprocess ? ` on ${r.preprocess}` : ""}, forward ${fmt(t.forward, 0)}, decode ${fmt(t.decode, 0)} ms).`,
    );
  } catch (e) {
    setStatus(st, `Detection failed: ${errorText(e)}`, "error");
  } finally {
    state.busy = false;
    updateButtons();
  }
}

/** A new pixel spacing after detection: measure again, no need to re-detect. */
function onSpacingChange() {
  if (!state.landmarks.length) return;
  const v = $("clin-mm").value.trim();
  const mm = v ? Number(v) : null;
  if (mm !== null && !(mm > 0 && Number.isFinite(mm))) {
    setStatus($("clin-status"), `Pixel spacing must be a positive number of mm per pixel, got “${v}”.`, "error");
    return;
  }
  state.givenMm = mm;
  relocate();
  setStatus($("clin-status"), mm ? `Measuring with ${mm} mm per pixel.` : "Pixel spacing cleared.");
}

const SPACING_SOURCES = { given: "given", wrist_convention: "50 mm wrist convention" };

/** Spacing used for mm values and the scale bar, with where it came from (from the document). */
function spacing() {
  const r = state.result;
  if (!r || !(r.mm_per_px > 0)) return null;
  return { mm: r.mm_per_px, source: SPACING_SOURCES[r.spacing_source] || r.spacing_source };
}

/** The edited positions and the given spacing, applied by the core (wasm `relocate`). */
function relocate() {
  if (!state.result || !state.landmarks.length) return;
  loadPackage()
    .then((fm) => {
      try {
        state.result = fm.relocate(state.result, state.landmarks.map((l) => [l.x, l.y]), state.givenMm);
        state.measureError = null;
      } catch (e) {
        state.measureError = errorText(e);
      }
      renderTables();
      redraw();
    })
    .catch((e) => {
      state.measureError = errorText(e);
      renderMeasurements();
    });
}

// ---------------------------------------------------------------- tables

function renderTables() {
  renderMeasurements();
  renderLandmarks();
}

function mrow(key, label, value, unit, note) {
  const cells = [el("th", { scope: "row", text: label }), el("td", { class: "num", text: value }), el("td", { class: "unit", text: unit })];
  if (note) cells.push(note);
  return el("tr", { "data-key": key }, cells);
}

/** The ISBI 2015 challenge's eight measurements with their class (core: `measure::isbi2015`). */
function isbiRows(values) {
  const rows = [el("tr", {}, el("th", { colspan: "4", class: "subhead", text: "ISBI 2015 classes (Wang et al. 2016)" }))];
  for (const v of values) {
    // The challenge's "FMA" is S–N to Go–Gn, not the Frankfort FMA above.
    const label = v.name === "FMA" ? "FMA (S–N/Go–Gn)" : v.name;
    const range = `normal ${fmt(v.normal[0], 2)}–${fmt(v.normal[1], 2)}${v.unit}`;
    const note = el("td", { class: v.class === 1 ? "class" : "class abnormal", title: range, text: `C${v.class} ${v.meaning}` });
    rows.push(mrow(`isbi_${v.name}`, label, fmt(v.value, v.unit ? 1 : 2), v.unit, note));
  }
  return rows;
}

function renderMeasurements() {
  const box = $("measurements");
  const m = state.result && !state.measureError ? state.result.measurements : null;
  if (!state.landmarks.length) {
    box.replaceChildren(el("p", { class: "muted", text: "Detect landmarks to see measurements." }));
    return;
  }
  if (!m) {
    const an = (state.result && state.result.model.anatomy) || anatomy();
    const why = state.measureError
      ? `No measurements: ${state.measureError}`
      : an === "ceph"
        ? "Cephalometric measurements need the pixel spacing: enter it under Patient."
        : "No measurements for this model.";
    box.replaceChildren(el("p", { class: state.measureError ? "error" : "muted", id: "no-measurements", text: why }));
    $("scale-info").textContent = spacing() ? `${fmt(spacing().mm, 4)} mm/px (${spacing().source})` : "scale unknown";
    return;
  }
  const rows = [];
  if ("sna_deg" in m) {
    rows.push(
      mrow("sna_deg", "SNA", fmt(m.sna_deg, 1), "°"),
      mrow("snb_deg", "SNB", fmt(m.snb_deg, 1), "°"),
      mrow("anb_deg", "ANB", fmt(m.anb_deg, 1), "°"),
      mrow("fma_deg", "FMA", fmt(m.fma_deg, 1), "°"),
      mrow("s_n_mm", "S–N", fmt(m.s_n_mm, 1), "mm"),
      mrow("ans_me_mm", "ANS–Me", fmt(m.ans_me_mm, 1), "mm"),
    );
    if (!(m.mm_per_px > 0)) rows.push(el("tr", {}, el("td", { colspan: "3", class: "muted small", id: "no-spacing", text: "Lengths need the pixel spacing: enter it under Patient." })));
    if (m.isbi2015 && m.isbi2015.length) rows.push(...isbiRows(m.isbi2015));
  } else if ("fingers" in m) {
    rows.push(
      mrow("wrist_width_mm", "Wrist width", fmt(m.wrist_width_mm, 1), "mm"),
      mrow("wrist_deviation_mm", "Deviation from 50 mm", fmt(m.wrist_deviation_mm, 1), "mm"),
      mrow("wrist_plausible", "Wrist plausible", m.wrist_plausible ? "yes" : "no", ""),
    );
    for (const f of m.fingers || []) rows.push(mrow(`finger_${f.finger}`, `${f.finger} finger`, fmt(f.length_mm, 1), "mm"));
  }
  const sp = spacing();
  const table = el(
    "table",
    { class: "measure" },
    el("caption", { class: "visually-hidden", text: "Measurements from the current landmarks" }),
    el("tbody", {}, rows),
  );
  const note = el("p", {
    class: "muted small",
    id: "spacing-note",
    text: sp ? `Scale: ${fmt(sp.mm, 4)} mm per pixel (${sp.source}).` : "Scale: unknown, lengths in mm are not available.",
  });
  const nCorrected = correctedSet().size;
  const edits = nCorrected ? el("p", { class: "small", text: `${nCorrected} landmark(s) corrected by hand.` }) : null;
  box.replaceChildren(table, note, edits || "");
  $("scale-info").textContent = sp ? `${fmt(sp.mm, 4)} mm/px (${sp.source})` : "scale unknown";
}

function renderLandmarks() {
  const tbody = $("landmarks").querySelector("tbody");
  const doc = state.result ? state.result.landmarks : [];
  const corrected = correctedSet();
  // Least certain first (the core's order), so the ones to check by hand lead.
  let order = state.landmarks.map((_, i) => i);
  const fm = loadedPackage();
  if (state.result && fm) {
    try {
      order = Array.from(fm.checkOrder(state.result));
    } catch {
      /* a document without uncertainty keeps the landmark order */
    }
  }
  const low = doc.filter((d) => d.uncertainty && d.uncertainty.low).length;
  $("landmarks-note").textContent = doc.some((d) => d.uncertainty)
    ? `± is the model's own uncertainty radius (${state.result.mm_per_px ? "mm" : "px"}); least certain first. ` +
      (low ? `${low} landmark(s) marked “check”: radius over 2 mm.` : "None over 2 mm.")
    : "";
  tbody.replaceChildren(
    ...order.map((i) => {
      const l = state.landmarks[i];
      const u = doc[i] && doc[i].uncertainty;
      const btn = el("button", { type: "button", class: "link", "aria-pressed": String(i === state.selected), text: l.name });
      btn.addEventListener("click", () => {
        select(i);
        canvas.focus();
      });
      return el(
        "tr",
        {
          class: [i === state.selected ? "selected" : "", corrected.has(i) ? "corrected" : "", u && u.low ? "low-confidence" : ""].join(" ").trim() || null,
          "data-keypoint": String(l.keypoint ?? i + 1),
        },
        el("td", { class: "num", text: String(l.keypoint ?? i + 1) }),
        el("td", {}, btn),
        el("td", { class: "num", text: fmt(l.x, 1) }),
        el("td", { class: "num", text: fmt(l.y, 1) }),
        el("td", { class: "num", text: doc[i] ? fmt(doc[i].x_mm, 1) : "–" }),
        el("td", { class: "num", text: doc[i] ? fmt(doc[i].y_mm, 1) : "–" }),
        el("td", { class: "num uncertainty", text: u ? fmt(u.radius_mm ?? u.radius_px, u.radius_mm != null ? 2 : 1) : "–" }),
        el("td", { class: "check", text: u && u.low ? "check" : "" }),
      );
    }),
  );
}

function select(i) {
  state.selected = i;
  renderLandmarks();
  redraw();
  if (i >= 0) {
    const l = state.landmarks[i];
    setStatus($("clin-status"), `Selected ${l.keypoint ?? i + 1} ${l.name} at (${fmt(l.x, 1)}, ${fmt(l.y, 1)}) px. Arrow keys move it.`);
  }
}

// ---------------------------------------------------------------- view

function dpr() {
  return window.devicePixelRatio || 1;
}

function resizeCanvas() {
  const r = canvas.getBoundingClientRect();
  const w = Math.max(1, Math.round(r.width * dpr()));
  const h = Math.max(1, Math.round(r.height * dpr()));
  if (canvas.width !== w || canvas.height !== h) {
    const first = canvas.width === 0;
    canvas.width = w;
    canvas.height = h;
    if (state.image && (first || !state.userZoomed)) fit();
    redraw();
  }
}

function fit() {
  state.userZoomed = false;
  if (!state.image) return;
  const s = Math.min(canvas.width / state.image.width, canvas.height / state.image.height);
  state.view = { s, tx: (canvas.width - state.image.width * s) / 2, ty: (canvas.height - state.image.height * s) / 2 };
}

function zoomAt(f, cx = canvas.width / 2, cy = canvas.height / 2) {
  const v = state.view;
  const s = Math.min(40, Math.max(0.05, v.s * f));
  const k = s / v.s;
  state.view = { s, tx: cx - (cx - v.tx) * k, ty: cy - (cy - v.ty) * k };
  state.userZoomed = true;
  redraw();
}

let raf = 0;
function redraw() {
  if (raf) return;
  raf = requestAnimationFrame(() => {
    raf = 0;
    paint();
  });
}

function paint() {
  const d = dpr();
  const truth = $("clin-truth").checked && state.image && state.image.phantom ? state.image.phantom.landmarks : null;
  drawScene(ctx, state.image && state.image.canvas, state.view, {
    landmarks: state.landmarks,
    selected: state.selected,
    corrected: correctedSet(),
    uncertainty: state.result ? state.result.landmarks.map((l) => l.uncertainty) : [],
    truth,
    labels: state.labels,
    radius: 5 * d,
    font: 13 * d,
  });
  if (!state.image) {
    ctx.save();
    ctx.fillStyle = "#9fb0c0";
    ctx.font = `${15 * d}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.fillText("Open an X-ray or load the sample phantom", canvas.width / 2, canvas.height / 2);
    ctx.restore();
  }
  const sp = spacing();
  if (state.image && sp) drawScaleBar(ctx, sp.mm / state.view.s, `${fmt(sp.mm, 3)} mm/px`, d);
  // Landmark positions in CSS pixels, for assistive tooling and tests.
  const v = state.view;
  canvas.dataset.points = JSON.stringify(state.landmarks.map((l) => [+((l.x * v.s + v.tx) / d).toFixed(1), +((l.y * v.s + v.ty) / d).toFixed(1)]));
}

function toImage(e) {
  const d = dpr();
  const r = canvas.getBoundingClientRect();
  const cx = (e.clientX - r.left) * d;
  const cy = (e.clientY - r.top) * d;
  return { cx, cy, x: (cx - state.view.tx) / state.view.s, y: (cy - state.view.ty) / state.view.s };
}

function hit(cx, cy) {
  const tol = 12 * dpr();
  let best = -1;
  let bestD = tol * tol;
  state.landmarks.forEach((l, i) => {
    const dx = l.x * state.view.s + state.view.tx - cx;
    const dy = l.y * state.view.s + state.view.ty - cy;
    const dd = dx * dx + dy * dy;
    if (dd <= bestD) {
      bestD = dd;
      best = i;
    }
  });
  return best;
}

function moveLandmark(i, x, y) {
  const l = state.landmarks[i];
  l.x = Math.min(state.image.width - 1, Math.max(0, x));
  l.y = Math.min(state.image.height - 1, Math.max(0, y));
  relocate();
  renderLandmarks();
  redraw();
}

function setupPointer() {
  let drag = null; // {kind:"point", i} | {kind:"pan", cx, cy, tx, ty}
  canvas.addEventListener("pointerdown", (e) => {
    if (!state.image || e.button !== 0) return;
    canvas.focus();
    const p = toImage(e);
    const i = hit(p.cx, p.cy);
    if (i >= 0) {
      drag = { kind: "point", i, moved: false };
      select(i);
    } else drag = { kind: "pan", cx: p.cx, cy: p.cy, tx: state.view.tx, ty: state.view.ty };
    canvas.setPointerCapture(e.pointerId);
    canvas.classList.add(i >= 0 ? "dragging" : "panning");
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drag) {
      if (state.landmarks.length) canvas.classList.toggle("over-point", hit(toImage(e).cx, toImage(e).cy) >= 0);
      return;
    }
    const p = toImage(e);
    if (drag.kind === "point") {
      drag.moved = true;
      moveLandmark(drag.i, p.x, p.y);
    } else {
      state.view = { ...state.view, tx: drag.tx + p.cx - drag.cx, ty: drag.ty + p.cy - drag.cy };
      state.userZoomed = true;
      redraw();
    }
  });
  const end = (e) => {
    if (!drag) return;
    if (drag.kind === "point" && drag.moved) {
      const l = state.landmarks[drag.i];
      setStatus($("clin-status"), `Moved ${l.name} to (${fmt(l.x, 1)}, ${fmt(l.y, 1)}) px; measurements updated.`);
    }
    drag = null;
    canvas.classList.remove("dragging", "panning");
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener(
    "wheel",
    (e) => {
      if (!state.image) return;
      e.preventDefault();
      const p = toImage(e);
      zoomAt(Math.exp(-e.deltaY * 0.0015), p.cx, p.cy);
    },
    { passive: false },
  );
}

function setupKeys() {
  canvas.addEventListener("keydown", (e) => {
    if (!state.image) return;
    const n = state.landmarks.length;
    const step = e.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key in moves) {
      e.preventDefault();
      if (state.selected < 0) {
        // Without a selection the arrows pan.
        const [dx, dy] = moves[e.key];
        state.view = { ...state.view, tx: state.view.tx - dx * 20, ty: state.view.ty - dy * 20 };
        redraw();
        return;
      }
      const l = state.landmarks[state.selected];
      const [dx, dy] = moves[e.key];
      moveLandmark(state.selected, l.x + dx, l.y + dy);
      setStatus($("clin-status"), `${l.name} at (${fmt(l.x, 1)}, ${fmt(l.y, 1)}) px.`);
    } else if ((e.key === "n" || e.key === "N" || e.key === "]") && n) {
      e.preventDefault();
      select((state.selected + 1 + n) % n);
    } else if ((e.key === "p" || e.key === "P" || e.key === "[") && n) {
      e.preventDefault();
      select((state.selected - 1 + n) % n);
    } else if (e.key === "Escape") {
      select(-1);
    } else if (e.key === "+" || e.key === "=") {
      e.preventDefault();
      zoomAt(1.25);
    } else if (e.key === "-" || e.key === "_") {
      e.preventDefault();
      zoomAt(0.8);
    } else if (e.key === "0") {
      e.preventDefault();
      fit();
      redraw();
    }
  });
}

// ---------------------------------------------------------------- export

function exportBase() {
  return `${safeName(state.image && state.image.name)}-landmarks`;
}

/** The detection document as the core made it (with the corrections applied through `relocate`). */
function exportObject() {
  return state.result;
}

function exportCsv() {
  const r = state.result;
  const text = landmarksCsv(state.image.name, r.landmarks);
  saveBlob(new Blob([text], { type: "text/csv" }), `${exportBase()}.csv`);
  setStatus($("clin-status"), `Exported ${r.landmarks.length} landmarks as CSV.`);
}

function exportJson() {
  const text = JSON.stringify(exportObject(), null, 2) + "\n";
  saveBlob(new Blob([text], { type: "application/json" }), `${exportBase()}.json`);
  setStatus($("clin-status"), `Exported ${state.landmarks.length} landmarks and the measurements as JSON.`);
}

function exportPng() {
  const img = state.image;
  const c = document.createElement("canvas");
  c.width = img.width;
  c.height = img.height;
  const cx = c.getContext("2d");
  const unit = Math.max(1, Math.min(img.width, img.height) / 500);
  drawScene(cx, img.canvas, { s: 1, tx: 0, ty: 0 }, {
    landmarks: state.landmarks,
    selected: -1,
    corrected: correctedSet(),
    truth: null,
    labels: state.labels === "off" ? "off" : state.labels,
    radius: 4 * unit,
    font: 12 * unit,
  });
  const sp = spacing();
  if (sp) drawScaleBar(cx, sp.mm, `${fmt(sp.mm, 3)} mm/px`, unit);
  c.toBlob((blob) => {
    if (!blob) {
      setStatus($("clin-status"), "Could not encode the PNG.", "error");
      return;
    }
    saveBlob(blob, `${exportBase()}.png`);
    setStatus($("clin-status"), "Exported the annotated image as PNG.");
  }, "image/png");
}
