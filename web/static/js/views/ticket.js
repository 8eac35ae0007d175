// Trade tickets: the LMSR ticket (buy/sell YES/NO by spend or shares, with a
// live quote), the order-book ticket (limit/market, time in force, post-only)
// and complete sets (mint/redeem). Amounts are sent in cents and shares.

import { h, mount, field, debounce, uid } from "../dom.js";
import { gql, ApiError } from "../api.js";
import { session } from "../session.js";
import { QUOTE, LMSR_TRADE, PLACE_ORDER, MINT, REDEEM } from "../queries.js";
import { money, parseDollars, parseWhole, percent, priceCents, localInputValue, count } from "../format.js";
import { errorBox, showError, clearError, busy, announce } from "../ui.js";

/** Segmented control: buttons with aria-pressed; returns { el, value, set }. */
export function segmented(label, options, initial, onChange) {
  let value = initial;
  const buttons = options.map(([v, text, extra = {}]) => h("button", {
    type: "button", ...extra, "aria-pressed": String(v === initial),
    onclick: () => set(v, true),
  }, text));
  const el = h("div", { class: "segmented", role: "group", "aria-label": label }, buttons);
  function set(v, fire) {
    value = v;
    options.forEach(([ov], i) => buttons[i].setAttribute("aria-pressed", String(ov === v)));
    if (fire) onChange(v);
  }
  return { el, get value() { return value; }, set, buttons };
}

function signInPrompt() {
  const next = encodeURIComponent(location.hash.replace(/^#/, ""));
  return h("p", { class: "signin-prompt" },
    h("a", { class: "button primary block", href: `#/login?next=${next}` }, "Log in to trade"),
    h("span", { class: "muted small" }, "New here? ", h("a", { href: `#/register?next=${next}` }, "Create an account"),
      " — you start with $1,000 of play money."));
}

function closedNotice(market) {
  const why = { PAUSED: "Trading is paused.", CLOSED: "Trading has closed.", RESOLVED: "This market is resolved.", VOIDED: "This market was voided." };
  return h("p", { class: "notice" }, why[market.status] || "Trading is not open.");
}

function tradable(market) {
  return market.status === "OPEN" && new Date(market.closesAt) > new Date();
}

/* ------------------------------------------------------------------ LMSR */

/**
 * The LMSR ticket. `hooks.onTraded()` runs after a trade; the returned
 * `onPrices(prices)` re-quotes when the market moves and `selectOutcome(i, side)`
 * lets the outcome list preselect a choice.
 */
export function lmsrTicket(market, hooks) {
  const binary = market.outcomes.length === 2;
  const state = { outcome: 0, action: "BUY", choice: "YES", amountType: "SPEND" };
  const error = errorBox("ticket-error");
  const quoteBox = h("div", { class: "quote", "aria-live": "polite", "data-testid": "quote" });
  const result = h("div", { class: "result", role: "status" });

  const outcomeSelect = h("select", { id: uid("outcome") },
    market.outcomes.map((o) => h("option", { value: String(o.index) }, o.name)));
  outcomeSelect.addEventListener("change", () => {
    state.outcome = Number(outcomeSelect.value);
    renderChoices();
    requote();
  });
  const action = segmented("Buy or sell", [["BUY", "Buy"], ["SELL", "Sell"]], "BUY", (v) => {
    state.action = v;
    renderLabels();
    requote();
  });
  const choiceWrap = h("div", { class: "choices", role: "group", "aria-label": "Outcome to trade" });
  const amountType = segmented("Amount in", [["SPEND", "Dollars"], ["SHARES", "Shares"]], "SPEND", (v) => {
    state.amountType = v;
    amount.value = v === "SPEND" ? "10" : "10";
    renderLabels();
    requote();
  });
  const amount = h("input", { type: "text", inputmode: "decimal", id: "ticket-amount", value: "10", autocomplete: "off", "aria-describedby": "ticket-error" });
  const amountField = field("Amount", amount);
  const limit = h("input", { type: "text", inputmode: "decimal", id: "ticket-limit", placeholder: "No limit", autocomplete: "off" });
  const limitField = field("Max total cost ($)", limit, "Optional. The trade fails instead of costing more than this.");
  const bonus = h("input", { type: "checkbox", id: uid("bonus") });
  const bonusRow = h("div", { class: "check" }, bonus, h("label", { for: bonus.id }, "Pay with bonus credit"));
  const submit = h("button", { type: "submit", class: "primary block", "data-testid": "ticket-submit" }, "Buy");

  function choicePrice(choice) {
    const p = market.prices[state.outcome] ?? 0;
    return choice === "YES" ? p : 1 - p;
  }
  function choiceName(choice) {
    if (binary) return market.outcomes[choice === "YES" ? 0 : 1].name;
    return `${choice === "YES" ? "Yes" : "No"} · ${market.outcomes[state.outcome].name}`;
  }
  function renderChoices() {
    mount(choiceWrap, ["YES", "NO"].map((choice) => h("button", {
      type: "button", class: `choice choice-${choice.toLowerCase()}`,
      "aria-pressed": String(state.choice === choice),
      onclick: () => { state.choice = choice; renderChoices(); renderLabels(); requote(); },
    }, h("span", {}, binary ? choiceName(choice) : choice === "YES" ? "Yes" : "No"),
    h("strong", {}, priceCents(choicePrice(choice))))));
  }
  function renderLabels() {
    const buying = state.action === "BUY";
    amountField.wrap.querySelector("label").textContent =
      state.amountType === "SPEND" ? (buying ? "Spend ($)" : "Receive at least ($)") : "Shares";
    amount.inputMode = state.amountType === "SPEND" ? "decimal" : "numeric";
    limitField.wrap.querySelector("label").textContent = buying ? "Max total cost ($)" : "Min payout ($)";
    limitField.wrap.querySelector(".hint").textContent = buying
      ? "Optional. The trade fails rather than cost more than this."
      : "Optional. The trade fails rather than pay less than this.";
    bonusRow.hidden = !buying || !session.user || session.user.bonusBalanceCents <= 0;
    submit.textContent = `${buying ? "Buy" : "Sell"} ${choiceName(state.choice)}`;
  }

  /** The LmsrTradeInput from the form, or throws ApiError for a local typo. */
  function input() {
    const raw = state.amountType === "SPEND" ? parseDollars(amount.value) : parseWhole(amount.value);
    if (raw === null) {
      throw new ApiError(state.amountType === "SPEND"
        ? "Enter a dollar amount, like 10 or 2.50." : "Enter a whole number of shares.", "INVALID_AMOUNT");
    }
    const limitText = limit.value.trim();
    const limitCents = limitText ? parseDollars(limitText) : null;
    if (limitText && limitCents === null) throw new ApiError("Enter the slippage limit in dollars, like 12.50.", "INVALID_AMOUNT");
    return {
      marketId: market.id,
      outcomeId: market.outcomes[state.outcome].id,
      side: `${state.action}_${state.choice}`,
      amountType: state.amountType,
      amount: raw,
      useBonus: bonus.checked && state.action === "BUY",
      limitCents,
    };
  }

  let quoteGeneration = 0;
  async function quote() {
    const mine = ++quoteGeneration;
    let variables;
    try {
      variables = { input: input() };
    } catch (err) {
      quoteBox.replaceChildren(h("p", { class: "muted" }, err.message));
      return;
    }
    try {
      const data = await gql(QUOTE, variables);
      if (mine === quoteGeneration) renderQuote(data.quoteLmsr);
    } catch (err) {
      if (mine === quoteGeneration) quoteBox.replaceChildren(h("p", { class: "quote-error" }, err.message));
    }
  }
  const requote = debounce(quote, 200);

  function renderQuote(q) {
    const buying = state.action === "BUY";
    const shares = Math.abs(q.sharesDelta);
    const i = state.outcome;
    const after = state.choice === "YES" ? q.pricesAfter[i] : 1 - q.pricesAfter[i];
    const rows = [
      ["Shares", count(shares)],
      ["Average price", priceCents(q.averagePrice)],
      [buying ? "Cost" : "Payout", money(q.costOrPayoutCents)],
      ["Fee", money(q.feeCents)],
      [`${choiceName(state.choice)} after`, `${percent(choicePrice(state.choice))} → ${percent(after)}`],
    ];
    if (buying) rows.push(["Pays if right", money(shares * 100)]);
    mount(quoteBox, h("dl", { class: "quote-list" },
      rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))));
  }

  const form = h("form", { class: "ticket-form", novalidate: true },
    binary ? null : field("Outcome", outcomeSelect).wrap,
    action.el, choiceWrap, amountType.el, amountField.wrap,
    h("details", { class: "advanced" }, h("summary", {}, "Slippage limit and bonus"), limitField.wrap, bonusRow),
    quoteBox, error, session.token ? submit : signInPrompt(), result);
  for (const el of [amount, limit]) el.addEventListener("input", () => { clearError(error); requote(); });
  bonus.addEventListener("change", requote);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.textContent = "";
    await busy(submit, error, async () => {
      const data = await gql(LMSR_TRADE, { input: input() });
      const r = data.lmsrTrade;
      const shares = Math.abs(r.sharesDelta);
      const text = state.action === "BUY"
        ? `Bought ${count(shares)} ${choiceName(state.choice)} for ${money(r.costOrPayoutCents)}.`
        : `Sold ${count(shares)} ${choiceName(state.choice)} for ${money(r.costOrPayoutCents)}.`;
      result.textContent = text;
      announce(text, "success");
      market.prices = r.prices;
      renderChoices();
      hooks.onTraded();
      quote();
    });
  });

  renderChoices();
  renderLabels();
  quote();
  const el = h("section", { class: "panel ticket", "aria-labelledby": "ticket-title" },
    h("h2", { id: "ticket-title" }, "Trade"),
    tradable(market) ? form : closedNotice(market));
  return {
    el,
    onPrices(prices) {
      market.prices = prices;
      renderChoices();
      requote();
    },
    select(index, choice) {
      state.outcome = index;
      outcomeSelect.value = String(index);
      state.choice = choice;
      action.set("BUY", false);
      state.action = "BUY";
      renderChoices();
      renderLabels();
      requote();
      amount.focus();
    },
    destroy() { requote.cancel(); },
  };
}

/* ------------------------------------------------------------ order book */

const TIF_LABELS = {
  GTC: "Good 'til cancelled",
  GTD: "Good 'til date",
  IOC: "Immediate or cancel",
  FOK: "Fill or kill",
};

/**
 * The order-book ticket. `select(outcomeIndex)` follows the book's outcome,
 * `fill(side, priceCents)` prefills from a clicked price level.
 */
export function bookTicket(market, hooks) {
  const state = { outcome: 0, side: "BUY", type: "LIMIT" };
  const error = errorBox("order-error");
  const result = h("div", { class: "result", role: "status" });
  const summary = h("p", { class: "summary muted", "aria-live": "polite" });

  const outcomeSelect = h("select", { id: "order-outcome" },
    market.outcomes.map((o) => h("option", { value: String(o.index) }, o.name)));
  outcomeSelect.addEventListener("change", () => {
    state.outcome = Number(outcomeSelect.value);
    hooks.onOutcome(state.outcome);
    update();
  });
  const side = segmented("Side", [["BUY", "Buy", { class: "buy" }], ["SELL", "Sell", { class: "sell" }]], "BUY", (v) => {
    state.side = v;
    update();
  });
  const type = segmented("Order type", [["LIMIT", "Limit"], ["MARKET", "Market"]], "LIMIT", (v) => {
    state.type = v;
    tif.value = v === "LIMIT" ? "GTC" : "IOC";
    update();
  });
  const price = h("input", { type: "number", id: "order-price", min: "1", max: "99", step: "1", value: "50", inputmode: "numeric" });
  const priceField = field("Limit price (¢ per share)", price, "1–99¢. A share pays 100¢ if its outcome wins.");
  const quantity = h("input", { type: "number", id: "order-quantity", min: "1", step: "1", value: "10", inputmode: "numeric" });
  const tif = h("select", { id: "order-tif" },
    Object.entries(TIF_LABELS).map(([v, label]) => h("option", { value: v }, `${v} — ${label}`)));
  const tifField = field("Time in force", tif);
  const expires = h("input", { type: "datetime-local", id: "order-expires",
    value: localInputValue(new Date(Date.now() + 86_400_000)) });
  const expiresField = field("Expires at", expires, "Your local time.");
  const postOnly = h("input", { type: "checkbox", id: "order-post-only" });
  const postOnlyRow = h("div", { class: "check" }, postOnly,
    h("label", { for: "order-post-only" }, "Post only (never take liquidity)"));
  const submit = h("button", { type: "submit", class: "primary block", "data-testid": "order-submit" }, "Place order");

  function update() {
    const limitOrder = state.type === "LIMIT";
    priceField.wrap.hidden = !limitOrder;
    postOnlyRow.hidden = !limitOrder;
    for (const option of tif.options) option.disabled = !limitOrder && (option.value === "GTC" || option.value === "GTD");
    expiresField.wrap.hidden = tif.value !== "GTD";
    const qty = parseWhole(quantity.value);
    const cents = parseWhole(price.value);
    const name = market.outcomes[state.outcome].name;
    const verb = state.side === "BUY" ? "Buy" : "Sell";
    submit.textContent = `${verb} ${name}`;
    submit.className = `primary block ${state.side === "BUY" ? "" : "sell"}`;
    if (!qty) summary.textContent = "Enter a whole number of shares.";
    else if (!limitOrder) summary.textContent = `${verb} ${count(qty)} ${name} at the best available prices.`;
    else if (!cents || cents > 99) summary.textContent = "Enter a price from 1¢ to 99¢.";
    else if (state.side === "BUY") {
      summary.textContent = `${verb} ${count(qty)} ${name} at ${cents}¢ or better: up to ${money(qty * cents)}, pays ${money(qty * 100)} if ${name} wins.`;
    } else {
      summary.textContent = `${verb} ${count(qty)} ${name} at ${cents}¢ or better: receive at least ${money(qty * cents)}.`;
    }
  }

  function input() {
    const qty = parseWhole(quantity.value);
    if (qty === null) throw new ApiError("Enter a whole number of shares.", "INVALID_AMOUNT");
    const body = {
      marketId: market.id,
      outcomeId: market.outcomes[state.outcome].id,
      side: state.side,
      orderType: state.type,
      quantity: qty,
      timeInForce: tif.value,
    };
    if (state.type === "LIMIT") {
      const cents = parseWhole(price.value);
      if (cents === null) throw new ApiError("Enter the price as whole cents from 1 to 99.", "INVALID_AMOUNT");
      body.priceCents = cents;
      body.postOnly = postOnly.checked;
    }
    if (tif.value === "GTD") {
      const when = new Date(expires.value);
      if (Number.isNaN(when.getTime())) throw new ApiError("Choose when the order expires.", "BAD_USER_INPUT");
      body.expiresAt = when.toISOString();
    }
    return body;
  }

  const form = h("form", { class: "ticket-form", novalidate: true },
    field("Outcome", outcomeSelect).wrap, side.el, type.el, priceField.wrap,
    field("Quantity (shares)", quantity).wrap, tifField.wrap, expiresField.wrap, postOnlyRow,
    summary, error, session.token ? submit : signInPrompt(), result);
  for (const el of [price, quantity, tif, expires]) {
    el.addEventListener("input", () => { clearError(error); update(); });
    el.addEventListener("change", update);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.textContent = "";
    await busy(submit, error, async () => {
      const order = (await gql(PLACE_ORDER, { input: input() })).placeOrder;
      const text = `Order ${order.status.replace("_", " ").toLowerCase()}: ` +
        `${count(order.filledQuantity)} of ${count(order.quantity)} filled` +
        (order.remainingQuantity ? `, ${count(order.remainingQuantity)} resting.` : ".");
      result.textContent = text;
      announce(text, "success");
      hooks.onTraded();
    });
  });
  update();
  const el = h("section", { class: "panel ticket", "aria-labelledby": "order-title" },
    h("h2", { id: "order-title" }, "Place an order"),
    tradable(market) ? form : closedNotice(market));
  return {
    el,
    select(index) {
      state.outcome = index;
      outcomeSelect.value = String(index);
      update();
    },
    fill(orderSide, cents) {
      side.set(orderSide, false);
      state.side = orderSide;
      type.set("LIMIT", false);
      state.type = "LIMIT";
      if (tif.value !== "GTC" && tif.value !== "GTD") tif.value = "GTC";
      price.value = String(cents);
      update();
      quantity.focus();
    },
  };
}

/* --------------------------------------------------------- complete sets */

export function completeSets(market, hooks) {
  const error = errorBox("sets-error");
  const result = h("div", { class: "result", role: "status" });
  const quantity = h("input", { type: "number", id: "sets-quantity", min: "1", step: "1", value: "10", inputmode: "numeric" });
  const mint = h("button", { type: "button", class: "secondary", "data-testid": "mint" }, "Mint");
  const redeem = h("button", { type: "button", class: "secondary", "data-testid": "redeem" }, "Redeem");
  const preview = h("p", { class: "muted small" });
  function update() {
    const n = parseWhole(quantity.value);
    preview.textContent = n
      ? `Mint: pay ${money(n * 100)} for ${count(n)} of each outcome. Redeem: give back ${count(n)} of each, receive ${money(n * 100)}.`
      : "Enter a whole number of sets.";
  }
  async function run(button, mutation, key, verb) {
    result.textContent = "";
    await busy(button, error, async () => {
      const n = parseWhole(quantity.value);
      if (n === null) throw new ApiError("Enter a whole number of sets.", "INVALID_AMOUNT");
      const data = await gql(mutation, { marketId: market.id, quantity: n });
      const text = `${verb} ${count(data[key].quantity)} complete sets for ${money(data[key].cents)}.`;
      result.textContent = text;
      announce(text, "success");
      hooks.onTraded();
    });
  }
  mint.addEventListener("click", () => run(mint, MINT, "mintCompleteSet", "Minted"));
  redeem.addEventListener("click", () => run(redeem, REDEEM, "redeemCompleteSet", "Redeemed"));
  quantity.addEventListener("input", () => { clearError(error); update(); });
  update();
  if (!session.token) return null;
  const body = !tradable(market) ? closedNotice(market) : h("div", {},
    field("Sets", quantity).wrap, preview, h("div", { class: "row" }, mint, redeem), error, result);
  return h("section", { class: "panel", "aria-labelledby": "sets-title" },
    h("h2", { id: "sets-title" }, "Complete sets"),
    h("p", { class: "muted small" }, "One share of every outcome always pays exactly $1.00, so a set costs $1.00."),
    body);
}
