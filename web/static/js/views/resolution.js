// Resolution a real event needs (PRODUCT.md section 12), in one place: the
// create form's scalar range and dispute window, the market page's range,
// payouts, proposal and dispute, and the portfolio's settlements.

import { h, mount, field } from "../dom.js";
import { gql, ApiError } from "../api.js";
import { session } from "../session.js";
import { DISPUTE, MY_SETTLEMENTS } from "../queries.js";
import { money, moneySigned, count, dateTime } from "../format.js";
import { errorBox, busy, announce } from "../ui.js";

/** A number as the creator wrote it, with the market's unit. */
export function withUnit(value, scalar) {
  return scalar.unit ? `${value} ${scalar.unit}` : String(value);
}

/**
 * The create form's extras: a "scalar" switch with lower/upper/unit, and the
 * dispute window in hours. `onToggle(scalar)` lets the form hide its outcome list.
 */
export function createExtras(onToggle) {
  const toggle = h("input", { id: "create-scalar", type: "checkbox" });
  const lower = h("input", { id: "create-lower", type: "number", step: "any", value: "0", inputmode: "decimal" });
  const upper = h("input", { id: "create-upper", type: "number", step: "any", value: "100", inputmode: "decimal" });
  const unit = h("input", { id: "create-unit", maxlength: "20", placeholder: "e.g. %, °C, $bn" });
  const range = h("div", { class: "grid-2", hidden: true },
    field("Lower bound", lower, "At or below: Long pays 0¢, Short $1.00.").wrap,
    field("Upper bound", upper, "At or above: Long pays $1.00, Short 0¢.").wrap,
    field("Unit (optional)", unit).wrap);
  const windowHours = h("input", { id: "create-window", type: "number", min: "0", max: "168", step: "any", value: "0", inputmode: "decimal" });
  toggle.addEventListener("change", () => {
    range.hidden = !toggle.checked;
    onToggle(toggle.checked);
  });
  const el = h("div", {},
    h("fieldset", {}, h("legend", {}, "Kind of question"),
      h("label", { for: toggle.id, class: "check" }, toggle,
        " A number (scalar market): two outcomes, Long and Short, paid in proportion to where the result falls in a range"),
      range),
    field("Dispute window (hours)", windowHours,
      "0: resolving pays at once. Otherwise a resolution is first a proposal that holders may dispute for this long.").wrap);

  /** The fields to add to CreateMarketInput (throws an ApiError on bad numbers). */
  function input() {
    const extra = {};
    const hours = windowHours.value.trim() === "" ? 0 : Number(windowHours.value);
    if (!Number.isFinite(hours) || hours < 0 || hours > 168) {
      throw new ApiError("The dispute window is 0 to 168 hours.", "BAD_USER_INPUT");
    }
    extra.disputeWindowSeconds = Math.round(hours * 3600);
    if (toggle.checked) {
      const lo = Number(lower.value), hi = Number(upper.value);
      if (lower.value.trim() === "" || upper.value.trim() === "" || !(lo < hi)) {
        throw new ApiError("A scalar market needs a lower bound below its upper bound.", "BAD_USER_INPUT");
      }
      extra.scalar = { lower: lo, upper: hi, unit: unit.value.trim() };
      extra.outcomes = ["Long", "Short"];
    }
    return extra;
  }
  return { el, input };
}

/** Rows for the market's "About" list: the scalar range and dispute window. */
export function aboutRows(market) {
  const rows = [];
  if (market.scalar) {
    rows.push(["Range", `${withUnit(market.scalar.lower, market.scalar)} to ${withUnit(market.scalar.upper, market.scalar)}`]);
  }
  if (market.disputeWindowSeconds) {
    rows.push(["Dispute window", `${+(market.disputeWindowSeconds / 3600).toFixed(2)} h after a resolution is proposed`]);
  }
  return rows;
}

function payoutText(market) {
  return (market.payouts || []).map((p) => `${p.outcome.name} ${p.cents}¢`).join(", ");
}

function valueText(market) {
  return market.scalar && market.resolutionValue !== null
    ? `${withUnit(market.resolutionValue, market.scalar)}: ` : "";
}

/**
 * The banner of a market whose resolution is not "one winner paid $1.00":
 * proposed, disputed, or resolved to a split or a scalar value. Null otherwise.
 */
export function resolutionBanner(market, onChanged) {
  if (market.status === "RESOLVED" && !market.winningOutcome && market.payouts) {
    return h("div", { class: "banner resolved", role: "status", "data-testid": "resolution" },
      h("strong", {}, `Resolved ${valueText(market)}`),
      `each share paid ${payoutText(market)}.`,
      market.resolvedAt ? h("span", { class: "muted" }, ` Resolved ${dateTime(market.resolvedAt)}.`) : null);
  }
  if (market.status === "RESOLUTION_PROPOSED") {
    return h("div", { class: "banner", role: "status", "data-testid": "resolution" },
      h("strong", {}, `Resolution proposed ${valueText(market)}`),
      `each share would pay ${payoutText(market)}. Nothing is paid until ${dateTime(market.disputeWindowEndsAt)};`,
      " until then anyone holding shares may dispute it.",
      disputeForm(market, onChanged));
  }
  if (market.status === "DISPUTED") {
    return h("div", { class: "banner", role: "status", "data-testid": "resolution" },
      h("strong", {}, "Resolution disputed"),
      ` — proposed: ${valueText(market)}${payoutText(market)}. An admin will decide.`,
      market.disputeReason ? h("span", { class: "muted" }, ` Reason given: “${market.disputeReason}”`) : null);
  }
  return null;
}

function disputeForm(market, onChanged) {
  if (!session.token) return null;
  const error = errorBox();
  const reason = h("input", { maxlength: "1000", placeholder: "Why is this wrong?", "aria-label": "Reason for the dispute" });
  const button = h("button", { type: "submit", class: "secondary small" }, "Dispute");
  const form = h("form", { class: "dispute-form" }, reason, button, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(button, error, async () => {
      await gql(DISPUTE, { id: market.id, reason: reason.value.trim() });
      announce("Disputed: an admin will decide.", "success");
      onChanged();
    });
  });
  return form;
}

/** The portfolio's settlements: every position a resolution or a void settled (the
 *  newest 100); returns their realized P&L: { cents, count, partial }. */
export async function loadSettlements(el) {
  const page = (await gql(MY_SETTLEMENTS, { first: 100 })).mySettlements;
  const rows = page.edges.map((e) => e.node);
  const total = { cents: rows.reduce((sum, s) => sum + s.realizedPnlCents, 0), count: page.totalCount,
    partial: page.totalCount > rows.length };
  if (!rows.length) {
    mount(el, h("p", { class: "muted" }, "Nothing settled yet."));
    return total;
  }
  const pnlClass = (c) => (c > 0 ? "up" : c < 0 ? "down" : "");
  mount(el, h("div", {}, h("div", { class: "table-scroll" }, h("table", { class: "data", "data-testid": "settlements" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Settled"), h("th", { scope: "col" }, "Market"), h("th", { scope: "col" }, "Outcome"),
      h("th", { scope: "col", class: "num" }, "Shares"), h("th", { scope: "col", class: "num" }, "Paid"),
      h("th", { scope: "col", class: "num" }, "Cost basis"), h("th", { scope: "col", class: "num" }, "P&L"))),
    h("tbody", {}, rows.map((s) => h("tr", {},
      h("td", { class: "when" }, dateTime(s.settledAt)),
      h("td", {}, h("a", { href: `#/market/${s.market.id}` }, s.market.title),
        s.market.status === "VOIDED" ? h("span", { class: "muted small" }, " (voided)") : null),
      h("td", {}, s.outcome.name),
      h("td", { class: "num" }, count(s.shares)),
      h("td", { class: "num" }, money(s.payoutCents)),
      h("td", { class: "num" }, money(s.costBasisCents)),
      h("td", { class: `num ${pnlClass(s.realizedPnlCents)}` }, moneySigned(s.realizedPnlCents))))))),
  total.partial ? h("p", { class: "muted small" }, `Newest ${count(rows.length)} of ${count(page.totalCount)}`) : null));
  return total;
}
