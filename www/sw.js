// fairmark's service worker: after one visit the page, the wasm package and
// the models used load with the network off. Registered by js/offline.js;
// it lives at the root of the page so that its scope covers the page.
//
// Two caches, named with CACHE_VERSION:
//   * the shell (the page, its scripts, the package, the model list, the
//     samples): network first. Online, every file is fetched as without a
//     service worker (the server answers 304 when it is unchanged), so a new
//     publish is used at once; offline, the last copy fetched is used.
//   * the models: their URLs name their bytes (`?v=<sha256>`), so a cached
//     copy is used without asking the network; a new publish is listed under
//     a new URL by /api/models, fetched once, and replaces the older version
//     of the same file.
// CACHE_VERSION changes when this file caches differently: activation then
// deletes every fairmark cache of another version. Details: docs/WEB.md.

const CACHE_VERSION = "1";
const SHELL = `fairmark-shell-v${CACHE_VERSION}`;
const MODELS = `fairmark-models-v${CACHE_VERSION}`;

// Fetched at install, relative to this script: everything the page needs
// before it can detect. The page loads these before the service worker
// controls it, so they would not pass through it on the first visit.
// tests/e2e checks that every file of www/js and www/pkg is listed here.
const PRECACHE = [
  "./",
  "style.css",
  "favicon.svg",
  "js/app.js",
  "js/bias.js",
  "js/clinician.js",
  "js/csv.js",
  "js/draw.js",
  "js/engine.js",
  "js/offline.js",
  "js/util.js",
  "js/wasm.js",
  "js/worker.js",
  "pkg/fairmark.js",
  "pkg/fairmark_bg.wasm",
  "api/models",
];

const scope = new URL(self.registration.scope);
const inScope = (url) => url.origin === scope.origin && url.pathname.startsWith(scope.pathname);
const rel = (url) => url.pathname.slice(scope.pathname.length);

/** What the page loads: cached network-first. Anything else passes through untouched. */
function isShell(url) {
  const p = rel(url);
  return p === "" || p === "index.html" || p === "style.css" || p === "favicon.svg" || p === "api/models" || /^(js|pkg|samples)\//.test(p);
}

/** A model file named by its version. */
function isVersionedModel(url) {
  return rel(url).startsWith("models/") && /^[0-9a-f]{64}$/i.test(url.searchParams.get("v") || "");
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      await cache.addAll(PRECACHE.map((u) => new Request(new URL(u, self.location.href), { cache: "no-cache" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const keep = new Set([SHELL, MODELS]);
      for (const name of await caches.keys()) if (name.startsWith("fairmark-") && !keep.has(name)) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

/** The answer when the network is off and nothing is cached: a clear status line for the page's error. */
function offlineMiss(url) {
  return new Response(`offline, and ${url.pathname} was not fetched while online\n`, {
    status: 504,
    statusText: "offline and not cached",
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

async function networkFirst(request) {
  const url = new URL(request.url);
  const cache = await caches.open(SHELL);
  // Navigations (the page, with or without ?backend=) share the copy of the page.
  const key = request.mode === "navigate" ? new URL("./", scope).href : request;
  try {
    const response = await fetch(request);
    if (response.status === 200) await cache.put(key, response.clone());
    return response;
  } catch (e) {
    const cached = await cache.match(key, { ignoreVary: true });
    return cached || offlineMiss(url);
  }
}

/** Cache first; a newly fetched version drops the other versions of the same file. */
async function keepVersion(cache, request) {
  const url = new URL(request.url);
  const cached = await cache.match(request, { ignoreVary: true });
  if (cached) return cached;
  let response;
  try {
    response = await fetch(request);
  } catch {
    return offlineMiss(url);
  }
  if (response.status === 200) {
    await cache.put(request, response.clone());
    for (const old of await cache.keys()) {
      const o = new URL(old.url);
      if (o.pathname === url.pathname && o.search !== url.search) await cache.delete(old);
    }
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (!inScope(url)) return;
  if (isVersionedModel(url)) event.respondWith(caches.open(MODELS).then((c) => keepVersion(c, request)));
  else if (isShell(url)) event.respondWith(networkFirst(request));
  // Everything else (/healthz, /api/models/NAME, model cards) goes to the network as without a service worker.
});

// `{type: "keep", urls}` from js/offline.js, with a port for the answer
// `{ok}`: caches those model files (from the browser's HTTP cache when it has them).
self.addEventListener("message", (event) => {
  const msg = event.data || {};
  const port = event.ports && event.ports[0];
  if (msg.type !== "keep" || !Array.isArray(msg.urls)) return;
  event.waitUntil(
    (async () => {
      let ok = true;
      const cache = await caches.open(MODELS);
      for (const u of msg.urls) {
        const url = new URL(u, self.location.href);
        if (!inScope(url) || !isVersionedModel(url)) {
          ok = false;
          continue;
        }
        const response = await keepVersion(cache, new Request(url.href));
        ok = ok && response.status === 200;
      }
      if (port) port.postMessage({ ok });
    })(),
  );
});
