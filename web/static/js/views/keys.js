// API keys for programs and bots: create (the secret is shown once, with a copy
// button), list (prefix, scopes, last use) and revoke. Managed with the session only.

import { h, mount, field } from "../dom.js";
import { gql } from "../api.js";
import { session } from "../session.js";
import { MY_API_KEYS, CREATE_API_KEY, REVOKE_API_KEY } from "../queries.js";
import { dateTime } from "../format.js";
import { errorBox, showError, busy, section, loading, announce, confirmDialog } from "../ui.js";

export function keysView(container) {
  if (!session.token) {
    mount(container, h("div", { class: "panel empty" },
      h("h1", { tabindex: "-1" }, "API keys"),
      h("p", {}, "Log in to make keys for your programs."),
      h("p", {}, h("a", { class: "button primary", href: "#/login?next=/keys" }, "Log in"))));
    return () => {};
  }
  const list = h("div", {}, loading());
  const created = h("div", { "aria-live": "polite" });
  mount(container,
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "API keys")),
    h("p", { class: "muted" }, "A program sends a key as ", h("code", {}, "Authorization: Key <secret>"),
      ". READ keys may query and subscribe; TRADE keys may also place, amend and cancel orders. ",
      "See examples/market_maker.py."),
    section("New key", createForm(created, load), created),
    section("Your keys", list));

  async function load() {
    try {
      const keys = (await gql(MY_API_KEYS)).myApiKeys;
      mount(list, keys.length ? keysTable(keys, load) : h("p", { class: "muted" }, "No keys yet."));
    } catch (err) {
      const box = errorBox();
      showError(box, err);
      mount(list, box);
    }
  }
  load();
  return () => {};
}

function createForm(created, onCreated) {
  const name = field("Name", h("input", { type: "text", maxlength: "64", required: true, placeholder: "market maker" }));
  const read = h("input", { type: "checkbox", id: "scope-read", checked: true });
  const trade = h("input", { type: "checkbox", id: "scope-trade" });
  const error = errorBox();
  const submit = h("button", { type: "submit", class: "primary" }, "Create key");
  const form = h("form", { class: "stack", "data-testid": "create-key" },
    name.wrap,
    h("fieldset", { class: "row" }, h("legend", {}, "Scopes"),
      h("label", { for: "scope-read" }, read, " READ"),
      h("label", { for: "scope-trade" }, trade, " TRADE")),
    submit, error);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const scopes = [read.checked && "READ", trade.checked && "TRADE"].filter(Boolean);
    busy(submit, error, async () => {
      const made = (await gql(CREATE_API_KEY, { name: name.input.value, scopes })).createApiKey;
      name.input.value = "";
      mount(created, secretBox(made.secret));
      announce("Key created. Copy its secret now: it is not shown again.", "success");
      onCreated();
    });
  });
  return form;
}

function secretBox(secret) {
  const copy = h("button", { type: "button", class: "secondary small" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      announce("Secret copied.", "success");
    } catch {
      announce("Copy failed: select the secret and copy it by hand.", "error");
    }
  });
  return h("div", { class: "panel notice", "data-testid": "new-secret" },
    h("p", {}, h("strong", {}, "Copy this secret now. "), "It is shown once; only its prefix is kept."),
    h("p", { class: "row" }, h("code", { class: "secret", "data-testid": "secret" }, secret), copy));
}

function keysTable(keys, onChange) {
  return h("div", { class: "table-scroll" }, h("table", { class: "data", "data-testid": "api-keys" },
    h("thead", {}, h("tr", {}, ["Name", "Key", "Scopes", "Created", "Last used", ""].map((t) =>
      h("th", { scope: "col" }, t)))),
    h("tbody", {}, keys.map((key) => {
      const error = errorBox();
      const revoke = key.revokedAt ? h("span", { class: "badge" }, `revoked ${dateTime(key.revokedAt)}`)
        : h("button", { type: "button", class: "secondary small", "aria-label": `Revoke ${key.name}` }, "Revoke");
      if (!key.revokedAt) {
        revoke.addEventListener("click", async () => {
          if (!(await confirmDialog("Revoke this key?", `Programs using ${key.prefix}… stop working at once.`, "Revoke"))) return;
          busy(revoke, error, async () => {
            await gql(REVOKE_API_KEY, { id: key.id });
            announce("Key revoked.", "success");
            onChange();
          });
        });
      }
      return h("tr", { "data-key-id": key.id },
        h("td", {}, key.name),
        h("td", {}, h("code", {}, `${key.prefix}…`)),
        h("td", {}, key.scopes.join(", ")),
        h("td", { class: "when" }, dateTime(key.createdAt)),
        h("td", { class: "when" }, key.lastUsedAt ? dateTime(key.lastUsedAt) : "never"),
        h("td", { class: "actions" }, revoke, error));
    }))));
}
