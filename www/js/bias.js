// Bias view: audit predictions for fairness across patient groups, from a
// predictions CSV or by running one or two models over the bundled phantom
// set in the browser; results side by side.
//
// Rendering the phantoms, detecting them and the audit run in the detector
// worker (js/engine.js); the page's own copy of the wasm package only writes
// the predictions CSV and draws the results (chart, mean anatomy).

import { loadPackage, modelEntry, entryAttributes } from "./wasm.js";
import { getModel, audit, renderPhantom } from "./engine.js";
import { meanAnatomySvg } from "./draw.js";
import { el, fmt, pct, frac, saveBlob, errorText, setStatus, nextFrame, safeName } from "./util.js";

const $ = (id) => document.getElementById(id);
const EXAMPLE_CSV = "samples/ceph-predictions.csv";

let app = null;
let results = []; // [{label, title, source, anatomy, names, report, csv, detail}]
let busy = false;
const chartUrls = [];

export function initBias(ctx) {
  app = ctx;
  $("bias-run").addEventListener("click", runSampleSet);
  $("bias-file").addEventListener("change", onFiles);
  $("bias-example").addEventListener("click", loadExample);
  $("bias-attr").addEventListener("change", render);
  $("bias-form").addEventListener("submit", (e) => e.preventDefault());
}

export function setModels(models) {
  const opts = (none) => [
    ...(none ? [el("option", { value: "", text: "none" })] : []),
    ...models.map((m) => el("option", { value: m.name, text: m.name })),
  ];
  $("bias-model-a").replaceChildren(...opts(false));
  $("bias-model-b").replaceChildren(...opts(true));
  // Default comparison: two models of the same anatomy with different methods (U-Net vs IdFOPNet).
  const a = models.find((m) => m.manifest && m.manifest.method === "unet" && m.manifest.anatomy === "ceph") || models[0];
  if (a) $("bias-model-a").value = a.name;
  const b = models.find((m) => a && m.name !== a.name && m.manifest && m.manifest.anatomy === a.manifest.anatomy);
  $("bias-model-b").value = b ? b.name : "";
  $("bias-run").disabled = models.length === 0;
}

function setBusy(on) {
  busy = on;
  for (const id of ["bias-run", "bias-example", "bias-file"]) $(id).disabled = on;
}

function auditOptions(anatomy) {
  const o = { rounds: Number($("bias-rounds").value) || 1000, seed: Number($("bias-seed").value) || 0, privacy: true, attributes: [] };
  if (anatomy) o.anatomy = anatomy; // landmark names and SDR radii; else the core infers it and reports it
  return o;
}

async function auditCsv(csv, anatomy) {
  const t0 = performance.now();
  const report = await audit(csv, auditOptions(anatomy));
  if (!report || report.schema !== "fairmark.audit/1") throw new Error("the audit returned no fairmark.audit/1 report");
  return { report, ms: performance.now() - t0 };
}

// ---------------------------------------------------------------- sources

async function onFiles(e) {
  const files = [...(e.target.files || [])].slice(0, 2);
  e.target.value = "";
  if (!files.length || busy) return;
  const st = $("bias-status");
  setBusy(true);
  try {
    const out = [];
    for (const f of files) {
      setStatus(st, `Auditing ${f.name}…`, "busy");
      await nextFrame();
      const csv = await f.text();
      let audited;
      try {
        audited = await auditCsv(csv);
      } catch (err) {
        throw new Error(`${f.name}: ${errorText(err)}`);
      }
      out.push(fromCsv(f.name, csv, audited, "predictions CSV"));
    }
    show(out);
    setStatus(st, `Audited ${out.map((r) => `${r.title} (${r.report.n_images} images)`).join(" and ")}.`);
  } catch (err) {
    setStatus(st, `Audit failed: ${errorText(err)}`, "error");
  } finally {
    setBusy(false);
  }
}

async function loadExample() {
  if (busy) return;
  const st = $("bias-status");
  setBusy(true);
  try {
    setStatus(st, "Loading the example predictions…", "busy");
    const res = await fetch(EXAMPLE_CSV, { credentials: "same-origin" });
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${EXAMPLE_CSV}`);
    const csv = await res.text();
    setStatus(st, "Auditing the example predictions…", "busy");
    await nextFrame();
    const audited = await auditCsv(csv);
    show([fromCsv("Example: simulated ceph predictions", csv, audited, `bundled ${EXAMPLE_CSV}`)]);
    setStatus(st, `Audited the example predictions (${audited.report.n_images} images) in ${fmt(audited.ms / 1000, 1)} s.`);
  } catch (err) {
    setStatus(st, `Could not audit the example: ${errorText(err)}`, "error");
  } finally {
    setBusy(false);
  }
}

function fromCsv(title, csv, { report, ms }, source) {
  const anatomy = report.anatomy || null; // as the core's audit determined it
  return { title, source, anatomy, names: report.keypoints.map((k) => k.name), report, csv, detail: `audit ${fmt(ms / 1000, 1)} s` };
}

const phantomCache = new Map();

async function phantoms(anatomy, n, seed, attrs) {
  const groups = attrs.flatMap((a) => a.groups.map((g) => `${g}:${(1 / a.groups.length).toFixed(6)}`)).join(",");
  const key = `${anatomy}|${n}|${seed}|${groups}`;
  if (!phantomCache.has(key)) {
    const list = [];
    for (let i = 0; i < n; i++) list.push(await renderPhantom(anatomy, i, { seed, groups }));
    phantomCache.set(key, list);
  }
  return phantomCache.get(key);
}

async function runSampleSet() {
  if (busy) return;
  const st = $("bias-status");
  const prog = $("bias-progress");
  const names = [$("bias-model-a").value, $("bias-model-b").value].filter(Boolean);
  const n = Math.min(400, Math.max(4, Math.floor(Number($("bias-n").value) || 24)));
  const seed = Math.max(0, Math.floor(Number($("bias-seed").value) || 0));
  if (!names.length) return;
  setBusy(true);
  prog.hidden = false;
  prog.max = names.length * n;
  prog.value = 0;
  try {
    const fm = await loadPackage();
    const out = [];
    const backend = app.backend();
    for (const [mi, name] of names.entries()) {
      const entry = modelEntry(name);
      setStatus(st, `Loading ${name} (${backend})…`, "busy");
      const model = await getModel(name, backend);
      app.reportModel(model);
      const anatomy = model.anatomy || (entry && entry.manifest.anatomy);
      if (!anatomy) throw new Error(`${name} has no anatomy, so there is no phantom set for it`);
      setStatus(st, `Rendering ${n} ${anatomy} phantoms…`, "busy");
      await nextFrame();
      const set = await phantoms(anatomy, n, seed, entryAttributes(entry));
      const rows = [];
      const t0 = performance.now();
      for (const [i, p] of set.entries()) {
        setStatus(st, `${name} on ${model.backend}: phantom ${i + 1} of ${n}…`, "busy");
        const r = await model.detect(p.pixels, p.width, p.height, { attributes: p.attributes || {}, mmPerPx: p.mm_per_px });
        rows.push({ image: p.image || `${anatomy}-${i}`, attributes: p.attributes || {}, truth: p.landmarks, pred: r.landmarks.map((l) => [l.x, l.y]), mm_per_px: p.mm_per_px });
        prog.value = mi * n + i + 1;
        await nextFrame();
      }
      const detectMs = performance.now() - t0;
      setStatus(st, `Auditing ${name} (${rows.length} images, ${auditOptions().rounds} rounds)…`, "busy");
      await nextFrame();
      const csv = fm.predictionsCsv(rows);
      const audited = await auditCsv(csv, anatomy);
      out.push({
        title: name,
        source: `${n} bundled ${anatomy} phantoms (seed ${seed}), detected in this browser`,
        anatomy,
        names: model.landmarkNames || audited.report.keypoints.map((k) => k.name),
        report: audited.report,
        csv,
        entry,
        detail: `${model.method} on ${model.backend}: detection ${fmt(detectMs / rows.length, 0)} ms/image, audit ${fmt(audited.ms / 1000, 1)} s`,
      });
    }
    show(out);
    setStatus(st, `Audited ${out.map((r) => r.title).join(" and ")} on ${n} phantoms.`);
  } catch (err) {
    setStatus(st, `Sample-set audit failed: ${errorText(err)}`, "error");
  } finally {
    prog.hidden = true;
    setBusy(false);
  }
}

// ---------------------------------------------------------------- rendering

function show(list) {
  results = list.map((r, i) => ({ ...r, label: String.fromCharCode(65 + i) }));
  const attrs = [...new Set(results.flatMap((r) => r.report.attributes))];
  const sel = $("bias-attr");
  const prev = sel.value;
  sel.replaceChildren(...attrs.map((a) => el("option", { value: a, text: a.replace(/_/g, " ") })));
  if (attrs.includes(prev)) sel.value = prev;
  sel.disabled = attrs.length === 0;
  render();
}

async function render() {
  const box = $("bias-results");
  for (const u of chartUrls.splice(0)) URL.revokeObjectURL(u);
  if (!results.length) {
    box.replaceChildren();
    return;
  }
  const fm = await loadPackage();
  const attr = $("bias-attr").value;
  box.classList.toggle("two", results.length > 1);
  box.replaceChildren(...results.map((r) => column(fm, r, attr)));
}

/** " (B worse by 27.7 pp)" from a keypoint's signed gap, "" in older reports. */
function direction(k, attr) {
  const g = k.gap && k.gap[attr];
  return g ? ` (${g.worse} worse by ${(-100 * g.sdr_gap).toFixed(1)} pp)` : "";
}

/** "−27.7 [−48, −6]": the signed SDR gap in percentage points with its interval. */
function gapText(k, attr) {
  const g = k.gap && k.gap[attr];
  if (!g) return "";
  const pp = (v) => `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(100 * v).toFixed(1)}`;
  return `${pp(g.sdr_gap)} [${pp(g.sdr_gap_ci[0])}, ${pp(g.sdr_gap_ci[1])}]`;
}

function chartImg(fm, report, attr) {
  let svg;
  const one = report.attributes.includes(attr) ? { ...report, attributes: [attr] } : report;
  try {
    svg = fm.auditChartSvg(one);
  } catch {
    svg = fm.auditChartSvg(report);
  }
  const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
  chartUrls.push(url);
  const flagged = report.keypoints.filter((k) => (k.flagged || []).includes(attr)).map((k) => `${k.name}${direction(k, attr)}`);
  const alt =
    `Bar chart of per-keypoint demographic parity (DP) of SDR at ${report.dp_threshold_mm} mm for ${attr}, ` +
    `mean ${fmt(report.dp_mean && report.dp_mean[attr], 3)}, with the attribute-randomised band; ` +
    (flagged.length ? `significant after Holm correction: ${flagged.join(", ")}.` : "no keypoint significant after Holm correction.");
  return el("img", { class: "dp-chart", src: url, alt });
}

function column(fm, r, attr) {
  const rep = r.report;
  const has = rep.attributes.includes(attr);
  const col = el("article", { class: "panel column", "data-column": r.label, "aria-labelledby": `col-${r.label}-title` });
  col.append(
    el("h3", { id: `col-${r.label}-title` }, el("span", { class: "badge", text: r.label }), ` ${r.title}`),
    el("p", { class: "muted small", text: `${r.source}. ${rep.n_images} images × ${rep.n_keypoints} keypoints; ${rep.rounds} rounds${r.detail ? `; ${r.detail}` : ""}.` }),
  );
  if (r.entry && r.entry.card_url) col.append(el("p", { class: "small" }, el("a", { href: r.entry.card_url, target: "_blank", rel: "noopener", text: "Model card" })));

  // Overall accuracy.
  // SDR keys in the report's threshold order (object keys would put "2.5" after "4").
  const th = (rep.thresholds_mm || []).map(String).filter((t) => rep.overall.sdr && t in rep.overall.sdr);
  col.append(
    el("h4", { text: "Accuracy" }),
    el(
      "p",
      { class: "kv" },
      `MRE ${fmt(rep.overall.mre_mm)} ± ${fmt(rep.overall.mre_std_mm)} mm; SDR `,
      th.map((t) => `${t} mm ${pct(rep.overall.sdr[t])}`).join(", "),
    ),
  );
  if (!has) {
    col.append(el("p", { class: "notice", text: `This audit has no attribute “${attr}”; it audited ${rep.attributes.join(", ")}.` }));
    return col;
  }

  // Headline fairness numbers.
  const pr = rep.privacy && rep.privacy[attr];
  col.append(
    el("h4", { text: `Fairness across ${attr.replace(/_/g, " ")}` }),
    el(
      "dl",
      { class: "facts" },
      el("dt", { text: "Mean DP" }),
      el("dd", { "data-metric": "dp_mean", text: fmt(rep.dp_mean && rep.dp_mean[attr], 3) }),
      el("dt", { text: "REN" }),
      el("dd", { "data-metric": "ren", text: fmt(rep.ren && rep.ren[attr], 4) }),
      el("dt", { text: "Privacy attack" }),
      el("dd", { "data-metric": "privacy", text: pr ? `${frac(pr.accuracy_mean)} ± ${frac(pr.accuracy_std)} (baseline ${frac(pr.baseline)})` : "not run" }),
    ),
  );
  if (pr && pr.accuracy_mean - pr.accuracy_std > pr.baseline + 0.05)
    col.append(el("p", { class: "notice small", text: `The errors predict ${attr} clearly better than chance: the model's mistakes leak the attribute.` }));

  // Chart, and the mean anatomy coloured by DP beside it.
  const viz = el("div", { class: "viz" });
  viz.append(el("figure", { class: "chart" }, chartImg(fm, rep, attr), el("figcaption", { class: "small muted", text: "Bars: observed DP per keypoint, coloured by the group that does worse there (hover for the signed gap). Orange: DP after randomly relabelling groups (mean, 95th percentile; a reproduction of Di Via et al., not a significance test). ★: significant by the permutation test after Holm correction over every test of the report." })));
  col.append(viz);

  // Groups.
  const groups = (rep.groups && rep.groups[attr]) || {};
  col.append(
    el("h4", { text: "Per group" }),
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { class: "groups" },
        el("caption", { class: "visually-hidden", text: `Accuracy per ${attr} group` }),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Group" }), el("th", { scope: "col", text: "Images" }), el("th", { scope: "col", text: "MRE mm" }), th.map((t) => el("th", { scope: "col", text: `SDR ${t} mm` })))),
        el(
          "tbody",
          {},
          Object.entries(groups).map(([g, s]) =>
            el("tr", {}, el("th", { scope: "row", text: g }), el("td", { class: "num", text: String(s.n_images) }), el("td", { class: "num", text: `${fmt(s.mre_mm)} ± ${fmt(s.mre_std_mm)}` }), th.map((t) => el("td", { class: "num", text: pct(s.sdr && s.sdr[t]) }))),
          ),
        ),
      ),
    ),
  );

  // Mean anatomy coloured by DP.
  const dp = rep.keypoints.map((k) => (k.dp ? k.dp[attr] : NaN));
  const flagged = new Set(rep.keypoints.map((k, i) => ((k.flagged || []).includes(attr) ? i : -1)).filter((i) => i >= 0));
  if (r.anatomy) {
    try {
      const shape = fm.meanShape(r.anatomy);
      const names = shape.landmark_names || r.names;
      viz.append(
        el(
          "figure",
          { class: "anatomy-fig" },
          meanAnatomySvg(shape, dp, names, flagged, `Mean ${r.anatomy} anatomy, landmarks coloured by DP for ${attr}`),
          el("figcaption", { class: "small muted", text: `Mean ${r.anatomy} anatomy, each landmark coloured by its DP for ${attr.replace(/_/g, " ")}${names.length > 15 ? " (numbers as in the chart)" : ""}.` }),
        ),
      );
    } catch (e) {
      viz.append(el("p", { class: "error small", text: `Mean anatomy unavailable: ${errorText(e)}` }));
    }
  }

  // Per keypoint details.
  col.append(
    el(
      "details",
      {},
      el("summary", { text: "Per-keypoint table" }),
      el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "kps" },
          el("thead", {}, el("tr", {}, ["#", "Name", "MRE mm", "DP", "Worse group", "SDR gap pp [95% CI]", "rand. p95", "p (Holm)", ""].map((h) => el("th", { scope: "col", text: h })))),
          el(
            "tbody",
            {},
            rep.keypoints.map((k) =>
              el(
                "tr",
                { class: (k.flagged || []).includes(attr) ? "flagged" : null },
                el("td", { class: "num", text: String(k.keypoint) }),
                el("td", { text: k.name }),
                el("td", { class: "num", text: fmt(k.mre_mm) }),
                el("td", { class: "num", text: fmt(k.dp && k.dp[attr], 3) }),
                el("td", { class: "worse", text: k.gap && k.gap[attr] ? (k.gap[attr].sdr_gap === 0 ? "none" : k.gap[attr].worse) : "" }),
                el("td", { class: "num", text: gapText(k, attr) }),
                el("td", { class: "num", text: fmt(k.dp_randomised && k.dp_randomised[attr] && k.dp_randomised[attr].p95, 3) }),
                el("td", { class: "num", text: fmt(k.p_holm && k.p_holm[attr], 3) }),
                el("td", { text: (k.flagged || []).includes(attr) ? `★ significant${direction(k, attr)}` : "" }),
              ),
            ),
          ),
        ),
      ),
    ),
  );

  if (rep.warnings && rep.warnings.length) col.append(el("details", { class: "warnings" }, el("summary", { text: `${rep.warnings.length} warning(s)` }), el("ul", {}, rep.warnings.map((w) => el("li", { text: w })))));

  const dl = el("div", { class: "exports" });
  const bj = el("button", { type: "button", text: "Report JSON" });
  bj.addEventListener("click", () => saveBlob(new Blob([JSON.stringify(rep, null, 2) + "\n"], { type: "application/json" }), `${safeName(r.title)}-audit.json`));
  const bc = el("button", { type: "button", text: "Predictions CSV" });
  bc.addEventListener("click", () => saveBlob(new Blob([r.csv], { type: "text/csv" }), `${safeName(r.title)}-predictions.csv`));
  dl.append(bj, bc);
  col.append(dl);
  return col;
}
