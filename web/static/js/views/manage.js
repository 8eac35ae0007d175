// Running a market: pause, resume, close, resolve (one winner, or a scalar
// market's value), withdraw a proposed resolution, void. Shown to the
// market's creator and to admins; the API checks the permission again.

import { h, uid } from "../dom.js";
import { gql } from "../api.js";
import { session } from "../session.js";
import { PAUSE, RESUME, CLOSE, RESOLVE, RESOLVE_SCALAR, UNRESOLVE, VOID } from "../queries.js";
import { money, count } from "../format.js";
import { errorBox, busy, confirmDialog, announce } from "../ui.js";

export function managePanel(market, onChanged) {
  const user = session.user;
  if (!user || (user.id !== market.creator.id && !user.isAdmin)) return null;
  if (market.status === "RESOLVED" || market.status === "VOIDED") return null;
  const error = errorBox("manage-error");
  const result = h("p", { class: "result", role: "status" });

  function action(label, mutation, question, cls = "secondary") {
    const button = h("button", { type: "button", class: cls }, label);
    button.addEventListener("click", async () => {
      if (question && !(await confirmDialog(`${label}?`, question, label))) return;
      await busy(button, error, async () => {
        await gql(mutation, { id: market.id });
        announce(`${label}: done.`, "success");
        onChanged();
      });
    });
    return button;
  }

  const winner = h("select", { id: uid("winner") },
    market.outcomes.map((o) => h("option", { value: o.id }, o.name)));
  const resolve = h("button", { type: "button", class: "primary", "data-testid": "resolve" }, "Resolve");
  resolve.addEventListener("click", async () => {
    const name = winner.selectedOptions[0].textContent;
    const ok = await confirmDialog("Resolve this market?",
      `“${name}” wins: each ${name} share pays $1.00 and every other share pays nothing.` +
      (market.disputeWindowSeconds && !pending ? " It is first a proposal that holders may dispute." : " This cannot be undone."),
      `Resolve: ${name}`);
    if (!ok) return;
    await busy(resolve, error, async () => {
      const r = (await gql(RESOLVE, { id: market.id, winningOutcomeId: winner.value })).resolveMarket;
      announce(r.market.status === "RESOLUTION_PROPOSED" ? "Resolution proposed."
        : `Resolved: paid ${money(r.totalPayoutCents)} to ${count(r.winnersCount)} holders.`, "success");
      onChanged();
    });
  });
  const value = h("input", { id: uid("value"), type: "number", step: "any", inputmode: "decimal",
    "data-testid": "resolve-value" });
  const resolveValue = h("button", { type: "button", class: "primary", "data-testid": "resolve-scalar" }, "Resolve at value");
  resolveValue.addEventListener("click", async () => {
    const number = Number(value.value);
    if (value.value.trim() === "" || !Number.isFinite(number)) {
      value.focus();
      return;
    }
    const proposal = market.disputeWindowSeconds && market.status !== "DISPUTED" && market.status !== "RESOLUTION_PROPOSED";
    const ok = await confirmDialog("Resolve this market?",
      `The result is ${number}: Long shares are paid in proportion to where it falls in the range, Short shares the rest.` +
      (proposal ? " It is first a proposal that holders may dispute." : " This cannot be undone."),
      "Resolve");
    if (!ok) return;
    await busy(resolveValue, error, async () => {
      const r = (await gql(RESOLVE_SCALAR, { id: market.id, value: number })).resolveScalarMarket;
      announce(r.market.status === "RESOLUTION_PROPOSED" ? "Resolution proposed."
        : `Resolved: paid ${money(r.totalPayoutCents)} to ${count(r.winnersCount)} holders.`, "success");
      onChanged();
    });
  });
  const pending = market.status === "RESOLUTION_PROPOSED" || market.status === "DISPUTED";
  const mayResolve = !pending || user.isAdmin;
  const unresolve = pending && (user.isAdmin || market.status === "RESOLUTION_PROPOSED")
    ? action("Withdraw proposed resolution", UNRESOLVE,
      "The proposal is withdrawn and the market goes back to closed, to be resolved again.")
    : null;
  const voidButton = action("Void", VOID,
    "Voiding refunds every holder the average cost of the shares they still hold and ends the market. This cannot be undone.",
    "danger");

  const buttons = [];
  if (market.status === "OPEN") buttons.push(action("Pause", PAUSE, null));
  if (market.status === "PAUSED") buttons.push(action("Resume", RESUME, null));
  if (market.status === "OPEN" || market.status === "PAUSED") {
    buttons.push(action("Close trading", CLOSE, "Trading stops now and resting orders are cancelled. You can resolve or void afterwards."));
  }
  return h("section", { class: "panel manage", "aria-labelledby": "manage-title" },
    h("h2", { id: "manage-title" }, user.id === market.creator.id ? "Manage your market" : "Manage (admin)"),
    h("div", { class: "row wrap" }, buttons),
    mayResolve ? h("div", { class: "field" }, h("label", { for: winner.id }, "Winning outcome"),
      h("div", { class: "row" }, winner, resolve)) : null,
    mayResolve && market.scalar ? h("div", { class: "field" }, h("label", { for: value.id }, "Resolve at value"),
      h("div", { class: "row" }, value, resolveValue)) : null,
    h("div", { class: "row" }, unresolve, mayResolve ? voidButton : null),
    error, result);
}
