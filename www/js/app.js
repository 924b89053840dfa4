// Page start-up: tabs, the compute-backend choice, the engine status line,
// the model list shared by both views, and the offline copy (service worker).

import { loadPackage, listModels, modelEntry } from "./wasm.js";
import { registerOffline, keepModel } from "./offline.js";
import { initClinician, setModels as setClinicianModels } from "./clinician.js";
import { initBias, setModels as setBiasModels } from "./bias.js";
import { errorText, setStatus } from "./util.js";

const $ = (id) => document.getElementById(id);
const BACKEND_KEY = "fairmark.backend";

let webgpu = { available: false, note: "not checked" };

function backend() {
  return $("backend").value;
}

function showGpuWarning(text) {
  const box = $("gpu-warning");
  box.textContent = text || "";
  box.hidden = !text;
}

/** Called by the views after loading a model: says which backend really runs. */
function reportModel(model) {
  const note = model.backendNote ? ` (${model.backendNote})` : "";
  setStatus($("engine"), `${model.name}: running on ${model.backend === "webgpu" ? "WebGPU" : "the CPU"}${note}.`);
  $("engine").dataset.backend = model.backend;
  if (model.backend === "cpu" && backend() !== "cpu") {
    showGpuWarning(`WebGPU is not available here${note}: detection runs on the CPU (WebAssembly), which is slower but gives the same landmarks.`);
  } else if (model.backend === "webgpu") showGpuWarning("");
  // A model that loaded is one the user chose: keep it for offline use.
  keepModel(modelEntry(model.name)).catch(() => {
    /* offline use is a convenience: a failure here must not disturb detection */
  });
}

async function probeWebGpu() {
  if (!("gpu" in navigator) || !navigator.gpu) return { available: false, note: "navigator.gpu is missing" };
  try {
    const a = await navigator.gpu.requestAdapter();
    if (!a) return { available: false, note: "no WebGPU adapter" };
    const info = a.info || {};
    return { available: true, note: [info.vendor, info.architecture].filter(Boolean).join(" ") || "adapter found" };
  } catch (e) {
    return { available: false, note: `requestAdapter failed: ${errorText(e)}` };
  }
}

function setupTabs() {
  const tabs = [$("tab-clinician"), $("tab-bias")];
  const activate = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    history.replaceState(null, "", tab.id === "tab-bias" ? "#bias" : "#clinician");
  };
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => activate(t, false));
    t.addEventListener("keydown", (e) => {
      let j = null;
      if (e.key === "ArrowRight") j = (i + 1) % tabs.length;
      else if (e.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
      else if (e.key === "Home") j = 0;
      else if (e.key === "End") j = tabs.length - 1;
      if (j !== null) {
        e.preventDefault();
        activate(tabs[j], true);
      }
    });
  });
  if (location.hash === "#bias") activate(tabs[1], false);
}

async function main() {
  setupTabs();
  const sel = $("backend");
  try {
    const saved = localStorage.getItem(BACKEND_KEY);
    if (saved && [...sel.options].some((o) => o.value === saved)) sel.value = saved;
  } catch {
    /* storage may be disabled */
  }
  const q = new URLSearchParams(location.search).get("backend");
  if (q && [...sel.options].some((o) => o.value === q)) sel.value = q;
  sel.addEventListener("change", () => {
    try {
      localStorage.setItem(BACKEND_KEY, sel.value);
    } catch {
      /* ignore */
    }
    setStatus($("engine"), `Compute: ${sel.options[sel.selectedIndex].text}. The next detection loads the model for it.`);
    if (sel.value === "webgpu" && !webgpu.available) showGpuWarning(`WebGPU was requested but is not available (${webgpu.note}).`);
    else showGpuWarning("");
  });

  const ctx = { backend, reportModel };
  initClinician(ctx);
  initBias(ctx);

  const engine = $("engine");
  const offline = registerOffline();
  const [pkg, models, gpu] = await Promise.allSettled([loadPackage(), listModels(), probeWebGpu()]);
  webgpu = gpu.status === "fulfilled" ? gpu.value : { available: false, note: "probe failed" };
  document.documentElement.dataset.webgpu = String(webgpu.available);
  const problems = [];
  if (pkg.status === "fulfilled") $("version").textContent = `v${pkg.value.version()}`;
  else problems.push(errorText(pkg.reason));
  if (models.status === "fulfilled") {
    if (!models.value.length) problems.push("the server lists no models");
    setClinicianModels(models.value);
    setBiasModels(models.value);
  } else problems.push(errorText(models.reason));
  if (problems.length) {
    setStatus(engine, `Not ready: ${problems.join("; ")}.`, "error");
    document.documentElement.dataset.ready = "error";
    return;
  }
  setStatus(
    engine,
    `Ready: fairmark ${pkg.value.version()}, ${models.value.length} models. ` +
      (webgpu.available ? `WebGPU available (${webgpu.note}).` : `WebGPU unavailable (${webgpu.note}): detection will run on the CPU.`),
  );
  if (!webgpu.available) showGpuWarning(`WebGPU is not available in this browser (${webgpu.note}): detection runs on the CPU (WebAssembly), which is slower but works.`);
  document.documentElement.dataset.ready = "true";
  const off = await offline;
  $("offline-status").textContent = navigator.onLine ? `Offline use: ${off.note}.` : "Offline: running from the copy kept at an earlier visit.";
}

main().catch((e) => {
  setStatus($("engine"), `Start-up failed: ${errorText(e)}`, "error");
  document.documentElement.dataset.ready = "error";
});
