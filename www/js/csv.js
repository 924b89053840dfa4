// CSV writing for the landmark export (RFC 4180 quoting).

// Text that starts with = + - @ (or a tab / carriage return) would be a
// formula in a spreadsheet: such cells get a leading ' (OWASP), as
// `metrics::predictions::csv_text` does on the Rust side. Landmark names come
// from whoever published the model, file names from the user's disk.
function cell(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(Math.round(v * 1e4) / 1e4) : "";
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
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
