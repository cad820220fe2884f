// The kiosk's only way to the server: JSON requests with the device token, and what they teach us about
// the connection. The service worker answers GETs from its cache when the network is down and marks such
// answers with the header X-Laiban-Offline; a failed or marked request puts the kiosk in offline mode,
// and a backoff loop (2 s, 4 s, … 60 s) pings the server until it answers again.

export const TOKEN_KEY = "laiban.deviceToken";
const OFFLINE_HEADER = "X-Laiban-Offline";

/** The device token is missing, revoked or wrong: staff must pair the tablet again. */
export class NeedsPairing extends Error {}
/** The server could not be reached (or only the service worker's cache answered a POST). */
export class Offline extends Error {}
/** The server answered with an error status (other than 401). */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function deviceToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function forgetDevice() {
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage unavailable: nothing to forget */
  }
}

// --- connectivity -------------------------------------------------------------------------------------

let online = true;
let retryTimer = 0;
let retryDelay = 2000;
const listeners = new Set();

export const isOnline = () => online;

/** `listener(online)` is called whenever the kiosk goes offline or comes back. */
export function onConnectivity(listener) {
  listeners.add(listener);
}

function setOnline(value) {
  if (value === online) return;
  online = value;
  if (value) {
    clearTimeout(retryTimer);
    retryTimer = 0;
    retryDelay = 2000;
  } else {
    scheduleRetry();
  }
  for (const listener of listeners) listener(value);
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  const jitter = Math.random() * 0.3 * retryDelay;
  retryTimer = setTimeout(async () => {
    retryTimer = 0;
    try {
      await request("/api/v1/kiosk", { timeout: 5000 });
    } catch {
      /* still offline (setOnline keeps it so) */
    }
    if (!online) {
      retryDelay = Math.min(retryDelay * 2, 60000);
      scheduleRetry();
    }
  }, retryDelay + jitter);
}

/** Try the server now (e.g. when the browser says the network is back). */
export function retrySoon() {
  if (!online) {
    retryDelay = 500;
    scheduleRetry();
  }
}

// --- requests -----------------------------------------------------------------------------------------

/**
 * `path` with the device token. Resolves to the parsed JSON (null for 204); `raw: true` resolves to the
 * Response itself. Rejects with NeedsPairing, Offline or ApiError.
 */
export async function request(path, { method = "GET", body, timeout = 8000, raw = false, headers } = {}) {
  const token = deviceToken();
  if (!token) throw new NeedsPairing("no device token");
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const sent = { Authorization: `Bearer ${token}`, ...headers };
  let payload = body;
  if (body !== undefined && !(body instanceof Blob)) {
    sent["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: sent,
      body: payload,
      signal: controller.signal,
      cache: "no-store",
      credentials: "omit",
    });
  } catch (error) {
    setOnline(false);
    throw new Offline(String(error));
  } finally {
    clearTimeout(timer);
  }
  const fromCache = response.headers.has(OFFLINE_HEADER);
  if (response.status >= 500 && response.status !== 501) {
    // A proxy or a restarting server: treat it like a dropped network, answer from what we keep.
    setOnline(false);
    throw new Offline(`HTTP ${response.status}`);
  }
  setOnline(!fromCache);
  if (response.status === 401) throw new NeedsPairing("the server does not know this device");
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const data = await response.json();
  if (fromCache && data && typeof data === "object") {
    Object.defineProperty(data, "fromCache", { value: true });
  }
  return data;
}

/** An uploaded picture (`/uploads/<sha>.png`, needs the token) as a Blob. */
export async function uploadBlob(sha) {
  const response = await request(`/uploads/${encodeURIComponent(sha)}.png`, { raw: true });
  return response.blob();
}
