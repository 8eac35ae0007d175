// The create-market form: both mechanisms, outcomes, b (with the subsidy
// it costs), fee, closing time.

import { h, mount, field, uid } from "../dom.js";
import { gql, refreshMe, ApiError } from "../api.js";
import { session } from "../session.js";
import { CREATE_MARKET } from "../queries.js";
import { money, localInputValue } from "../format.js";
import { errorBox, busy, clearError } from "../ui.js";
import { segmented } from "./ticket.js";

const MAX_OUTCOMES = 10;

/** What the creator pays to fund an LMSR market maker: ceil(100 * b * ln n) cents. */
export function subsidyCents(b, n) {
  return Math.ceil(100 * b * Math.log(n) - 1e-9);
}

export function createView(container) {
  if (!session.token) {
    mount(container, h("div", { class: "panel empty" },
      h("h1", { tabindex: "-1" }, "Create a market"),
      h("p", {}, "Log in to create a market."),
      h("a", { class: "button primary", href: "#/login?next=/create" }, "Log in")));
    return () => {};
  }
  const error = errorBox("create-error");
  const title = h("input", { id: "create-title", required: true, minlength: "10", maxlength: "200",
    placeholder: "Will … happen before …?" });
  const description = h("textarea", { id: "create-description", rows: "3" });
  const source = h("input", { id: "create-source", placeholder: "e.g. the official results page" });
  let type = "LMSR";
  const typePicker = segmented("Mechanism", [["LMSR", "Market maker (LMSR)"], ["ORDER_BOOK", "Order book"]], "LMSR", (v) => {
    type = v;
    update();
  });
  const outcomesList = h("ol", { class: "outcome-inputs" });
  const addOutcome = h("button", { type: "button", class: "secondary small" }, "Add outcome");
  const b = h("input", { id: "create-b", type: "number", min: "1", step: "any", value: "100", inputmode: "decimal" });
  const bField = field("Liquidity b (shares)", b, "Higher b: deeper market, prices move less per trade, bigger subsidy.");
  const subsidy = h("p", { class: "subsidy", "aria-live": "polite" });
  const fee = h("input", { id: "create-fee", type: "number", min: "0", max: "10", step: "0.01", value: "0", inputmode: "decimal" });
  const closes = h("input", { id: "create-closes", type: "datetime-local",
    value: localInputValue(new Date(Date.now() + 7 * 86_400_000)) });
  const submit = h("button", { type: "submit", class: "primary" }, "Create market");

  function outcomeRow(value) {
    const id = uid("outcome");
    const input = h("input", { id, value, maxlength: "100", class: "outcome-input" });
    const remove = h("button", { type: "button", class: "link small", "aria-label": `Remove outcome`,
      onclick: () => { li.remove(); update(); } }, "Remove");
    const li = h("li", {}, h("label", { for: id, class: "sr-only" }, "Outcome name"), input, remove);
    input.addEventListener("input", update);
    return li;
  }
  addOutcome.addEventListener("click", () => {
    const li = outcomeRow("");
    outcomesList.appendChild(li);
    li.querySelector("input").focus();
    update();
  });
  for (const name of ["Yes", "No"]) outcomesList.appendChild(outcomeRow(name));

  function names() {
    return [...outcomesList.querySelectorAll("input")].map((i) => i.value.trim());
  }
  function update() {
    clearError(error);
    const n = names().length;
    bField.wrap.hidden = type !== "LMSR";
    subsidy.hidden = type !== "LMSR";
    addOutcome.hidden = n >= MAX_OUTCOMES;
    for (const button of outcomesList.querySelectorAll("button")) button.hidden = n <= 2;
    const bValue = Number(b.value);
    subsidy.textContent = bValue > 0 && n >= 2
      ? `You fund the market maker with ${money(subsidyCents(bValue, n))} now (its worst-case loss); what is left comes back at resolution.`
      : "";
  }
  b.addEventListener("input", update);

  const form = h("form", { class: "create-form", novalidate: true },
    field("Question", title, "10–200 characters. Make it clear how it resolves.").wrap,
    field("Description (optional)", description).wrap,
    h("fieldset", {}, h("legend", {}, "Mechanism"), typePicker.el,
      h("p", { class: "hint" }, "A market maker always quotes a price; an order book matches traders' limit orders.")),
    h("fieldset", {}, h("legend", {}, "Outcomes"), outcomesList, addOutcome),
    bField.wrap, subsidy,
    h("div", { class: "grid-2" },
      field("Taker fee (%)", fee, "0–10%.").wrap,
      field("Trading closes", closes, "Your local time.").wrap),
    field("Resolution source (optional)", source).wrap,
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(submit, error, async () => {
      const when = new Date(closes.value);
      if (Number.isNaN(when.getTime())) throw new ApiError("Choose when trading closes.", "BAD_USER_INPUT");
      const feePercent = fee.value.trim() === "" ? 0 : Number(fee.value);
      if (!Number.isFinite(feePercent)) throw new ApiError("Enter the fee as a percentage, like 1 or 0.5.", "BAD_USER_INPUT");
      const input = {
        title: title.value.trim(),
        description: description.value.trim(),
        marketType: type,
        outcomes: names(),
        feeBps: Math.round(feePercent * 100),
        resolutionSource: source.value.trim(),
        closesAt: when.toISOString(),
      };
      if (type === "LMSR") input.liquidityParameter = Number(b.value);
      const data = await gql(CREATE_MARKET, { input });
      refreshMe().catch(() => {});
      location.hash = `#/market/${data.createMarket.id}`;
    });
  });
  update();
  mount(container, h("div", { class: "panel narrow" }, h("h1", { tabindex: "-1" }, "Create a market"), form));
  return () => {};
}
