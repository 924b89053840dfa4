// Drawing: landmarks over an X-ray (screen view and exported PNG), the mm
// scale bar, and the mean anatomy coloured by per-keypoint DP (SVG built as
// DOM with presentation attributes, which the page's CSP allows).

export const COLORS = {
  point: "#35d0ff",
  corrected: "#ffb020",
  selected: "#ff4fa3",
  truth: "#7dff7a",
  outline: "#081018",
  label: "#ffffff",
  uncertainty: "rgba(53, 208, 255, 0.55)",
  low: "#ff5a4f",
};

/**
 * Draws the image and landmarks on `ctx`.
 * view: {s, tx, ty} maps image pixels to canvas pixels (x·s + tx).
 * opts: {landmarks:[{x,y,name,keypoint}], selected, corrected:Set, truth:[[x,y]]|null,
 *        labels:"names"|"numbers"|"off", radius (canvas px), font (canvas px)}
 */
export function drawScene(ctx, image, view, opts) {
  const { width: cw, height: ch } = ctx.canvas;
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#0b0f14";
  ctx.fillRect(0, 0, cw, ch);
  if (image) {
    ctx.imageSmoothingEnabled = view.s < 2;
    ctx.drawImage(image, view.tx, view.ty, image.width * view.s, image.height * view.s);
  }
  const r = opts.radius ?? 5;
  const font = opts.font ?? 13;
  const toScreen = (x, y) => [x * view.s + view.tx, y * view.s + view.ty];

  if (opts.truth) {
    ctx.strokeStyle = COLORS.truth;
    ctx.lineWidth = Math.max(1, r / 3);
    for (const [x, y] of opts.truth) {
      const [sx, sy] = toScreen(x, y);
      ctx.beginPath();
      ctx.moveTo(sx - r, sy - r);
      ctx.lineTo(sx + r, sy + r);
      ctx.moveTo(sx + r, sy - r);
      ctx.lineTo(sx - r, sy + r);
      ctx.stroke();
    }
  }

  const lms = opts.landmarks || [];
  // The model's uncertainty radius (image pixels) as a dashed circle, red
  // where it exceeds 2 mm: where to look twice.
  (opts.uncertainty || []).forEach((u, i) => {
    if (!u || !lms[i] || !(u.radius_px > 0)) return;
    const [sx, sy] = toScreen(lms[i].x, lms[i].y);
    ctx.beginPath();
    ctx.setLineDash([r, r]);
    ctx.arc(sx, sy, Math.max(r * 1.2, u.radius_px * view.s), 0, Math.PI * 2);
    ctx.lineWidth = Math.max(1, r / 4);
    ctx.strokeStyle = u.low ? COLORS.low : COLORS.uncertainty;
    ctx.stroke();
    ctx.setLineDash([]);
  });
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.textBaseline = "middle";
  lms.forEach((l, i) => {
    const [sx, sy] = toScreen(l.x, l.y);
    const sel = i === opts.selected;
    const color = sel ? COLORS.selected : opts.corrected && opts.corrected.has(i) ? COLORS.corrected : COLORS.point;
    ctx.beginPath();
    ctx.arc(sx, sy, sel ? r * 1.5 : r, 0, Math.PI * 2);
    ctx.fillStyle = color;
    ctx.fill();
    ctx.lineWidth = Math.max(1, r / 3);
    ctx.strokeStyle = COLORS.outline;
    ctx.stroke();
    if (sel) {
      ctx.beginPath();
      ctx.arc(sx, sy, r * 2.6, 0, Math.PI * 2);
      ctx.strokeStyle = COLORS.selected;
      ctx.lineWidth = Math.max(1, r / 3);
      ctx.stroke();
    }
    const label = opts.labels === "off" ? "" : opts.labels === "numbers" ? String(l.keypoint ?? i + 1) : l.name;
    if (label) {
      const lx = sx + r * 1.8;
      ctx.lineWidth = Math.max(2, font / 4);
      ctx.strokeStyle = COLORS.outline;
      ctx.strokeText(label, lx, sy);
      ctx.fillStyle = sel ? COLORS.selected : COLORS.label;
      ctx.fillText(label, lx, sy);
    }
  });
  ctx.restore();
}

/** A "nice" length in mm (1, 2, 5 × 10ⁿ) whose bar is about `targetPx` long. */
export function niceMm(mmPerScreenPx, targetPx = 120) {
  const raw = mmPerScreenPx * targetPx;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [5, 2, 1]) if (m * p <= raw) return m * p;
  return p;
}

/** Scale bar in the bottom-left corner; `mmPerCanvasPx` = spacing / view scale. */
export function drawScaleBar(ctx, mmPerCanvasPx, note, unit = 1) {
  if (!(mmPerCanvasPx > 0)) return;
  const mm = niceMm(mmPerCanvasPx, 120 * unit);
  const len = mm / mmPerCanvasPx;
  const x = 16 * unit;
  const y = ctx.canvas.height - 18 * unit;
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "rgba(8,16,24,0.75)";
  ctx.fillRect(x - 8 * unit, y - 24 * unit, len + 16 * unit + 170 * unit, 36 * unit);
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = 3 * unit;
  ctx.beginPath();
  ctx.moveTo(x, y - 6 * unit);
  ctx.lineTo(x, y);
  ctx.lineTo(x + len, y);
  ctx.lineTo(x + len, y - 6 * unit);
  ctx.stroke();
  ctx.fillStyle = "#fff";
  ctx.font = `600 ${12 * unit}px system-ui, sans-serif`;
  ctx.textBaseline = "alphabetic";
  ctx.fillText(`${mm} mm`, x, y - 10 * unit);
  if (note) ctx.fillText(note, x + len + 10 * unit, y);
  ctx.restore();
}

/** Sequential colour for t ∈ [0, 1]: pale yellow → orange → dark red. */
export function dpColor(t) {
  const stops = [
    [0, [255, 247, 188]],
    [0.5, [254, 153, 41]],
    [1, [153, 0, 13]],
  ];
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  let i = 0;
  while (i < stops.length - 2 && x > stops[i + 1][0]) i++;
  const [t0, c0] = stops[i];
  const [t1, c1] = stops[i + 1];
  const u = (x - t0) / (t1 - t0);
  const c = c0.map((v, k) => Math.round(v + u * (c1[k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

const SVG = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

/**
 * The mean anatomy (fm.meanShape) with each landmark coloured by its DP.
 * values: DP per keypoint (fraction); flagged: Set of 0-based indices.
 */
export function meanAnatomySvg(shape, values, names, flagged, title) {
  const xs = shape.points.map((p) => p[0]);
  const ys = shape.points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const span = Math.max(x1 - x0, y1 - y0, 1);
  const pad = span * 0.12;
  const vmax = Math.max(0.05, ...values.filter(Number.isFinite));
  const r = span / 55;
  const font = span / 24;
  const legendH = font * 3.2;
  const vb = [x0 - pad, y0 - pad, x1 - x0 + 2 * pad + font * 3, y1 - y0 + 2 * pad + legendH];
  const svg = svgEl("svg", { viewBox: vb.join(" "), role: "img", "aria-label": title, class: "anatomy" });
  svg.append(svgEl("title", {}, title));
  svg.append(svgEl("rect", { x: vb[0], y: vb[1], width: vb[2], height: vb[3], fill: "#10161d", rx: r * 2 }));
  const many = shape.points.length > 15;
  shape.points.forEach(([x, y], i) => {
    const v = values[i];
    const g = svgEl("g");
    g.append(svgEl("title", {}, `${names[i] || `KP${i + 1}`}: DP ${Number.isFinite(v) ? v.toFixed(3) : "n/a"}${flagged.has(i) ? " (significant)" : ""}`));
    g.append(svgEl("circle", { cx: x, cy: y, r, fill: dpColor(v / vmax), stroke: "#000", "stroke-width": r / 4 }));
    if (flagged.has(i)) g.append(svgEl("circle", { cx: x, cy: y, r: r * 1.9, fill: "none", stroke: "#ff4fa3", "stroke-width": r / 3 }));
    g.append(svgEl("text", { x: x + r * 1.4, y: y + font / 3, fill: "#e8eef4", "font-size": font, "font-family": "system-ui, sans-serif" },
      many ? String(i + 1) : names[i] || `KP${i + 1}`));
    svg.append(g);
  });
  // Legend.
  const ly = y1 + pad;
  const steps = 10;
  const lw = Math.min(span * 0.55, span);
  const lx = x0;
  for (let s = 0; s < steps; s++) {
    svg.append(svgEl("rect", { x: lx + s * (lw / steps), y: ly, width: lw / steps + 0.5, height: font * 0.8, fill: dpColor(s / (steps - 1)) }));
  }
  const tf = { fill: "#e8eef4", "font-size": font * 0.85, "font-family": "system-ui, sans-serif" };
  svg.append(svgEl("text", { ...tf, x: lx, y: ly + font * 1.9 }, "DP 0"));
  svg.append(svgEl("text", { ...tf, x: lx + lw, y: ly + font * 1.9, "text-anchor": "end" }, vmax.toFixed(2)));
  const rx = lx + lw + font * 1.2;
  svg.append(svgEl("circle", { cx: rx, cy: ly + font * 0.4, r: r * 1.2, fill: "none", stroke: "#ff4fa3", "stroke-width": r / 3 }));
  svg.append(svgEl("text", { ...tf, x: rx + r * 2, y: ly + font * 0.7 }, "significant"));
  return svg;
}
