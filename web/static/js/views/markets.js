// The market list: status filter, order and title search (all on the server:
// markets(status, sort, search)), "Load more" pagination, live probabilities.
// The default view is what a trader looks for first: open markets, closing soonest.

import { h, mount, debounce } from "../dom.js";
import { gql } from "../api.js";
import { MARKETS, SUB_PRICES } from "../queries.js";
import { subscribe } from "../runtime.js";
import { percent, moneyShort, relative, dateTime } from "../format.js";
import { errorBox, showError, statusBadge, typeBadge, loading } from "../ui.js";
import { PALETTE } from "../chart.js";

const PAGE_SIZE = 24;
const FILTERS = [
  ["OPEN", "Open"], ["ALL", "All"], ["PAUSED", "Paused"],
  ["CLOSED", "Closed"], ["RESOLVED", "Resolved"], ["VOIDED", "Voided"],
];
const SORTS = [["CLOSING_SOON", "Closing soon"], ["NEWEST", "Newest"]];
const STATUS_WORDS = { OPEN: "open", PAUSED: "paused", CLOSED: "closed", RESOLVED: "resolved", VOIDED: "voided", ALL: "" };

/** Open markets read best closing soonest; every other view newest first. */
function defaultSort(status) {
  return status === "OPEN" ? "CLOSING_SOON" : "NEWEST";
}

export function marketsView(container, query) {
  const cleanups = [];
  const status = FILTERS.some(([v]) => v === query.status) ? query.status : "OPEN";
  const sort = SORTS.some(([v]) => v === query.sort) ? query.sort : defaultSort(status);
  const state = { status, sort, search: query.q || "", markets: [], cursor: null, more: false, total: 0 };
  const searchInput = h("input", {
    type: "search", id: "market-search", placeholder: "Search markets", value: state.search,
    autocomplete: "off",
  });
  const filterGroup = h("div", { class: "segmented", role: "group", "aria-label": "Filter by status" });
  const sortGroup = h("div", { class: "segmented", role: "group", "aria-label": "Order" });
  const summary = h("p", { class: "muted summary", role: "status" });
  const grid = h("ul", { class: "market-grid", "aria-label": "Markets" });
  const moreButton = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  const error = errorBox();

  mount(container,
    h("div", { class: "page-head" },
      h("div", {},
        h("h1", { tabindex: "-1" }, "Markets"),
        h("p", { class: "lede" }, "Trade on what happens next. A price is the crowd's probability; a winning share pays $1.")),
      h("a", { class: "button primary", href: "#/create" }, "Create market")),
    h("div", { class: "toolbar" },
      h("div", { class: "search" },
        h("label", { for: "market-search", class: "sr-only" }, "Search markets by title"),
        searchInput),
      filterGroup, sortGroup),
    error, summary, grid, h("div", { class: "center" }, moreButton));

  function renderFilters() {
    mount(filterGroup, FILTERS.map(([value, label]) => h("button", {
      type: "button", "aria-pressed": String(state.status === value),
      onclick: () => {
        state.status = value;
        state.sort = defaultSort(value);
        renderFilters();
        syncUrl();
        reload();
      },
    }, label)));
    mount(sortGroup, SORTS.map(([value, label]) => h("button", {
      type: "button", "aria-pressed": String(state.sort === value),
      onclick: () => {
        state.sort = value;
        renderFilters();
        syncUrl();
        reload();
      },
    }, label)));
  }

  function syncUrl() {
    const params = new URLSearchParams();
    if (state.status !== "OPEN") params.set("status", state.status);
    if (state.sort !== defaultSort(state.status)) params.set("sort", state.sort);
    if (state.search.trim()) params.set("q", state.search.trim());
    const qs = params.toString();
    history.replaceState(null, "", `#/${qs ? `?${qs}` : ""}`);
  }

  let liveStops = [];
  function render() {
    for (const stop of liveStops) stop();
    liveStops = [];
    const shown = state.markets;
    mount(grid, shown.map((market) => {
      const card = marketCard(market);
      if (market.status === "OPEN" || market.status === "PAUSED") {
        liveStops.push(subscribe([], SUB_PRICES, { marketId: market.id }, {
          next: (data) => card.update(data.marketPrices),
        }));
      }
      return card.el;
    }));
    const searching = state.search.trim() !== "";
    const kind = STATUS_WORDS[state.status];
    const noun = `${kind ? `${kind} ` : ""}market${state.total === 1 ? "" : "s"}`;
    summary.textContent = searching
      ? `${state.total} ${noun} ${state.total === 1 ? "matches" : "match"} “${state.search.trim()}”` +
        (state.total > shown.length ? ` (showing ${shown.length})` : "")
      : `Showing ${shown.length} of ${state.total} ${noun}`;
    if (!shown.length) {
      grid.appendChild(h("li", { class: "empty panel" },
        searching ? `No ${kind ? `${kind} ` : ""}market matches your search. ` : `No ${noun} here yet. `,
        searching && state.status !== "ALL"
          ? h("button", { type: "button", class: "link", onclick: () => { state.status = "ALL"; state.sort = "NEWEST"; renderFilters(); syncUrl(); reload(); } }, "Search all markets")
          : h("a", { href: "#/create" }, "Create one")));
    }
    moreButton.hidden = !state.more;
  }
  cleanups.push(() => liveStops.forEach((stop) => stop()));

  let generation = 0;
  async function load(append) {
    const mine = ++generation;
    error.hidden = true;
    if (!append) mount(grid, h("li", {}, loading("Loading markets…")));
    try {
      const data = await gql(MARKETS, {
        status: state.status === "ALL" ? null : state.status,
        sort: state.sort,
        search: state.search.trim() || null,
        first: PAGE_SIZE,
        after: append ? state.cursor : null,
      });
      if (mine !== generation) return;
      const page = data.markets;
      const nodes = page.edges.map((e) => e.node);
      state.markets = append ? state.markets.concat(nodes) : nodes;
      state.cursor = page.pageInfo.endCursor;
      state.more = page.pageInfo.hasNextPage;
      state.total = page.totalCount;
      render();
    } catch (err) {
      if (mine !== generation) return;
      showError(error, err);
      if (!append) grid.replaceChildren();
    }
  }
  const reload = () => load(false);

  moreButton.addEventListener("click", async () => {
    moreButton.disabled = true;
    await load(true);
    moreButton.disabled = false;
  });
  const onSearch = debounce(() => {
    state.search = searchInput.value;
    syncUrl();
    reload();
  }, 250);
  searchInput.addEventListener("input", onSearch);
  cleanups.push(() => onSearch.cancel());

  renderFilters();
  reload();
  return () => cleanups.forEach((fn) => fn());
}

/** One market card; `update(priceUpdate)` refreshes it live. */
function marketCard(market) {
  const binary = market.outcomes.length === 2;
  const settled = market.status === "RESOLVED" || market.status === "VOIDED";
  const volume = h("span", { class: "volume" }, `${moneyShort(market.volumeCents)} vol`);
  const chance = h("span", { class: "chance-value" });
  const rows = market.outcomes.slice(0, 3).map((outcome) => {
    const value = h("span", { class: "outcome-pct" });
    const bar = h("span", { class: "bar-fill", style: `background:${PALETTE[outcome.index % PALETTE.length]}` });
    return { outcome, value, bar, el: h("li", { class: "outcome-row" },
      h("span", { class: "outcome-name" }, outcome.name),
      h("span", { class: "bar", "aria-hidden": "true" }, bar), value) };
  });
  const splitFill = h("span", { class: "bar-fill", style: `background:${PALETTE[0]}` });
  function setPrices(prices) {
    chance.textContent = percent(prices[0]);
    splitFill.style.width = `${Math.max(0, Math.min(1, prices[0])) * 100}%`;
    for (const row of rows) {
      const p = prices[row.outcome.index] ?? 0;
      row.value.textContent = percent(p);
      row.bar.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
    }
  }
  setPrices(market.prices);

  let headline;
  if (market.status === "RESOLVED" && market.winningOutcome) {
    headline = h("div", { class: "chance resolved" },
      h("span", { class: "chance-label" }, "Resolved"), h("span", { class: "chance-value" }, market.winningOutcome.name));
  } else if (market.status === "VOIDED") {
    headline = h("div", { class: "chance" }, h("span", { class: "chance-label" }, "Voided"));
  } else if (binary) {
    headline = h("div", { class: "chance" }, chance, h("span", { class: "chance-label" }, `${market.outcomes[0].name} chance`));
  }
  const closes = settled
    ? null
    : h("span", { title: dateTime(market.closesAt) },
      new Date(market.closesAt) > new Date() ? `Closes ${relative(market.closesAt)}` : "Closed");
  const el = h("li", { class: "market-card", dataset: { marketId: market.id } },
    h("div", { class: "card-top" },
      h("a", { class: "card-title", href: `#/market/${market.id}` }, market.title),
      headline),
    binary && !settled ? h("span", { class: "bar binary-bar", "aria-hidden": "true" }, splitFill) : h("ul", { class: "outcome-rows" }, rows.map((r) => r.el),
      market.outcomes.length > 3 ? h("li", { class: "muted small" }, `+${market.outcomes.length - 3} more`) : null),
    h("div", { class: "card-meta" }, statusBadge(market.status), typeBadge(market.marketType), volume, closes));
  return {
    el,
    update(priceUpdate) {
      setPrices(priceUpdate.prices);
      volume.textContent = `${moneyShort(priceUpdate.volumeCents)} vol`;
    },
  };
}
