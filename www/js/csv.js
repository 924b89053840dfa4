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
 * Landmarks of one detection document:
 * `image,keypoint,name,x,y,x_mm,y_mm,corrected` (pixels of the original
 * image, y down; mm empty when the spacing is unknown).
 */
export function landmarksCsv(image, landmarks) {
  const rows = landmarks.map((l) => [image, l.keypoint, l.name, l.x, l.y, l.x_mm, l.y_mm, l.corrected ? 1 : 0]);
  return toCsv(["image", "keypoint", "name", "x", "y", "x_mm", "y_mm", "corrected"], rows);
}
