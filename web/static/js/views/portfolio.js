// My side: the account's total value and what it is made of, positions valued
// at what they would sell for now (marks.js), open orders (cancel), order and
// trade history, with my orders kept live by myOrderUpdates.

import { h, mount } from "../dom.js";
import { gql, refreshMe } from "../api.js";
import { session, onSessionChange } from "../session.js";
import { MY_POSITIONS, MY_OPEN_ORDERS, MY_ORDERS, MY_TRADES, SUB_MY_ORDERS, CANCEL_ALL_ORDERS } from "../queries.js";
import { subscribe } from "../runtime.js";
import { money, moneySigned, count, dateTime, tradeWords, orderNews } from "../format.js";
import { errorBox, showError, loading, section, announce, busy, confirmDialog } from "../ui.js";
import { positionTable, openOrdersTable } from "./market.js";
import { withMarks } from "../marks.js";
import { subsidyCents } from "./create.js";
import { loadSettlements } from "./resolution.js";

/** LMSR markets I created that are not settled: their funding (the subsidy) is locked. */
const MY_FUNDING = `
query Funding {
  open: markets(status: OPEN, first: 100) { edges { node { ...F } } }
  paused: markets(status: PAUSED, first: 100) { edges { node { ...F } } }
  closed: markets(status: CLOSED, first: 100) { edges { node { ...F } } }
}
fragment F on Market { id marketType liquidityParameter outcomes { id } creator { id } }`;

// Realized P&L at settlement: the settlements list (views/resolution.js, mySettlements);
// from sales: Position.realizedPnlCents over myPositions(includeClosed: true).


export function portfolioView(container) {
  const cleanups = [];
  if (!session.token) {
    mount(container, h("div", { class: "panel empty" },
      h("h1", { tabindex: "-1" }, "Portfolio"),
      h("p", {}, "Log in to see your balance, positions and orders."),
      h("p", { class: "row" }, h("a", { class: "button primary", href: "#/login?next=/portfolio" }, "Log in"),
        h("a", { class: "button secondary", href: "#/register?next=/portfolio" }, "Create an account"))));
    return () => {};
  }
  const summary = h("div", { class: "stats", "aria-live": "polite" });
  const positions = h("div", {}, loading());
  const openOrders = h("div", {}, loading());
  const history = h("div", {}, loading());
  const trades = h("div", {}, loading());
  const settlements = h("div", {}, loading());
  mount(container,
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Portfolio")),
    summary,
    section("Positions", positions),
    section("Settlements", settlements),
    section("Open orders", openOrders),
    section("Order history", history),
    section("Trades", trades));

  let positionData = [];
  let fundingCents = null;
  let fundedMarkets = 0;
  let sales = 0; // what sales realized (Position.realizedPnlCents, closed positions too)
  let realized = null; // { cents, count, partial } of settlements, once loaded
  function renderSummary() {
    const user = session.user;
    if (!user) return;
    const value = positionData.reduce((sum, p) => sum + p.valueCents, 0);
    const pnl = positionData.reduce((sum, p) => sum + p.pnlCents, 0);
    const total = user.balanceCents + user.reservedCents + value;
    const stat = (label, text, testid, cls = "", note = null) => h("div", { class: `stat ${testid === "total" ? "total" : ""}` },
      h("span", { class: "stat-label" }, label), h("span", { class: `stat-value ${cls}`, "data-testid": testid }, text),
      note ? h("span", { class: "note" }, note) : null);
    const tone = (cents) => (cents >= 0.5 ? "up" : cents <= -0.5 ? "down" : "");
    mount(summary,
      stat("Account value", money(total), "total", "", "Cash + reserved for orders + positions at mark"),
      stat("Cash", money(user.balanceCents), "cash"),
      stat("Reserved for orders", money(user.reservedCents), "reserved"),
      stat("Positions at mark", money(value), "positions-value", "", "Book shares at the best bid"),
      stat("Unrealized P&L", moneySigned(pnl), "pnl", tone(pnl)),
      realized ? stat("Realized P&L at settlement", moneySigned(realized.cents), "realized", tone(realized.cents),
        `${count(realized.count)} settled position${realized.count === 1 ? "" : "s"}${realized.partial ? " (latest 100)" : ""}`) : null,
      stat("Realized P&L from sales", moneySigned(sales), "realized-sales", tone(sales),
        "Proceeds minus average cost, positions sold out included"),
      stat("Bonus credit", money(user.bonusBalanceCents), "bonus", "", "Spendable on trades; not in the value"),
      fundingCents ? stat("Market-maker funding", money(fundingCents), "funding", "",
        `Locked in ${count(fundedMarkets)} LMSR market${fundedMarkets === 1 ? "" : "s"} you created; the rest comes back at resolution`) : null);
  }
  cleanups.push(onSessionChange(renderSummary));

  async function loadPositions() {
    try {
      const all = (await gql(MY_POSITIONS, { includeClosed: true })).myPositions;
      sales = all.reduce((sum, p) => sum + p.realizedPnlCents, 0);
      const held = all.filter((p) => p.shares > 0 || p.reservedShares > 0);
      positionData = await withMarks(held);
      positionData.sort((a, b) => a.market.title.localeCompare(b.market.title) || a.outcome.index - b.outcome.index);
      mount(positions, positionData.length ? positionTable(positionData, true)
        : h("p", { class: "muted" }, "No positions yet. ", h("a", { href: "#/" }, "Find a market to trade")));
      renderSummary();
    } catch (err) {
      fail(positions, err);
    }
  }
  async function loadFunding() {
    try {
      const data = await gql(MY_FUNDING);
      const me = session.user && session.user.id;
      const mine = [...data.open.edges, ...data.paused.edges, ...data.closed.edges]
        .map((e) => e.node).filter((m) => m.creator.id === me && m.marketType === "LMSR");
      fundingCents = mine.reduce((sum, m) => sum + subsidyCents(m.liquidityParameter, m.outcomes.length), 0);
      fundedMarkets = mine.length;
      renderSummary();
    } catch { /* the summary shows what it has */ }
  }
  async function loadRealized() {
    try {
      realized = await loadSettlements(settlements);
      renderSummary();
    } catch (err) {
      realized = null; // no figure rather than a wrong one
      fail(settlements, err);
    }
  }
  async function loadOpenOrders() {
    try {
      const data = await gql(MY_OPEN_ORDERS, {});
      const orders = [...data.open.edges, ...data.partial.edges].map((e) => e.node);
      orders.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      mount(openOrders, orders.length ? h("div", {}, cancelAllButton(orders.length, refreshAll),
        openOrdersTable(orders, refreshAll, true))
        : h("p", { class: "muted" }, "No open orders."));
    } catch (err) {
      fail(openOrders, err);
    }
  }
  const historyPager = pager(history, MY_ORDERS, "myOrders", orderRows, ["Placed", "Market", "Order", "Price", "Filled", "Status"]);
  const tradesPager = pager(trades, MY_TRADES, "myTrades", tradeRows, ["Time", "Market", "Taker side", "Price", "Shares"]);

  function refreshAll() {
    refreshMe().catch(() => {});
    loadPositions();
    loadFunding();
    loadRealized();
    loadOpenOrders();
    historyPager.reload();
    tradesPager.reload();
  }
  subscribe(cleanups, SUB_MY_ORDERS, {}, {
    next(data) {
      announce(orderNews(data.myOrderUpdates));
      refreshAll();
    },
  });
  renderSummary();
  refreshAll();
  return () => cleanups.forEach((fn) => fn());
}

/** "Cancel all": every open order of mine, in every market (cancelAllOrders). */
function cancelAllButton(count, onDone) {
  const error = errorBox();
  const button = h("button", { type: "button", class: "secondary small", "data-testid": "cancel-all" }, "Cancel all");
  button.addEventListener("click", async () => {
    if (!(await confirmDialog("Cancel all open orders?", `All ${count} of your open orders, in every market, are cancelled.`, "Cancel all"))) return;
    busy(button, error, async () => {
      const cancelled = (await gql(CANCEL_ALL_ORDERS, {})).cancelAllOrders;
      announce(`${cancelled.length} orders cancelled.`, "success");
      onDone();
    });
  });
  return h("p", { class: "row end" }, button, error);
}

function fail(el, err) {
  const box = errorBox();
  showError(box, err);
  mount(el, box);
}

/** A paginated table over a connection query. */
function pager(el, query, key, rows, headings) {
  let items = [];
  let cursor = null;
  async function load(append) {
    try {
      const page = (await gql(query, { first: 25, after: append ? cursor : null }))[key];
      items = append ? items.concat(page.edges.map((e) => e.node)) : page.edges.map((e) => e.node);
      cursor = page.pageInfo.endCursor;
      const more = page.pageInfo.hasNextPage
        ? h("button", { type: "button", class: "secondary small", onclick: () => load(true) }, "Load more") : null;
      mount(el, items.length ? h("div", {},
        h("div", { class: "table-scroll" }, h("table", { class: "data" },
          h("thead", {}, h("tr", {}, headings.map((t, i) => h("th", { scope: "col", class: i >= 3 && t !== "Status" ? "num" : "" }, t)))),
          h("tbody", {}, items.map(rows)))),
        h("p", { class: "muted small" }, `${count(items.length)} of ${count(page.totalCount)}`), more)
        : h("p", { class: "muted" }, "Nothing yet."));
    } catch (err) {
      fail(el, err);
    }
  }
  return { reload: () => load(false) };
}

function orderRows(o) {
  return h("tr", {},
    h("td", { class: "when" }, dateTime(o.createdAt)),
    h("td", {}, h("a", { href: `#/market/${o.market.id}` }, o.market.title)),
    h("td", {}, h("span", { class: o.side === "BUY" ? "up" : "down" }, o.side === "BUY" ? "Buy " : "Sell "), o.outcome.name,
      h("span", { class: "muted small" }, ` ${o.orderType.toLowerCase()} ${o.timeInForce}`)),
    h("td", { class: "num" }, o.priceCents === null ? "—" : `${o.priceCents}¢`),
    h("td", { class: "num" }, `${count(o.filledQuantity)} / ${count(o.quantity)}`),
    h("td", {}, h("span", { class: `badge order-${o.status.toLowerCase()}` }, o.status.replace("_", " ").toLowerCase())));
}

function tradeRows(t) {
  return h("tr", {},
    h("td", { class: "when" }, dateTime(t.executedAt)),
    h("td", {}, h("a", { href: `#/market/${t.market.id}` }, t.market.title)),
    h("td", {}, h("span", { class: t.takerSide === "BUY" ? "up" : "down" }, `${tradeWords(t, t.market.outcomes).side} `),
      tradeWords(t, t.market.outcomes).what, t.isAmmTrade ? h("span", { class: "muted small" }, " (market maker)") : null),
    h("td", { class: "num" }, `${t.priceCents}¢`),
    h("td", { class: "num" }, count(t.quantity)));
}
