// The market page: outcomes with live probabilities, the price chart, the
// order book depth and recent trades (order-book markets), the trade ticket,
// my position and orders here, resolution details and the creator's controls.

import { h, mount } from "../dom.js";
import { gql, refreshMe } from "../api.js";
import { session, onSessionChange } from "../session.js";
import {
  MARKET, PRICE_HISTORY, SUB_PRICES, SUB_TRADES, SUB_MY_ORDERS,
  MY_POSITIONS, MY_OPEN_ORDERS, CANCEL_ORDER, AMEND_ORDER,
} from "../queries.js";
import { subscribe } from "../runtime.js";
import { PriceChart, PALETTE } from "../chart.js";
import {
  money, moneyShort, moneySigned, percent, dateTime, relative, time, count, priceCents, tradeWords, orderNews,
} from "../format.js";
import { errorBox, showError, statusBadge, typeBadge, loading, busy, announce } from "../ui.js";
import { lmsrTicket, bookTicket, tradeTabs, completeSets, segmented } from "./ticket.js";
import { bookPanel, FULL_BOOK, SMALL_BOOK } from "./book.js";
import { withMarks } from "../marks.js";
import { managePanel } from "./manage.js";
import * as resolution from "./resolution.js";

const RANGES = [
  ["1H", "Past hour", "1m", 60],
  ["1D", "Past day", "5m", 288],
  ["1W", "Past week", "1h", 168],
  ["ALL", "All time", null, null],
];

/** Resolution and point count covering the whole life of the market. */
function allTime(market) {
  const age = Date.now() - Date.parse(market.createdAt);
  if (age < 8 * 3600_000) return ["1m", 500];
  if (age < 40 * 3600_000) return ["5m", 500];
  if (age < 20 * 86_400_000) return ["1h", 500];
  return ["1d", 1000];
}

export function marketView(container, marketId) {
  const cleanups = [];
  const error = errorBox();
  mount(container, h("h1", { tabindex: "-1", class: "sr-only" }, "Market"), error, loading("Loading market…"));
  const [resolution, points] = ["1m", 500];
  gql(MARKET, { id: marketId, resolution, points })
    .then((data) => {
      if (!data.market) {
        mount(container, h("div", { class: "panel empty" },
          h("h1", { tabindex: "-1" }, "Market not found"),
          h("p", {}, "It may have been removed, or the link is wrong. ", h("a", { href: "#/" }, "See all markets"))));
        return;
      }
      const [res, pts] = allTime(data.market);
      if (res === "1m") render(container, data.market, data.market.priceHistory, cleanups);
      else gql(PRICE_HISTORY, { id: marketId, resolution: res, points: pts })
        .then((more) => render(container, data.market, more.market.priceHistory, cleanups));
    })
    .catch((err) => {
      container.replaceChildren(h("h1", { tabindex: "-1" }, "Market"), error);
      showError(error, err);
    });
  return () => cleanups.forEach((fn) => fn());
}

function render(container, market, history, cleanups) {
  const lmsr = market.marketType === "LMSR";
  const live = market.status === "OPEN" || market.status === "PAUSED";
  const volume = h("span", { "data-testid": "volume" }, `${moneyShort(market.volumeCents)} volume`);
  const lines = lmsr && market.outcomes.length === 2 ? [0] : market.outcomes.map((o) => o.index);
  const chart = new PriceChart(market.outcomes, history, lines);
  cleanups.push(() => chart.destroy());

  const mySide = h("div", { class: "my-side" });
  const news = h("p", { class: "muted small", role: "status", "data-testid": "order-news" });
  const refreshMine = () => renderMine(mySide, market, news, (positions) => {
    for (const t of new Set([ticket, orders])) if (t) t.setPositions(positions);
  });
  const hooks = {
    onTraded() {
      refreshMe().catch(() => {});
      refreshMine();
    },
    onOutcome(index) { book && book.select(index); },
  };
  // An LMSR market trades now (the market maker and resting orders) or rests a
  // limit order beside its market maker; an order-book market has one ticket for both.
  const ticket = lmsr ? lmsrTicket(market, hooks) : bookTicket(market, hooks);
  const orders = !lmsr ? ticket : live ? bookTicket(market, hooks, { limitOnly: true }) : null;
  const tabs = lmsr && orders ? tradeTabs(market, ticket, orders) : null;
  const book = !orders ? null : bookPanel(market, cleanups, {
    onOutcome: (index) => orders.select(index),
    onLevel: (side, cents) => {
      if (tabs) tabs.show("LIMIT");
      orders.fill(side, cents);
    },
    onBook: (orderBook) => {
      orders.setBook(orderBook);
      if (ticket.onBook) ticket.onBook();
    },
  }, lmsr ? SMALL_BOOK : FULL_BOOK);
  cleanups.push(() => ticket.destroy && ticket.destroy());

  const outcomes = outcomeList(market, lmsr && live ? (i, choice) => ticket.select(i, choice) : null);
  const trades = tradesPanel(market, cleanups);

  mount(container,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Markets"), " / ",
      h("span", { "aria-current": "page" }, market.title)),
    h("header", { class: "market-head" },
      h("h1", { tabindex: "-1" }, market.title),
      h("div", { class: "meta" },
        statusBadge(market.status), typeBadge(market.marketType), volume,
        h("span", { title: dateTime(market.closesAt) },
          new Date(market.closesAt) > new Date() ? `Closes ${relative(market.closesAt)}` : `Closed ${dateTime(market.closesAt)}`),
        market.feeBps ? h("span", {}, `Fee ${(market.feeBps / 100).toFixed(2)}%`) : null)),
    resolutionBanner(market),
    h("div", { class: "market-layout" },
      h("div", { class: "market-main" },
        slot("chart", h("section", { class: "panel chart-panel", "aria-labelledby": "chart-title" },
          h("div", { class: "panel-head" },
            h("h2", { id: "chart-title" }, "Price history"),
            rangePicker(market, chart)),
          chart.el)),
        slot("outcomes", outcomes.el),
        slot("book", book ? book.el : null),
        slot("mine", mySide),
        slot("trades", trades.el),
        slot("about", aboutPanel(market))),
      h("aside", { class: "market-side", "aria-label": "Trading" },
        slot("ticket", tabs ? tabs.el : ticket.el),
        slot("sets", completeSets(market, hooks)),
        slot("manage", manageSlot(market, cleanups)))));

  refreshMine();
  if (live) {
    subscribe(cleanups, SUB_PRICES, { marketId: market.id }, {
      next(data) {
        const update = data.marketPrices;
        // Against the chart's own last point, not market.prices: the ticket sets those
        // from its own trade's result before this event arrives.
        const changed = chart.differs(update.prices);
        market.prices = update.prices;
        market.volumeCents = update.volumeCents;
        volume.textContent = `${moneyShort(update.volumeCents)} volume`;
        outcomes.update(update.prices);
        if (changed) chart.push(update.at, update.prices);
        if (ticket.onPrices) ticket.onPrices(update.prices);
      },
    });
    if (session.token) {
      subscribe(cleanups, SUB_MY_ORDERS, {}, {
        next(data) {
          if (data.myOrderUpdates.market.id === market.id) {
            news.textContent = orderNews(data.myOrderUpdates);
            refreshMine();
            refreshMe().catch(() => {});
          }
        },
      });
    }
    // Lifecycle changes (pause, close, resolve by someone else) have no
    // subscription of their own: look now and then, reload when it changed.
    const timer = setInterval(async () => {
      try {
        const data = await gql(`query S($id: ID!) { market(id: $id) { id status } }`, { id: market.id });
        if (data.market && data.market.status !== market.status) rerender();
      } catch { /* next time */ }
    }, 15_000);
    cleanups.push(() => clearInterval(timer));
  }
}

function rangePicker(market, chart) {
  let generation = 0;
  const picker = segmented("Chart range", RANGES.map(([v, label]) => [v, v, { title: label, "aria-label": label }]), "ALL", async (v) => {
    const mine = ++generation;
    const [, , res, pts] = RANGES.find(([key]) => key === v);
    const [resolution, points] = res ? [res, pts] : allTime(market);
    try {
      const data = await gql(PRICE_HISTORY, { id: market.id, resolution, points });
      if (mine === generation) chart.setHistory(data.market.priceHistory);
    } catch { /* keep the current chart */ }
  });
  picker.el.classList.add("small");
  return picker.el;
}

/** The outcomes with live probabilities (announced politely). */
function outcomeList(market, onChoose) {
  const rows = market.outcomes.map((outcome) => {
    const pct = h("span", { class: "outcome-pct big", "data-testid": `price-${outcome.index}` });
    const cents = h("span", { class: "muted small" });
    const bar = h("span", { class: "bar-fill", style: `background:${PALETTE[outcome.index % PALETTE.length]}` });
    const winner = market.winningOutcome && market.winningOutcome.id === outcome.id;
    const actions = onChoose ? h("div", { class: "row tight" },
      h("button", { type: "button", class: "choice-yes small", onclick: () => onChoose(outcome.index, "YES") },
        market.outcomes.length === 2 ? `Buy ${outcome.name}` : "Buy Yes"),
      market.outcomes.length === 2 ? null : h("button", { type: "button", class: "choice-no small", onclick: () => onChoose(outcome.index, "NO") }, "Buy No")) : null;
    const el = h("li", { class: `outcome ${winner ? "winner" : ""}` },
      h("div", { class: "outcome-line" },
        h("span", { class: "swatch", style: `background:${PALETTE[outcome.index % PALETTE.length]}` }),
        h("span", { class: "outcome-name" }, outcome.name, winner ? h("span", { class: "badge status-resolved" }, "Winner") : null),
        h("span", { class: "outcome-figures" }, pct, cents)),
      h("span", { class: "bar wide", "aria-hidden": "true" }, bar),
      actions);
    return { outcome, pct, cents, bar, el };
  });
  function update(prices) {
    for (const row of rows) {
      const p = prices[row.outcome.index] ?? 0;
      row.pct.textContent = percent(p);
      row.cents.textContent = priceCents(p);
      row.bar.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
    }
  }
  update(market.prices);
  const el = h("section", { class: "panel", "aria-labelledby": "outcomes-title" },
    h("h2", { id: "outcomes-title" }, "Outcomes"),
    h("ul", { class: "outcomes", "aria-live": "polite", "aria-atomic": "false" }, rows.map((r) => r.el)));
  return { el, update };
}

function resolutionBanner(market) {
  const other = resolution.resolutionBanner(market, () => rerender());
  if (other) return other;
  if (market.status === "RESOLVED") {
    const winner = market.winningOutcome ? market.winningOutcome.name : "—";
    return h("div", { class: "banner resolved", role: "status", "data-testid": "resolution" },
      h("strong", {}, `Resolved: ${winner}`),
      ` — each ${winner} share paid $1.00; other shares pay nothing.`,
      market.resolvedAt ? h("span", { class: "muted" }, ` Resolved ${dateTime(market.resolvedAt)}.`) : null);
  }
  if (market.status === "VOIDED") {
    return h("div", { class: "banner voided", role: "status", "data-testid": "resolution" },
      h("strong", {}, "Voided"),
      " — holders were refunded the average cost of the shares they still held.",
      market.resolvedAt ? h("span", { class: "muted" }, ` Voided ${dateTime(market.resolvedAt)}.`) : null);
  }
  if (market.status === "PAUSED") return h("div", { class: "banner paused", role: "status" }, "Trading is paused by the market's creator.");
  if (market.status === "CLOSED") return h("div", { class: "banner paused", role: "status" }, "Trading has closed; waiting for resolution.");
  return null;
}

function aboutPanel(market) {
  const rows = [
    ["Created by", market.creator.username],
    ["Created", dateTime(market.createdAt)],
    ["Closes", dateTime(market.closesAt)],
    ["Mechanism", market.marketType === "LMSR"
      ? `Automated market maker (LMSR, b = ${market.liquidityParameter})` : "Order book (limit orders, price-time priority)"],
    ["Taker fee", `${(market.feeBps / 100).toFixed(2)}%`],
    ["Resolution source", market.resolutionSource || "—"],
    ...resolution.aboutRows(market),
  ];
  return h("section", { class: "panel", "aria-labelledby": "about-title" },
    h("h2", { id: "about-title" }, "About"),
    market.description ? h("p", { class: "description" }, market.description) : null,
    h("dl", { class: "facts" }, rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))));
}

/* -------------------------------------------------------------- trades */

function tradesPanel(market, cleanups) {
  const body = h("tbody", {});
  const seen = new Set();
  const empty = h("p", { class: "muted small" }, "No trades yet. New trades appear here live.");
  const table = h("table", { class: "data", hidden: true, "data-testid": "recent-trades" },
    h("caption", { class: "muted small caption" }, "Side is the taker's: the trader whose order met a resting order (or the market maker) bought or sold."),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, "Outcome"), h("th", { scope: "col" }, "Taker side"),
      h("th", { scope: "col", class: "num" }, "Price"), h("th", { scope: "col", class: "num" }, "Shares"))),
    body);
  function row(t, fresh) {
    const today = new Date(t.executedAt).toDateString() === new Date().toDateString();
    const words = tradeWords(t, market.outcomes);
    return h("tr", { class: fresh ? "fresh" : "" },
      h("td", { class: "when", title: dateTime(t.executedAt) }, today ? time(t.executedAt) : dateTime(t.executedAt)),
      h("td", {}, words.what),
      h("td", { class: t.takerSide === "BUY" ? "up" : "down" }, words.side),
      h("td", { class: "num" }, `${t.priceCents}¢`), h("td", { class: "num" }, count(t.quantity)));
  }
  function add(t, fresh) {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    table.hidden = false;
    empty.hidden = true;
    if (fresh) body.prepend(row(t, true));
    else body.append(row(t, false));
    while (body.children.length > 30) body.lastChild.remove();
  }
  for (const t of market.recentTrades || []) add(t, false);
  if (market.status === "OPEN" || market.status === "PAUSED") {
    subscribe(cleanups, SUB_TRADES, { marketId: market.id }, { next: (data) => add(data.marketTrades, true) });
  }
  return {
    el: h("section", { class: "panel", "aria-labelledby": "trades-title" },
      h("h2", { id: "trades-title" }, "Recent trades"), empty, h("div", { class: "table-scroll" }, table)),
  };
}

/* ------------------------------------------------ my position and orders */

let mineGeneration = 0;
async function renderMine(el, market, news, onPositions) {
  if (!session.token) {
    el.replaceChildren();
    return;
  }
  const mine = ++mineGeneration;
  let positions;
  let orders;
  try {
    const [p, o] = await Promise.all([
      gql(MY_POSITIONS, { marketId: market.id }),
      gql(MY_OPEN_ORDERS, { marketId: market.id }),
    ]);
    positions = await withMarks(p.myPositions.filter((x) => x.shares > 0 || x.reservedShares > 0));
    orders = [...o.open.edges, ...o.partial.edges].map((e) => e.node);
  } catch (err) {
    const box = errorBox();
    showError(box, err);
    el.replaceChildren(box);
    return;
  }
  if (mine !== mineGeneration) return;
  onPositions(positions);
  mount(el,
    h("section", { class: "panel", "aria-labelledby": "mypos-title", "data-testid": "my-position" },
      h("h2", { id: "mypos-title" }, "Your position"),
      positions.length ? positionTable(positions) : h("p", { class: "muted small" }, "You hold no shares here.")),
    market.marketType === "ORDER_BOOK" || market.status === "OPEN" || orders.length
      ? h("section", { class: "panel", "aria-labelledby": "myorders-title" },
        h("h2", { id: "myorders-title" }, "Your open orders"), news,
        orders.length ? openOrdersTable(orders, () => renderMine(el, market, news, onPositions), false)
        : h("p", { class: "muted small" }, "No open orders.")) : null);
}

/** Positions valued at their mark (marks.js): best bid on a book, price on a market maker. */
export function positionTable(positions, withMarket = false) {
  const anyBook = positions.some((p) => p.markKind === "bid");
  return h("div", {}, h("div", { class: "table-scroll" }, h("table", { class: "data", "data-testid": "positions" },
    h("thead", {}, h("tr", {},
      withMarket ? h("th", { scope: "col" }, "Market") : null,
      h("th", { scope: "col" }, "Outcome"), h("th", { scope: "col", class: "num" }, "Shares"),
      h("th", { scope: "col", class: "num" }, "Avg cost"), h("th", { scope: "col", class: "num" }, "Mark"),
      h("th", { scope: "col", class: "num" }, "Value"), h("th", { scope: "col", class: "num" }, "P&L"),
      h("th", { scope: "col", class: "num", title: "What sales out of this position realized" }, "Realized"))),
    h("tbody", {}, positions.map((p) => h("tr", {},
      withMarket ? h("td", {}, h("a", { href: `#/market/${p.market.id}` }, p.market.title)) : null,
      h("td", {}, p.outcome.name),
      h("td", { class: "num" }, count(p.shares), p.reservedShares ? h("span", { class: "muted small" }, ` (${count(p.reservedShares)} on order)`) : null),
      h("td", { class: "num" }, `${p.averageCostCents.toFixed(1)}¢`),
      h("td", { class: "num", title: p.markKind === "bid" ? "Best bid: what the book pays now" : "The market maker's price" },
        p.markKind === "bid" ? (p.markCents ? `${p.markCents}¢ bid` : "no bid") : `${(p.markCents).toFixed(1)}¢`),
      h("td", { class: "num" }, money(p.valueCents)),
      h("td", { class: `num ${p.pnlCents >= 0.5 ? "up" : p.pnlCents <= -0.5 ? "down" : ""}` },
        moneySigned(p.pnlCents)),
      h("td", { class: `num ${p.realizedPnlCents > 0 ? "up" : p.realizedPnlCents < 0 ? "down" : ""}` },
        moneySigned(p.realizedPnlCents || 0))))))),
  anyBook ? h("p", { class: "note" }, "Order-book shares are valued at the best bid, what selling now would pay (nothing when no one bids), not at the last trade. Market-maker shares at its current price.") : null);
}

const TIF_SHORT = { GTC: "GTC", GTD: "GTD", IOC: "IOC", FOK: "FOK" };

export function openOrdersTable(orders, onChange, withMarket = false) {
  return h("div", { class: "table-scroll" }, h("table", { class: "data", "data-testid": "open-orders" },
    h("thead", {}, h("tr", {},
      withMarket ? h("th", { scope: "col" }, "Market") : null,
      h("th", { scope: "col" }, "Order"), h("th", { scope: "col", class: "num" }, "Price"),
      h("th", { scope: "col", class: "num" }, "Filled"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
    h("tbody", {}, orders.map((o) => {
      const error = errorBox();
      const cancel = h("button", { type: "button", class: "secondary small",
        "aria-label": `Cancel ${o.side.toLowerCase()} ${o.quantity} ${o.outcome.name} at ${o.priceCents} cents` }, "Cancel");
      cancel.addEventListener("click", () => busy(cancel, error, async () => {
        await gql(CANCEL_ORDER, { id: o.id });
        announce("Order cancelled.", "success");
        refreshMe().catch(() => {});
        onChange();
      }));
      return h("tr", { "data-order-id": o.id },
        withMarket ? h("td", {}, h("a", { href: `#/market/${o.market.id}` }, o.market.title)) : null,
        h("td", {}, h("span", { class: o.side === "BUY" ? "up" : "down" }, o.side === "BUY" ? "Buy " : "Sell "),
          `${o.outcome.name} `, h("span", { class: "muted small" }, `${TIF_SHORT[o.timeInForce]}${o.postOnly ? " · post-only" : ""}`)),
        h("td", { class: "num" }, o.priceCents === null ? "Market" : `${o.priceCents}¢`),
        h("td", { class: "num" }, `${count(o.filledQuantity)} / ${count(o.quantity)}`),
        h("td", { class: "actions" }, o.priceCents === null ? null : amendControl(o, onChange, error), cancel, error));
    }))));
}

/** "Amend": a resting limit order's price and/or total quantity (amendOrder). */
function amendControl(o, onChange, error) {
  const price = h("input", { type: "number", min: "1", max: "99", step: "1", value: o.priceCents,
    "aria-label": "New price in cents", class: "small-input" });
  const quantity = h("input", { type: "number", min: String(o.filledQuantity + 1), step: "1", value: o.quantity,
    "aria-label": "New total quantity", class: "small-input" });
  const save = h("button", { type: "submit", class: "primary small" }, "Save");
  const form = h("form", { class: "row amend-form", hidden: true }, price, "¢ × ", quantity, save);
  const open = h("button", { type: "button", class: "secondary small",
    "aria-label": `Amend ${o.side.toLowerCase()} ${o.outcome.name} at ${o.priceCents} cents` }, "Amend");
  open.addEventListener("click", () => { form.hidden = !form.hidden; });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const vars = { id: o.id };
    if (Number(price.value) !== o.priceCents) vars.priceCents = Number(price.value);
    if (Number(quantity.value) !== o.quantity) vars.quantity = Number(quantity.value);
    busy(save, error, async () => {
      await gql(AMEND_ORDER, vars);
      announce("Order amended.", "success");
      refreshMe().catch(() => {});
      onChange();
    });
  });
  return h("span", {}, open, form);
}

/** The creator's or admin's controls, shown once we know who is looking. */
function manageSlot(market, cleanups) {
  const el = h("div", {});
  let shownFor = null;
  const render = () => {
    const who = session.user ? `${session.user.id}:${session.user.isAdmin}` : null;
    if (who === shownFor) return;
    shownFor = who;
    mount(el, managePanel(market, () => rerender()));
  };
  render();
  cleanups.push(onSessionChange(render));
  return el;
}

/** Tag a panel with its place in the one-column (phone) order. */
function slot(name, el) {
  if (el) el.classList.add(`slot-${name}`);
  return el;
}

/** Re-run the current route (fresh data) without reloading the page. */
function rerender() {
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}
