// The shell: session, navigation, theme and keyboard shortcuts. Pages live in their own
// modules and are loaded when first opened; each exports render(container, params, route)
// and may return a cleanup function.

import { ApiError, get, post, setCsrf, whenSignedOut, api } from "./api.js";
import { h, toast } from "./util.js";

const app = document.getElementById("app");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const signoutButton = document.getElementById("signout");
let session = null;
let cleanup = null;

const PAGES = {
  search: () => import("./search.js"),
  tail: () => import("./tail.js"),
  trace: () => import("./trace.js"),
  groups: () => import("./groups.js"),
  alarms: () => import("./alarms.js"),
};

export function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = hash.split("?");
  const [page, ...rest] = path.split("/");
  return { page: page || "search", arg: rest.map(decodeURIComponent).join("/"), params: new URLSearchParams(query) };
}

let generation = 0;

async function route() {
  const mine = ++generation; // a later navigation wins over one still loading
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  const { page, arg, params } = parseRoute();
  if (!session) { renderLogin(); return; }
  const load = PAGES[page];
  if (!load) { location.replace("#/search"); return; }
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.dataset.page === page);
  document.title = `${page[0].toUpperCase()}${page.slice(1)} · logpond`;
  app.replaceChildren(h("div.skeleton-page", h("div.skeleton.bar"), h("div.skeleton.block")));
  try {
    const module = await load();
    if (mine !== generation) return;
    const container = h("div", { style: "height:100%" });
    app.replaceChildren(container);
    const done = (await module.render(container, params, { arg, session })) || null;
    if (mine !== generation) { if (done) done(); return; }
    cleanup = done;
  } catch (err) {
    if (mine !== generation) return;
    if (err instanceof ApiError && err.status === 401) return;
    console.error(err);
    app.replaceChildren(h("div.panel.empty", h("h2", "Something went wrong"), h("p.error-text", String(err.message || err))));
  }
}

function showSignedIn() {
  nav.hidden = false;
  signoutButton.hidden = false;
  who.textContent = session.access_key_id;
  who.title = session.is_root ? "root key" : "";
}

function signedOut(message) {
  session = null;
  setCsrf(null);
  nav.hidden = true;
  signoutButton.hidden = true;
  who.textContent = "";
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  renderLogin(message);
}

function renderLogin(message) {
  document.title = "Sign in · logpond";
  const keyId = h("input", { id: "key-id", name: "username", autocomplete: "username", required: true, spellcheck: false, placeholder: "LP…" });
  const secret = h("input", { id: "key-secret", name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p.error-text", { role: "alert" }, message || "");
  const button = h("button.primary", { type: "submit" }, "Sign in");
  const form = h("form.panel.login", {
    on: {
      submit: async (e) => {
        e.preventDefault();
        button.disabled = true;
        error.textContent = "";
        try {
          const token = btoa(unescape(encodeURIComponent(`${keyId.value.trim()}:${secret.value}`)));
          session = await api("POST", "/api/v1/session", undefined, { headers: { Authorization: `Basic ${token}` } });
          setCsrf(session.csrf_token);
          secret.value = "";
          showSignedIn();
          route();
        } catch (err) {
          error.textContent = err instanceof ApiError && err.status === 401
            ? "Wrong access key id or secret." : `Could not sign in: ${err.message}`;
        } finally {
          button.disabled = false;
        }
      },
    },
  },
  h("h1", "Sign in"),
  h("p.muted", "Use an API key: its id and secret. The page keeps only a session cookie, never the secret."),
  h("label", { for: "key-id" }, "Access key id"), keyId,
  h("label", { for: "key-secret" }, "Secret access key"), secret,
  button, error,
  h("p.muted", { style: "margin-top:16px;font-size:12.5px" },
    "The root key is printed by ", h("code", "logpond serve"), " on first start and saved in ",
    h("code", "data/root-credentials"), "; ", h("code", "logpond keys create --role reader"), " makes a read-only one."));
  app.replaceChildren(form);
  keyId.focus();
}

signoutButton.addEventListener("click", async () => {
  try { await api("DELETE", "/api/v1/session"); } catch (e) { console.error(e); }
  signedOut("Signed out.");
});

const THEMES = ["auto", "light", "dark"];
document.getElementById("theme").addEventListener("click", () => {
  const root = document.documentElement;
  const next = THEMES[(THEMES.indexOf(root.dataset.theme) + 1) % THEMES.length];
  root.dataset.theme = next;
  localStorage.setItem("logpond.theme", next);
  toast(`Theme: ${next}`);
  window.dispatchEvent(new Event("logpond:theme"));
});

// Keyboard: "/" focuses the search box, Ctrl/Cmd+Enter runs (in the editor), g then s/t/g/a switches page.
let pendingG = 0;
document.addEventListener("keydown", (e) => {
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || "");
  if (typing || e.ctrlKey || e.metaKey || e.altKey || !session) return;
  if (e.key === "/") {
    const target = document.querySelector("#query, [data-focus]");
    if (target) { e.preventDefault(); target.focus(); }
  } else if (e.key === "g") {
    pendingG = Date.now();
  } else if (Date.now() - pendingG < 1000) {
    const page = { s: "search", t: "tail", g: "groups", a: "alarms" }[e.key];
    if (page) location.hash = `#/${page}`;
    pendingG = 0;
  }
});

whenSignedOut(() => { if (session) signedOut("Your session ended; sign in again."); });
window.addEventListener("hashchange", route);

(async function start() {
  try {
    session = await get("/api/v1/session");
    setCsrf(session.csrf_token);
    showSignedIn();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) console.error(err);
    session = null;
  }
  route();
})();

export { post };
