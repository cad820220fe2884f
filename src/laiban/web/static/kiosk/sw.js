// The kiosk's service worker (served at /kiosk/sw.js, scope /kiosk): keeps the kiosk working for the day
// when the network drops.
// - The page and its scripts and styles: network first (revalidated), the cached copy when offline.
// - Pictures (/static/pictures/…): cache first; the whole cache is renewed when this file changes.
// - GET /api/v1/kiosk, /api/v1/today, /api/v1/answers: network first; offline, the last answer from the
//   cache, marked with the header X-Laiban-Offline so the page knows it is offline.
// - Answers' audio (/api/v1/speech/…): cache first, kept for the day in laiban-audio-<date>, so that an
//   answer heard once today is heard again offline. Personal audio (Cache-Control: no-store) is never kept.
// Nothing personal is kept: the children list, pickup answers (POST) and uploaded photos pass through.

const RELEASE = "2";
const SHELL = `laiban-shell-${RELEASE}`;
const PICTURES = `laiban-pictures-${RELEASE}`;
const DATA = `laiban-data-${RELEASE}`;
const KEEP = [SHELL, PICTURES, DATA];
const AUDIO_PREFIX = "laiban-audio-";

const SHELL_URLS = [
  "/kiosk",
  "/static/kiosk/kiosk.css",
  "/static/kiosk/kiosk.js",
  "/static/kiosk/api.js",
  "/static/kiosk/i18n.js",
  "/static/kiosk/pictures.js",
  "/static/kiosk/speech.js",
  "/static/kiosk/store.js",
  "/static/kiosk/manifest.webmanifest",
];
const PICTURE_URLS = [
  ..."idle listening thinking speaking happy sleepy sorry window".split(" ").map((m) => `/static/pictures/laiban/${m}.svg`),
  ..."weather lunch clock pickup calendar activities".split(" ").map((m) => `/static/pictures/module/${m}.svg`),
];
const DATA_PATHS = ["/api/v1/kiosk", "/api/v1/today", "/api/v1/answers"];
const NETWORK_TIMEOUT = { shell: 4000, data: 8000, answers: 30000 };

async function keep(cacheName, urls, mode) {
  const cache = await caches.open(cacheName);
  // One by one: a missing picture must not stop the others (cache.addAll is all or nothing).
  await Promise.all(
    urls.map(async (url) => {
      try {
        const response = await fetch(url, { cache: mode });
        if (response.ok) await cache.put(url, response);
      } catch {
        /* offline while installing: kept on first use instead */
      }
    }),
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    Promise.all([keep(SHELL, SHELL_URLS, "no-cache"), keep(PICTURES, PICTURE_URLS, "default")]).then(() =>
      self.skipWaiting(),
    ),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("laiban-") && !KEEP.includes(name) && !name.startsWith(AUDIO_PREFIX)).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

async function networkFirst(request, cacheName, key, timeout, mark) {
  const cache = await caches.open(cacheName);
  try {
    const response = await withTimeout(fetch(request), timeout);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key, { ignoreVary: true });
    if (!cached) throw error;
    if (!mark) return cached;
    const headers = new Headers(cached.headers);
    headers.set("X-Laiban-Offline", "1");
    return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(PICTURES);
  const cached = await cache.match(request.url);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request.url, response.clone());
  return response;
}

function audioCacheName() {
  const now = new Date();
  const day = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
  return AUDIO_PREFIX + day;
}

async function forgetAudio(except = null) {
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(AUDIO_PREFIX) && name !== except).map((name) => caches.delete(name)));
}

async function audioFirst(request) {
  const name = audioCacheName();
  const cache = await caches.open(name);
  const cached = await cache.match(request.url);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && !/no-store/i.test(response.headers.get("Cache-Control") || "")) {
    await cache.put(request.url, response.clone());
    await forgetAudio(name); // yesterday's audio
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (DATA_PATHS.includes(path)) {
    const timeout = path === "/api/v1/answers" ? NETWORK_TIMEOUT.answers : NETWORK_TIMEOUT.data;
    event.respondWith(networkFirst(request, DATA, url.pathname + url.search, timeout, true));
  } else if (path.startsWith("/api/v1/speech/")) {
    event.respondWith(audioFirst(request));
  } else if (path.startsWith("/static/pictures/")) {
    event.respondWith(cacheFirst(request));
  } else if (path === "/kiosk" || path === "/kiosk/" || path.startsWith("/static/kiosk/")) {
    // Revalidated with the server each time (a 304 is cheap), so a new version arrives on reload.
    const fresh = new Request(url.pathname, { cache: "no-cache", credentials: "same-origin" });
    const key = path === "/kiosk/" ? "/kiosk" : url.pathname;
    event.respondWith(networkFirst(fresh, SHELL, key, NETWORK_TIMEOUT.shell, false));
  }
  // Everything else (the pairing page, the children list, uploads, the admin) goes to the network.
});

async function keepFromPage(entries) {
  // What the page fetched before this worker controlled it (its first visit): keep it unless newer is kept.
  const cache = await caches.open(DATA);
  for (const [path, body] of entries) {
    if (typeof path !== "string" || !DATA_PATHS.includes(path.split("?")[0])) continue;
    if (!(await cache.match(path))) {
      await cache.put(path, new Response(body, { headers: { "Content-Type": "application/json" } }));
    }
  }
}

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "keep" && Array.isArray(message.entries)) event.waitUntil(keepFromPage(message.entries));
  if (message.type === "forget-data") event.waitUntil(Promise.all([caches.delete(DATA), forgetAudio()]));
});
