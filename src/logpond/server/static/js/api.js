// The one way the page talks to the server: same-origin fetch with the session cookie,
// the CSRF token on every request that changes something, JSON in and out.

let csrfToken = null;
let onSignedOut = () => {};

export function setCsrf(token) { csrfToken = token; }
export function whenSignedOut(callback) { onSignedOut = callback; }

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export async function api(method, path, body, { signal, headers = {} } = {}) {
  const init = {
    method,
    signal,
    credentials: "same-origin",
    headers: { "X-Requested-With": "XMLHttpRequest", ...headers },
  };
  if (method !== "GET" && method !== "HEAD" && csrfToken) init.headers["X-CSRF-Token"] = csrfToken;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!response.ok) {
    if (response.status === 401 && !path.endsWith("/session")) onSignedOut();
    throw new ApiError(response.status, data);
  }
  return data;
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body, opts);

// A download of a streamed export: POST with the CSRF token, saved through a Blob.
export async function download(path, body, filename) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken || "", "X-Requested-With": "XMLHttpRequest" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// Every group the key may describe (the picker, the trace view).
export async function allGroups() {
  const groups = [];
  let token = null;
  do {
    const q = new URLSearchParams({ limit: "1000" });
    if (token) q.set("next_token", token);
    const page = await get(`/api/v1/groups?${q}`);
    groups.push(...page.groups);
    token = page.next_token;
  } while (token);
  return groups;
}
