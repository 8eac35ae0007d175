// Shared bits of interface: error boxes, badges, busy buttons, announcements.

import { h } from "./dom.js";
import { errorTitle } from "./api.js";
import { STATUS_LABEL, TYPE_LABEL, money } from "./format.js";

/** An error message box, hidden until `showError`; announced by screen readers. */
export function errorBox(id) {
  return h("div", { class: "error", role: "alert", id, hidden: true });
}

/** API words for fields, as the forms label them. */
const FIELD_LABELS = {
  liquidityParameter: "Liquidity b",
  feeBps: "Taker fee",
  limitCents: "Slippage limit",
  priceCents: "Price",
  quantity: "Quantity",
  amount: "Amount",
  closesAt: "Closing time",
  title: "Question",
  expiresAt: "Expiry",
  resolutionSource: "Resolution source",
};

/**
 * A server message in a person's words: cents become dollars, API field names
 * become form labels, and GraphQL's own wording (variables, 32-bit integers)
 * becomes a plain sentence.
 */
export function plainMessage(error) {
  let text = String((error && error.message) || error);
  if (/^Variable '\$\w+'/.test(text)) {
    const at = /\bat '?\.?(?:\w+\.)*(\w+)'?/.exec(text);
    const label = (at && FIELD_LABELS[at[1]]) || "A value";
    text = /32-bit|cannot represent/i.test(text) ? `${label} is too large.` : `${label} is not valid.`;
  }
  text = text.replace(/\bfeeBps must be from (\d+) to (\d+)/, (_, lo, hi) => `Taker fee must be from ${lo / 100}% to ${hi / 100}%`);
  text = text.replace(/(\d+) cents of cash but only (\d+) are available/, (_, need, have) =>
    `${money(Number(need))} of cash but only ${money(Number(have))} is available`);
  text = text.replace(/(\d+) cents/g, (_, cents) => money(Number(cents)));
  for (const [name, label] of Object.entries(FIELD_LABELS)) {
    text = text.replace(new RegExp(`\\b${name}\\b`, "g"), label);
  }
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function showError(box, error) {
  const code = error.code || "ERROR";
  box.replaceChildren(
    h("strong", {}, `${errorTitle(code)}: `),
    plainMessage(error),
    " ",
    h("code", { class: "code" }, code)
  );
  box.dataset.code = code;
  box.hidden = false;
}

export function clearError(box) {
  box.hidden = true;
  box.replaceChildren();
  delete box.dataset.code;
}

/** Run `fn` with the button disabled and marked busy; errors go to `box`. */
export async function busy(button, box, fn) {
  if (box) clearError(box);
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await fn();
  } catch (error) {
    if (box) showError(box, error);
    else throw error;
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

export function statusBadge(status) {
  return h("span", { class: `badge status-${status.toLowerCase()}` }, STATUS_LABEL[status] || status);
}

export function typeBadge(type) {
  return h("span", { class: "badge type" }, TYPE_LABEL[type] || type);
}

/** Announce `text` politely to screen readers and show it as a toast. */
export function announce(text, kind = "info") {
  const region = document.getElementById("announcer");
  if (region) {
    region.textContent = "";
    requestAnimationFrame(() => (region.textContent = text));
  }
  const toasts = document.getElementById("toasts");
  if (!toasts) return;
  const toast = h("div", { class: `toast toast-${kind}` }, text);
  toasts.appendChild(toast);
  setTimeout(() => toast.remove(), 4000);
}

/** A section with a heading. */
export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

export function loading(text = "Loading…") {
  return h("p", { class: "muted loading", role: "status" }, text);
}

/** A confirmation dialog; resolves true when confirmed. */
export function confirmDialog(title, body, confirmLabel = "Confirm") {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": "dialog-title" },
      h("h2", { id: "dialog-title" }, title),
      h("p", {}, body),
      h("div", { class: "row end" },
        h("button", { type: "button", class: "secondary", onclick: () => dialog.close("cancel") }, "Cancel"),
        h("button", { type: "button", class: "primary danger-ok", onclick: () => dialog.close("ok") }, confirmLabel)
      )
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}
