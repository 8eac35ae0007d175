// The resting orders of one outcome at a time, as a ladder: asks above, bids
// below, levels made (partly) of the other outcomes' orders marked. An
// order-book market shows it as its order book; an LMSR market as the small
// book of the limit orders resting beside its market maker (never the
// maker's curve: orderBook shows resting orders only).

import { h, mount } from "../dom.js";
import { gql } from "../api.js";
import { ORDER_BOOK, SUB_BOOK } from "../queries.js";
import { count } from "../format.js";
import { errorBox, showError } from "../ui.js";
import { subscribe } from "../runtime.js";
import { segmented } from "./ticket.js";

/** How an order-book market shows its book. */
export const FULL_BOOK = {
  title: "Order book",
  depth: 10,
  intro: null,
  empty: ["No asks", "No bids"],
};

/** How an LMSR market shows the limit orders resting beside its market maker. */
export const SMALL_BOOK = {
  title: "Resting orders",
  depth: 5,
  intro: "Limit orders waiting beside the market maker. A trade takes whichever is cheaper, "
    + "these orders or the market maker's next share; the market maker's own prices are not listed here.",
  empty: ["No resting asks", "No resting bids"],
};

/**
 * The ladder of `market`'s selected outcome, loaded with orderBook and kept live by
 * orderBookUpdates. Hooks: `onOutcome(index)` (the tabs), `onLevel(side, priceCents)`
 * (a level was picked: prefill a ticket), `onBook(book)` (every version shown).
 * Returns { el, select(index) }.
 */
export function bookPanel(market, cleanups, hooks, look = FULL_BOOK) {
  let outcomeIndex = 0;
  let stop = null;
  const ladder = h("div", { class: "ladder-wrap", "aria-live": "off" });
  const tabs = segmented("Outcome", market.outcomes.map((o) => [o.index, o.name]), 0, (index) => {
    select(index);
    hooks.onOutcome(index);
  });
  const error = errorBox();

  function select(index) {
    outcomeIndex = index;
    tabs.set(index, false);
    if (stop) stop();
    const outcome = market.outcomes[index];
    const variables = { marketId: market.id, outcomeId: outcome.id, depth: look.depth };
    gql(ORDER_BOOK, variables)
      .then((data) => { if (outcomeIndex === index) renderLadder(data.orderBook); })
      .catch((err) => showError(error, err));
    stop = subscribe([], SUB_BOOK, variables, {
      next: (data) => { if (outcomeIndex === index) renderLadder(data.orderBookUpdates); },
      error: (err) => showError(error, err),
    });
  }
  cleanups.push(() => stop && stop());

  let lastSequence = -1;
  function renderLadder(book) {
    if (book.outcomeId !== market.outcomes[outcomeIndex].id) return;
    if (book.sequence < lastSequence && book.outcomeId === ladder.dataset.outcome) return;
    lastSequence = book.sequence;
    ladder.dataset.outcome = book.outcomeId;
    hooks.onBook(book);
    mount(ladder, ladderTable(market, outcomeIndex, book, hooks, look));
  }

  select(0);
  const el = h("section", { class: "panel", "aria-labelledby": "book-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "book-title" }, look.title), tabs.el),
    look.intro ? h("p", { class: "muted small", "data-testid": "book-intro" }, look.intro) : null,
    error, ladder,
    h("p", { class: "muted small" }, "Asks (sellers) above, bids (buyers) below. Pick a price to prefill the ticket."),
    h("p", { class: "muted small", "data-testid": "one-book-hint" }, market.outcomes.length === 2
      ? `One book: a bid for ${market.outcomes[1].name} at p is an ask for ${market.outcomes[0].name} at 100 − p, so ${market.outcomes[1].name}'s book is the mirror of ${market.outcomes[0].name}'s.`
      : "Marked levels come from the other outcomes' orders: one bid on each makes a synthetic ask here."));
  return {
    el,
    select(index) { if (index !== outcomeIndex) select(index); },
  };
}

/** One outcome's book as a table: asks (best last), the spread, bids (best first). */
function ladderTable(market, outcomeIndex, book, hooks, look) {
  const max = Math.max(1, ...book.bids.map((l) => l.quantity), ...book.asks.map((l) => l.quantity));
  const name = market.outcomes[outcomeIndex].name;
  // Levels made (partly) of the other outcomes' orders: taking them mints or merges sets.
  const binary = market.outcomes.length === 2;
  const other = binary ? market.outcomes[1 - outcomeIndex].name : "other outcomes";
  const mark = (l) => l.syntheticQuantity
    ? h("span", {
      class: "synthetic-mark", "data-testid": "synthetic",
      title: `${count(l.syntheticQuantity)} of these shares are ${other} orders at ${100 - l.priceCents}¢`,
    }, binary ? ` +${count(l.syntheticQuantity)} via ${other}` : ` +${count(l.syntheticQuantity)} synthetic`)
    : null;
  const level = (l, kind) => h("tr", { class: l.syntheticQuantity ? `${kind} synthetic` : kind },
    h("td", {}, h("button", {
      type: "button", class: "level",
      "aria-label": `${kind === "ask" ? "Buy" : "Sell"} ${name} at ${l.priceCents} cents`,
      onclick: () => hooks.onLevel(kind === "ask" ? "BUY" : "SELL", l.priceCents),
    }, `${l.priceCents}¢`)),
    h("td", { class: "num depth" },
      h("span", { class: "depth-bar", style: `width:${((l.quantity / max) * 100).toFixed(1)}%`, "aria-hidden": "true" }),
      h("span", { class: "depth-value" }, count(l.quantity))),
    h("td", { class: "num muted" }, count(l.orders), mark(l)));
  const spread = book.spreadCents !== null && book.spreadCents !== undefined ? `Spread ${book.spreadCents}¢` : "No spread";
  const last = book.lastTradeCents ? ` · Last ${book.lastTradeCents}¢` : "";
  const [noAsks, noBids] = look.empty;
  return h("table", { class: "ladder", "data-testid": "order-book" },
    h("caption", { class: "sr-only" }, `${look.title} for ${name}: asks then bids`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Price"), h("th", { scope: "col", class: "num" }, "Shares"), h("th", { scope: "col", class: "num" }, "Orders"))),
    h("tbody", { class: "asks" }, book.asks.length
      ? [...book.asks].reverse().map((l) => level(l, "ask"))
      : h("tr", { class: "empty-side" }, h("td", { colspan: "3" }, noAsks))),
    h("tbody", { class: "mid" }, h("tr", {}, h("td", { colspan: "3" }, `${spread}${last}`))),
    h("tbody", { class: "bids" }, book.bids.length
      ? book.bids.map((l) => level(l, "bid"))
      : h("tr", { class: "empty-side" }, h("td", { colspan: "3" }, noBids))));
}
