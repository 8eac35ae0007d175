// Entry point: the shell (header, notices), hash routing and boot.
// Routes: #/ (markets), #/market/<id>, #/portfolio, #/create, #/keys, #/login, #/register.

import { h, mount } from "./dom.js";
import { refreshMe } from "./api.js";
import { session, onSessionChange, signOut } from "./session.js";
import { money } from "./format.js";
import { live } from "./runtime.js";
import { marketsView } from "./views/markets.js";
import { marketView } from "./views/market.js";
import { portfolioView } from "./views/portfolio.js";
import { loginView, registerView } from "./views/auth.js";
import { createView } from "./views/create.js";
import { keysView } from "./views/keys.js";

const ROUTES = [
  [/^\/?$/, marketsView],
  [/^\/markets$/, marketsView],
  [/^\/market\/([\w-]+)$/, marketView],
  [/^\/portfolio$/, portfolioView],
  [/^\/create$/, createView],
  [/^\/keys$/, keysView],
  [/^\/login$/, loginView],
  [/^\/register$/, registerView],
];

const main = document.getElementById("main");
let cleanup = () => {};
let currentPath = null;

/** The route part of the hash and its query: "#/login?next=/x" -> ["/login", {next}] */
export function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  return [path, Object.fromEntries(new URLSearchParams(query))];
}

function notFound(container) {
  mount(container, h("div", { class: "panel empty" },
    h("h1", { tabindex: "-1" }, "Page not found"),
    h("p", {}, h("a", { href: "#/" }, "Back to the markets"))));
  return () => {};
}

function route() {
  const [path, query] = parseHash();
  cleanup();
  currentPath = path;
  main.replaceChildren();
  renderNotice();
  const container = h("div", { class: "view" });
  main.appendChild(container);
  let view = notFound;
  let params = [];
  for (const [pattern, candidate] of ROUTES) {
    const match = pattern.exec(path);
    if (match) {
      view = candidate;
      params = match.slice(1);
      break;
    }
  }
  cleanup = view(container, ...params, query) || (() => {});
  updateNav(path);
  requestAnimationFrame(() => {
    const heading = container.querySelector("h1");
    if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
  });
}

function renderNotice() {
  if (!session.notice) return;
  const notice = h("div", { class: "notice", role: "status" },
    session.notice, " ",
    h("a", { href: "#/login" }, "Log in"),
    h("button", { type: "button", class: "link", "aria-label": "Dismiss",
      onclick: () => { session.notice = null; notice.remove(); } }, "×"));
  main.appendChild(notice);
}

function updateNav(path) {
  for (const link of document.querySelectorAll(".site-nav a[data-route]")) {
    const active = link.dataset.route === path || (link.dataset.route === "/" && path.startsWith("/market"));
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function renderAccount() {
  const area = document.getElementById("account");
  if (session.token && session.user) {
    const user = session.user;
    mount(area,
      h("a", { class: "balance-chip", href: "#/portfolio", title: "Cash balance" },
        h("span", { class: "sr-only" }, "Cash: "),
        h("span", { "data-testid": "header-balance" }, money(user.balanceCents))),
      h("span", { class: "username" }, user.username, user.isAdmin ? h("span", { class: "badge admin" }, "admin") : null),
      h("button", { type: "button", class: "secondary small", onclick: () => signOut() }, "Log out"));
  } else if (session.token) {
    mount(area, h("span", { class: "muted" }, "…"));
  } else {
    mount(area,
      h("a", { class: "button secondary small", href: "#/login" }, "Log in"),
      h("a", { class: "button primary small", href: "#/register" }, "Sign up"));
  }
}

function renderLiveStatus(status) {
  const el = document.getElementById("live-status");
  const labels = { idle: "", connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" };
  el.className = `live-status live-${status}`;
  el.textContent = labels[status] || "";
}

let lastToken = session.token;
onSessionChange(() => {
  renderAccount();
  if (session.token !== lastToken) {
    lastToken = session.token;
    // Signed in or out: views depend on who is looking.
    if (!session.token || currentPath === "/login" || currentPath === "/register") route();
  }
});

async function boot() {
  live.onStatus(renderLiveStatus);
  renderAccount();
  window.addEventListener("hashchange", route);
  route();
  if (session.token) {
    try {
      await refreshMe();
    } catch {
      // Network trouble: keep the token; the next request will tell.
    }
  }
}

boot();
