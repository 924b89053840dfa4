// CSV writing for the landmark export (RFC 4180 quoting).

function cell(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(Math.round(v * 1e4) / 1e4) : "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** `header` is a list of column names, `rows` a list of arrays. */
export function toCsv(header, rows) {
  return [header, ...rows].map((r) => r.map(cell).join(",")).join("\n") + "\n";
}

/**
 * Landmarks of one image:
 * `image,keypoint,name,x,y,x_mm,y_mm,corrected` (pixels of the original
 * image, y down; mm empty when the spacing is unknown).
 */
export function landmarksCsv(image, landmarks, mmPerPx, corrected) {
  const rows = landmarks.map((l, i) => [
    image,
    l.keypoint ?? i + 1,
    l.name,
    l.x,
    l.y,
    mmPerPx ? l.x * mmPerPx : null,
    mmPerPx ? l.y * mmPerPx : null,
    corrected.has(i) ? 1 : 0,
  ]);
  return toCsv(["image", "keypoint", "name", "x", "y", "x_mm", "y_mm", "corrected"], rows);
}
