// Valuing positions at what they could be sold for now. A share on an order
// book is marked at the outcome's best bid (nothing when no one bids: a last
// trade the book cannot pay is not value); a share in an LMSR market at the
// market maker's current price, since it always quotes one. P&L is value less
// what the shares cost (average cost x shares).

import { gql } from "./api.js";

const BEST_BIDS = (count) => `query Bids(${Array.from({ length: count }, (_, i) => `$m${i}: ID!, $o${i}: ID!`).join(", ")}) {
  ${Array.from({ length: count }, (_, i) => `b${i}: orderBook(marketId: $m${i}, outcomeId: $o${i}, depth: 1) { bestBidCents }`).join("\n  ")}
}`;

/** `positions` (myPositions rows) with markCents (per share), markKind ("bid" or "price"),
 *  valueCents and pnlCents; order-book best bids are read in one request. */
export async function withMarks(positions) {
  const book = positions.filter((p) => p.market.marketType === "ORDER_BOOK");
  const bids = {};
  if (book.length) {
    const variables = {};
    book.forEach((p, i) => { variables[`m${i}`] = p.market.id; variables[`o${i}`] = p.outcome.id; });
    const data = await gql(BEST_BIDS(book.length), variables);
    book.forEach((p, i) => { bids[p.outcome.id] = data[`b${i}`].bestBidCents; });
  }
  return positions.map((p) => {
    const onBook = p.market.marketType === "ORDER_BOOK";
    const markCents = onBook ? bids[p.outcome.id] ?? 0 : p.currentPrice * 100;
    const valueCents = Math.floor(p.shares * markCents);
    return {
      ...p,
      markCents,
      markKind: onBook ? "bid" : "price",
      valueCents,
      pnlCents: valueCents - p.shares * p.averageCostCents,
    };
  });
}
