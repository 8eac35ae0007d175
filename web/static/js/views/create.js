// The create-market form: both mechanisms, outcomes, b (with the subsidy
// it costs), fee, closing time.

import { h, mount, field, uid } from "../dom.js";
import { gql, refreshMe, ApiError } from "../api.js";
import { session } from "../session.js";
import { CREATE_MARKET } from "../queries.js";
import { money, localInputValue } from "../format.js";
import { errorBox, busy, clearError, showError } from "../ui.js";
import { LIMITS, refuse } from "../checks.js";
import { segmented } from "./ticket.js";
import { createExtras } from "./resolution.js";

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
  // No maxlength: a browser would cut typing silently; the counter and the check say it.
  const title = h("input", { id: "create-title", required: true, placeholder: "Will … happen before …?" });
  const titleCount = h("span", { class: "counter", "aria-live": "polite" });
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
  // One error box under each field a check can be about; API errors go under the button.
  const errors = {
    title: errorBox("create-title-error"), outcomes: errorBox("create-outcomes-error"),
    b: errorBox("create-b-error"), fee: errorBox("create-fee-error"), closes: errorBox("create-closes-error"),
  };
  const fieldOf = { title, b, fee, closes };

  /** A refusal about `key`'s field, shown next to it; the whole form is checked at once. */
  function check(problems, key, ok, message, code) {
    if (!ok) problems.push([key, refuse(message, code)]);
  }
  function validate() {
    const problems = [];
    const text = title.value.trim();
    check(problems, "title", text.length >= LIMITS.titleMin && text.length <= LIMITS.titleMax,
      `Question: ${LIMITS.titleMin} to ${LIMITS.titleMax} characters (now ${text.length}).`);
    const outcomeNames = names();
    check(problems, "outcomes", outcomeNames.every((n) => n.length >= 1 && n.length <= LIMITS.outcomeMax),
      `Outcomes: each needs a name of 1 to ${LIMITS.outcomeMax} characters.`);
    check(problems, "outcomes", new Set(outcomeNames.map((n) => n.toLowerCase())).size === outcomeNames.length,
      "Outcomes: each name must be different.");
    const feeText = fee.value.trim();
    const feePercent = feeText === "" ? 0 : Number(feeText);
    check(problems, "fee", Number.isFinite(feePercent) && feePercent >= 0 && feePercent <= LIMITS.maxFeePercent
      && Math.abs(Math.round(feePercent * 100) - feePercent * 100) < 1e-6,
    `Taker fee: from 0% to ${LIMITS.maxFeePercent}%, in steps of 0.01%.`);
    if (type === "LMSR") {
      const bValue = Number(b.value);
      const okB = Number.isFinite(bValue) && bValue >= LIMITS.minLiquidity && bValue <= LIMITS.maxLiquidity;
      check(problems, "b", okB, `Liquidity b: from ${LIMITS.minLiquidity} to ${LIMITS.maxLiquidity.toLocaleString("en-US")} shares.`);
      const cash = session.user ? session.user.balanceCents : null;
      if (okB && cash !== null && outcomeNames.length >= 2) {
        const cost = subsidyCents(bValue, outcomeNames.length);
        check(problems, "b", cost <= cash,
          `Funding this market maker costs ${money(cost)}; you have ${money(cash)} in cash. Choose a smaller b.`,
          "INSUFFICIENT_BALANCE");
      }
    }
    const when = new Date(closes.value);
    check(problems, "closes", !Number.isNaN(when.getTime()) && when > new Date(),
      "Trading closes: choose a time in the future.");
    return { problems, feeBps: Math.round(feePercent * 100), when };
  }

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
  const outcomesSet = h("fieldset", {}, h("legend", {}, "Outcomes"), outcomesList, addOutcome, errors.outcomes);
  const extras = createExtras((scalar) => { outcomesSet.hidden = scalar; update(); });

  function names() {
    return [...outcomesList.querySelectorAll("input")].map((i) => i.value.trim());
  }
  function update() {
    clearError(error);
    const length = title.value.trim().length;
    titleCount.textContent = `${length}/${LIMITS.titleMax}`;
    titleCount.classList.toggle("over", length > LIMITS.titleMax);
    const n = outcomesSet.hidden ? 2 : names().length;
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
  title.addEventListener("input", update);
  for (const [key, input] of Object.entries(fieldOf)) {
    input.addEventListener("input", () => clearError(errors[key]));
    input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") || ""} ${errors[key].id}`.trim());
  }

  const form = h("form", { class: "create-form", novalidate: true },
    h("div", {}, titleCount, field("Question", title, "10–200 characters. Make it clear how it resolves.").wrap, errors.title),
    field("Description (optional)", description).wrap,
    h("fieldset", {}, h("legend", {}, "Mechanism"), typePicker.el,
      h("p", { class: "hint" }, "A market maker always quotes a price; an order book matches traders' limit orders.")),
    extras.el, outcomesSet,
    bField.wrap, errors.b, subsidy,
    h("div", { class: "grid-2" },
      h("div", {}, field("Taker fee (%)", fee, "0–10%.").wrap, errors.fee),
      h("div", {}, field("Trading closes", closes, "Your local time.").wrap, errors.closes)),
    field("Resolution source (optional)", source).wrap,
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const box of Object.values(errors)) clearError(box);
    const { problems, feeBps, when } = validate();
    if (problems.length) {
      for (const [key, problem] of problems) if (errors[key].hidden) showError(errors[key], problem);
      const first = fieldOf[problems[0][0]] || outcomesList.querySelector("input");
      if (first) first.focus();
      return;
    }
    await busy(submit, error, async () => {
      const input = {
        title: title.value.trim(),
        description: description.value.trim(),
        marketType: type,
        outcomes: names(),
        feeBps,
        resolutionSource: source.value.trim(),
        closesAt: when.toISOString(),
        ...extras.input(),
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
