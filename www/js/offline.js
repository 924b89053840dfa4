// Offline use: registers the service worker (/sw.js, which keeps the page,
// the wasm package and the models used in versioned caches) and asks it to
// keep the files of each model the page loads. How versions are picked up
// and the limits: docs/WEB.md, "Offline".

const SW_URL = new URL("../sw.js", import.meta.url);

/** Resolves when `sw` activates; rejects when its install fails (it becomes redundant). */
function installed(sw) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (sw.state === "activated") resolve();
      else if (sw.state === "redundant") reject(new Error("a file of the page could not be cached"));
    };
    sw.addEventListener("statechange", check);
    check();
  });
}

/**
 * Registers the service worker; resolves to `{available, note}`. Once it is
 * active the page and the package are cached, and `<html data-offline>` says
 * "ready".
 */
export async function registerOffline() {
  if (!("serviceWorker" in navigator)) return { available: false, note: "this browser has no service workers" };
  try {
    // updateViaCache "none": the browser asks the server for sw.js itself at
    // every check, so a new service worker is seen at the next online visit.
    const reg = await navigator.serviceWorker.register(SW_URL, { updateViaCache: "none" });
    const sw = reg.installing || reg.waiting;
    if (!reg.active && sw) await installed(sw);
    await navigator.serviceWorker.ready;
    document.documentElement.dataset.offline = "ready";
    return { available: true, note: "this page, its package and the models used are kept for offline use" };
  } catch (e) {
    document.documentElement.dataset.offline = "error";
    return { available: false, note: `the offline copy could not be set up (${e.message || e})` };
  }
}

/**
 * Asks the service worker to keep the manifest and weights of `entry` (a
 * catalogue entry, URLs carrying `?v=<sha256>`); resolves to whether they are
 * cached. The worker's own fetches go through the service worker too, but not
 * on the first visit, before the service worker controls the page: this call
 * covers that case (the bytes come from the browser's HTTP cache).
 */
export async function keepModel(entry) {
  if (!entry || !("serviceWorker" in navigator)) return false;
  const reg = await navigator.serviceWorker.ready;
  if (!reg.active) return false;
  const urls = [entry.manifest_url, entry.weights_url].filter(Boolean).map((u) => new URL(u, location.href).href);
  const kept = await new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = (e) => resolve(Boolean(e.data && e.data.ok));
    reg.active.postMessage({ type: "keep", urls }, [ch.port2]);
  });
  if (kept) {
    const names = new Set((document.documentElement.dataset.offlineModels || "").split(" ").filter(Boolean));
    names.add(entry.name);
    document.documentElement.dataset.offlineModels = [...names].join(" ");
  }
  return kept;
}
