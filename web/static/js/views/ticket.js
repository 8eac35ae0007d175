// Trade tickets: the LMSR ticket (buy/sell YES/NO by spend or shares, with a
// live quote), the order-book ticket (limit/market, time in force, post-only)
// and complete sets (mint/redeem). Amounts are sent in cents and shares.

import { h, mount, field, debounce, uid } from "../dom.js";
import { gql } from "../api.js";
import { session } from "../session.js";
import { QUOTE, LMSR_TRADE, PLACE_ORDER, MINT, REDEEM } from "../queries.js";
import { money, parseDollars, parseWhole, percent, priceCents, localInputValue, count } from "../format.js";
import { errorBox, showError, clearError, busy, announce, plainMessage } from "../ui.js";
import { checkHolding, checkShares, checkSpend, refuse } from "../checks.js";

/** Shares of each outcome free to sell (held less those on resting sell orders). */
export function freeShares(positions) {
  const free = {};
  for (const p of positions) free[p.outcome.index] = p.shares - p.reservedShares;
  return free;
}

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
    renderHolding();
    requote();
    showBook();
  });
  /** Let the page's book show what this trade would compete with: the chosen outcome's
   *  (on a binary market, the other outcome's when buying or selling No). */
  function showBook() {
    if (hooks.onOutcome) hooks.onOutcome(binary && state.choice === "NO" ? 1 : state.outcome);
  }
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
  const holdingLine = h("p", { class: "holding muted", "data-testid": "holding", "aria-live": "polite" });
  let free = null; // shares free to sell by outcome index; null until known (or signed out)

  /** Shares of the current choice one can sell: YES of outcome i is outcome i's shares; NO of
   *  outcome i is one share of every other outcome, so as many as the scarcest of them. */
  function held(choice) {
    if (!free) return null;
    const i = state.outcome;
    if (choice === "YES") return free[i] || 0;
    const others = market.outcomes.filter((o) => o.index !== i).map((o) => free[o.index] || 0);
    return Math.min(...others);
  }
  function renderHolding() {
    const n = held(state.choice);
    holdingLine.textContent = n === null ? "" : `You hold ${count(n)} ${choiceName(state.choice)} shares.`;
  }

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
      onclick: () => { state.choice = choice; renderChoices(); renderLabels(); requote(); showBook(); },
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
    renderHolding();
  }

  /** Cash (and bonus, when paying with it) the signed-in person can spend; null if unknown. */
  function spendable() {
    const user = session.user;
    if (!user) return null;
    return user.balanceCents + (bonus.checked ? user.bonusBalanceCents : 0);
  }

  /** The LmsrTradeInput from the form, or throws ApiError (in words) for what the
   *  server would refuse: not a number, out of range, more than one has or holds. */
  function input() {
    const buying = state.action === "BUY";
    const spend = state.amountType === "SPEND";
    const name = choiceName(state.choice);
    let raw;
    if (spend) raw = checkSpend(parseDollars(amount.value), buying ? spendable() : null, buying ? "Spend" : "Receive at least");
    else raw = checkShares(parseWhole(amount.value));
    if (!buying) checkHolding(spend ? null : raw, held(state.choice), name);
    const limitText = limit.value.trim();
    const limitCents = limitText ? parseDollars(limitText) : null;
    if (limitText && limitCents === null) throw refuse("Slippage limit: enter dollars, like 12.50.", "INVALID_AMOUNT");
    if (limitCents !== null) checkSpend(limitCents, null, buying ? "Max total cost" : "Min payout");
    return {
      marketId: market.id,
      outcomeId: market.outcomes[state.outcome].id,
      side: `${state.action}_${state.choice}`,
      amountType: state.amountType,
      amount: raw,
      useBonus: bonus.checked && buying,
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
      if (mine === quoteGeneration) quoteBox.replaceChildren(h("p", { class: "quote-error" }, plainMessage(err)));
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
    const split = splitWords(q, buying);
    mount(quoteBox, h("dl", { class: "quote-list" },
      rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
    split ? h("p", { class: "quote-split", "data-testid": "quote-split" }, `${split}.`) : null);
  }

  const form = h("form", { class: "ticket-form", novalidate: true },
    binary ? null : field("Outcome", outcomeSelect).wrap,
    action.el, choiceWrap, holdingLine, amountType.el, amountField.wrap, error,
    h("details", { class: "advanced" }, h("summary", {}, "Slippage limit and bonus"), limitField.wrap, bonusRow),
    quoteBox, session.token ? submit : signInPrompt(), result);
  for (const el of [amount, limit]) el.addEventListener("input", () => { clearError(error); requote(); });
  bonus.addEventListener("change", requote);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.textContent = "";
    await busy(submit, error, async () => {
      const data = await gql(LMSR_TRADE, { input: input() });
      const r = data.lmsrTrade;
      const shares = Math.abs(r.sharesDelta);
      const buying = state.action === "BUY";
      const split = splitWords(r, buying);
      const text = `${buying ? "Bought" : "Sold"} ${count(shares)} ${choiceName(state.choice)} `
        + `for ${money(r.costOrPayoutCents)}.${split ? ` ${split}.` : ""}`;
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
    form,
    onPrices(prices) {
      market.prices = prices;
      renderChoices();
      requote();
    },
    /** The resting orders changed: what a trade would take from them may have too. */
    onBook() { requote(); },
    /** What the signed-in person holds here (myPositions of this market). */
    setPositions(positions) {
      free = freeShares(positions);
      renderHolding();
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
      showBook();
      amount.focus();
    },
    destroy() { requote.cancel(); },
  };
}

/**
 * Where a quote's or trade's shares come from (a buy) or go (a sale), before the fee:
 * "12 shares from the market maker for $5.87, 8 from resting orders for $3.60".
 * Null when no resting order takes part: then it is all the market maker's.
 */
export function splitWords(r, buying) {
  if (!r.bookShares) return null;
  const way = buying ? "from" : "to";
  const fee = r.feeCents ? " (before the fee)" : "";
  const shares = (n) => `${count(n)} share${n === 1 ? "" : "s"}`;
  if (!r.marketMakerShares) return `All ${shares(r.bookShares)} ${way} resting orders for ${money(r.bookCents)}${fee}`;
  return `${shares(r.marketMakerShares)} ${way} the market maker for ${money(r.marketMakerCents)}, `
    + `${count(r.bookShares)} ${way} resting orders for ${money(r.bookCents)}${fee}`;
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
 * `fill(side, priceCents)` prefills from a clicked price level. With `limitOnly`
 * (an LMSR market's limit orders, beside its "trade now" ticket) there is no
 * market order: taking at once is what the other ticket does, priced with the maker.
 */
export function bookTicket(market, hooks, { limitOnly = false } = {}) {
  const state = { outcome: 0, side: "BUY", type: "LIMIT", book: null, free: null };
  const error = errorBox("order-error");
  const result = h("div", { class: "result", role: "status" });
  const summary = h("p", { class: "summary muted", "aria-live": "polite" });
  const estimateBox = h("div", { class: "estimate", "data-testid": "estimate", "aria-live": "polite" });
  const holdingLine = h("p", { class: "holding muted", "data-testid": "holding" });

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
    const free = state.free ? state.free[state.outcome] || 0 : null;
    holdingLine.textContent = free === null ? "" : `You hold ${count(free)} ${name} shares free to sell.`;
    renderEstimate(qty);
    if (!qty) summary.textContent = "Enter a whole number of shares.";
    else if (!limitOrder) summary.textContent = `${verb} ${count(qty)} ${name} at the best available prices; whatever cannot fill now is cancelled.`;
    else if (!cents || cents > 99) summary.textContent = "Enter a price from 1¢ to 99¢.";
    else if (state.side === "BUY") {
      summary.textContent = `${verb} ${count(qty)} ${name} at ${cents}¢ or better: up to ${money(qty * cents)}, pays ${money(qty * 100)} if ${name} wins.`;
    } else {
      summary.textContent = `${verb} ${count(qty)} ${name} at ${cents}¢ or better: receive at least ${money(qty * cents)}.`;
    }
  }

  /** Before a market order: what it would fill now against the book, at what average
   *  price and cost, and a warning when it walks more than a few cents past the best price. */
  function renderEstimate(qty) {
    const book = state.book;
    if (state.type !== "MARKET" || !qty || !book || book.outcomeId !== market.outcomes[state.outcome].id) {
      estimateBox.replaceChildren();
      return;
    }
    const plan = sweep(state.side === "BUY" ? book.asks : book.bids, qty);
    const buying = state.side === "BUY";
    if (!plan.filled) {
      estimateBox.replaceChildren(h("p", { class: "warning" },
        `No one is ${buying ? "selling" : "buying"} ${market.outcomes[state.outcome].name} now: a market order would fill nothing.`));
      return;
    }
    const fee = market.feeBps ? " before the fee" : "";
    estimateBox.replaceChildren(
      h("p", {}, `Estimate from the book: ${count(plan.filled)} shares at an average ${plan.average.toFixed(1)}¢, `,
        `${buying ? "cost" : "proceeds"} ${money(plan.cents)}${fee}.`),
      plan.filled < qty ? h("p", { class: "warning" },
        `Only ${count(plan.filled)} of ${count(qty)} can fill now; the other ${count(qty - plan.filled)} would be cancelled (market orders never rest).`) : null,
      plan.worst !== plan.best && Math.abs(plan.worst - plan.best) > SWEEP_WARNING_CENTS ? h("p", { class: "warning" },
        `This order sweeps the book from ${plan.best}¢ to ${plan.worst}¢. A limit order lets you name your price.`) : null);
  }

  function input() {
    const qty = checkShares(parseWhole(quantity.value), "Quantity");
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
      if (cents === null || cents < 1 || cents > 99) throw refuse("Price: whole cents from 1¢ to 99¢.", "INVALID_AMOUNT");
      body.priceCents = cents;
      body.postOnly = postOnly.checked;
    }
    if (tif.value === "GTD") {
      const when = new Date(expires.value);
      if (Number.isNaN(when.getTime())) throw refuse("Expiry: choose when the order expires.");
      if (when <= new Date()) throw refuse("Expiry: choose a time in the future.");
      body.expiresAt = when.toISOString();
    }
    return body;
  }

  const form = h("form", { class: "ticket-form", novalidate: true, "data-testid": "order-ticket" },
    field("Outcome", outcomeSelect).wrap, side.el, holdingLine, limitOnly ? null : type.el, priceField.wrap,
    field("Quantity (shares)", quantity).wrap, error, tifField.wrap, expiresField.wrap, postOnlyRow,
    summary, estimateBox, session.token ? submit : signInPrompt(), result);
  for (const el of [price, quantity, tif, expires]) {
    el.addEventListener("input", () => { clearError(error); update(); });
    el.addEventListener("change", update);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.textContent = "";
    await busy(submit, error, async () => {
      const order = (await gql(PLACE_ORDER, { input: input() })).placeOrder;
      const text = orderOutcome(order, market);
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
    form,
    select(index) {
      state.outcome = index;
      outcomeSelect.value = String(index);
      update();
    },
    setBook(orderBook) {
      state.book = orderBook;
      update();
    },
    setPositions(positions) {
      state.free = freeShares(positions);
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

/* ------------------------------------------- LMSR market: now or a limit order */

/**
 * An LMSR market's two ways to trade, in one panel: now (`lmsrTicket`: the market
 * maker and the resting orders, whichever is cheaper, share by share) or a limit
 * order that rests until someone meets its price (`bookTicket`, limit only).
 * `show("NOW" | "LIMIT")` switches. A market not open for trading shows `now`'s notice.
 */
export function tradeTabs(market, now, limit) {
  if (!tradable(market)) return { el: now.el, show() {} };
  const tabs = segmented("How to trade", [["NOW", "Trade now"], ["LIMIT", "Limit order"]], "NOW", show);
  tabs.el.classList.add("ticket-tabs");
  // Only the chosen form is in the page (the other keeps its state aside), so labels
  // such as "Shares" and "Outcome" name one field each.
  const body = h("div", {});
  function show(way) {
    tabs.set(way, false);
    mount(body, way === "NOW" ? now.form : limit.form);
  }
  show("NOW");
  const el = h("section", { class: "panel ticket", "aria-labelledby": "ticket-title" },
    h("h2", { id: "ticket-title" }, "Trade"), tabs.el, body);
  return { el, show };
}

const SWEEP_WARNING_CENTS = 3;

/** Walk price levels (best first) for `qty` shares: filled, cents, average, best and worst price. */
export function sweep(levels, qty) {
  let filled = 0;
  let cents = 0;
  let worst = null;
  for (const level of levels) {
    if (filled >= qty) break;
    const take = Math.min(level.quantity, qty - filled);
    filled += take;
    cents += take * level.priceCents;
    worst = level.priceCents;
  }
  const best = levels.length ? levels[0].priceCents : null;
  return { filled, cents, average: filled ? cents / filled : 0, best, worst };
}

/**
 * What happened to a placed order, in words: filled, average price, cost, what rests.
 * A fill from an LMSR market maker carries its average price rounded to the cent
 * (Trade.priceCents), so an order the maker filled is "about" that much.
 */
export function orderOutcome(order, market) {
  const name = order.outcome.name;
  const filled = order.filledQuantity;
  const cents = order.trades.reduce((sum, t) => sum + t.priceCents * t.quantity, 0);
  const buying = order.side === "BUY";
  const about = order.trades.some((t) => t.isAmmTrade) ? "about " : "";
  const done = filled
    ? `${buying ? "Bought" : "Sold"} ${count(filled)} ${name} at an average ${about ? "of about " : ""}` +
      `${(cents / filled).toFixed(1)}¢ (${buying ? "cost" : "proceeds"} ${about}${money(cents)}` +
      `${market.feeBps ? " before the fee" : ""}).`
    : "";
  const rest = order.quantity - filled;
  if (!rest) return done;
  if (order.status === "OPEN" || order.status === "PARTIALLY_FILLED") {
    return `${done ? `${done} ` : "Order placed: "}${count(order.remainingQuantity)} ${name} resting at ${order.priceCents}¢.`;
  }
  const why = order.orderType === "MARKET" ? "market orders never rest"
    : order.timeInForce === "FOK" ? "fill or kill" : order.timeInForce === "IOC" ? "immediate or cancel" : order.status.toLowerCase();
  return done ? `${done} The other ${count(rest)} were cancelled (${why}).`
    : `Nothing filled: all ${count(rest)} were cancelled (${why}).`;
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
      checkShares(n, "Sets");
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
