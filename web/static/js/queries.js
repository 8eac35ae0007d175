// The GraphQL documents the app sends. Field selections follow
// /work/shared/spec/contract.graphql (the public contract).

import { USER_FIELDS } from "./api.js";

const OUTCOME = `id name index price sharesOutstanding`;
const TRADE = `id priceCents quantity isAmmTrade takerSide lmsrSide executedAt outcome { id name index }`;
const RECENT_TRADES = 20;

export const MARKET_CARD = `
  id title marketType status prices volumeCents closesAt createdAt feeBps
  outcomes { ${OUTCOME} }
  winningOutcome { id name }
`;

const MARKET_FULL = `
  ${MARKET_CARD}
  description liquidityParameter resolutionSource resolvedAt
  creator { id username }
  payouts { cents outcome { id name } } scalar { lower upper unit } resolutionValue
  disputeWindowSeconds disputeWindowEndsAt disputeReason
`;

export const MARKETS = `
query Markets($status: MarketStatus, $search: String, $sort: MarketSort, $first: Int, $after: String) {
  markets(status: $status, search: $search, sort: $sort, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ${MARKET_CARD} } }
  }
}`;

export const MARKET = `
query Market($id: ID!, $resolution: String, $points: Int) {
  market(id: $id) {
    ${MARKET_FULL}
    priceHistory(resolution: $resolution, first: $points) { at prices }
    recentTrades(first: ${RECENT_TRADES}) { ${TRADE} }
  }
}`;

export const PRICE_HISTORY = `
query History($id: ID!, $resolution: String, $points: Int) {
  market(id: $id) { id priceHistory(resolution: $resolution, first: $points) { at prices } }
}`;

const BOOK = `
  marketId outcomeId sequence bestBidCents bestAskCents spreadCents lastTradeCents
  bids { priceCents quantity orders syntheticQuantity }
  asks { priceCents quantity orders syntheticQuantity }
`;

export const ORDER_BOOK = `
query Book($marketId: ID!, $outcomeId: ID!, $depth: Int) {
  orderBook(marketId: $marketId, outcomeId: $outcomeId, depth: $depth) { ${BOOK} }
}`;



const ORDER = `
  id side orderType timeInForce priceCents quantity filledQuantity remainingQuantity
  status postOnly expiresAt createdAt
  market { id title status }
  outcome { id name }
`;

const POSITION = `
  shares reservedShares averageCostCents currentPrice unrealizedPnlCents realizedPnlCents
  market { id title status marketType winningOutcome { id } }
  outcome { id name index }
`;

export const ME = `query Me { me { ${USER_FIELDS} } }`;

export const MY_POSITIONS = `
query Positions($marketId: ID, $includeClosed: Boolean) {
  myPositions(marketId: $marketId, includeClosed: $includeClosed) { ${POSITION} }
}`;

export const MY_OPEN_ORDERS = `
query OpenOrders($marketId: ID) {
  open: myOrders(status: OPEN, marketId: $marketId, first: 100) { edges { node { ${ORDER} } } }
  partial: myOrders(status: PARTIALLY_FILLED, marketId: $marketId, first: 100) {
    edges { node { ${ORDER} } }
  }
}`;

export const MY_ORDERS = `
query Orders($marketId: ID, $first: Int, $after: String) {
  myOrders(marketId: $marketId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { ${ORDER} } }
  }
}`;

export const MY_TRADES = `
query Trades($marketId: ID, $first: Int, $after: String) {
  myTrades(marketId: $marketId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { ${TRADE} market { id title outcomes { id name } } } }
  }
}`;

/** An LMSR taker's two sources: the market maker and the resting orders (cents before fee). */
const ROUTE = `marketMakerShares marketMakerCents bookShares bookCents`;

export const QUOTE = `
query Quote($input: LmsrTradeInput!) {
  quoteLmsr(input: $input) {
    costOrPayoutCents sharesDelta feeCents averagePrice pricesAfter ${ROUTE}
  }
}`;

export const REGISTER = `
mutation Register($input: RegisterInput!) { register(input: $input) { id username } }`;

export const LOGIN = `
mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) {
    accessToken tokenType expiresAt user { ${USER_FIELDS} }
  }
}`;

export const CREATE_MARKET = `
mutation Create($input: CreateMarketInput!) { createMarket(input: $input) { id } }`;

export const LMSR_TRADE = `
mutation Trade($input: LmsrTradeInput!) {
  lmsrTrade(input: $input) {
    costOrPayoutCents sharesDelta feeCents newPositionYes newPositionNo prices ${ROUTE}
  }
}`;

/** A placed order with its fills (what the ticket says happened); lists leave them out. */
export const PLACE_ORDER = `
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { ${ORDER} trades { priceCents quantity isAmmTrade } }
}`;

export const CANCEL_ORDER = `
mutation Cancel($id: ID!) { cancelOrder(id: $id) { ${ORDER} } }`;

export const MINT = `
mutation Mint($marketId: ID!, $quantity: Int!) {
  mintCompleteSet(marketId: $marketId, quantity: $quantity) { quantity cents }
}`;

export const REDEEM = `
mutation Redeem($marketId: ID!, $quantity: Int!) {
  redeemCompleteSet(marketId: $marketId, quantity: $quantity) { quantity cents }
}`;

const LIFECYCLE = (name) => `
mutation Lifecycle($id: ID!) { ${name}(id: $id) { id status } }`;

export const PAUSE = LIFECYCLE("pauseMarket");
export const RESUME = LIFECYCLE("resumeMarket");
export const CLOSE = LIFECYCLE("closeMarket");

export const RESOLVE = `
mutation Resolve($id: ID!, $winningOutcomeId: ID!) {
  resolveMarket(id: $id, winningOutcomeId: $winningOutcomeId) {
    totalPayoutCents winnersCount refundedCents market { id status }
  }
}`;

export const VOID = `
mutation Void($id: ID!) { voidMarket(id: $id) { totalPayoutCents winnersCount refundedCents } }`;

export const SUB_PRICES = `
subscription Prices($marketId: ID!) {
  marketPrices(marketId: $marketId) {
    marketId prices lastTradePriceCents volumeCents sequence at
  }
}`;

export const SUB_BOOK = `
subscription Book($marketId: ID!, $outcomeId: ID!, $depth: Int) {
  orderBookUpdates(marketId: $marketId, outcomeId: $outcomeId, depth: $depth) { ${BOOK} }
}`;

export const SUB_TRADES = `
subscription Trades($marketId: ID!) { marketTrades(marketId: $marketId) { ${TRADE} } }`;

export const SUB_MY_ORDERS = `
subscription MyOrders { myOrderUpdates { ${ORDER} } }`;

const API_KEY = `id name prefix scopes createdAt lastUsedAt revokedAt`;

export const MY_API_KEYS = `query ApiKeys { myApiKeys { ${API_KEY} } }`;

export const CREATE_API_KEY = `
mutation CreateApiKey($name: String!, $scopes: [ApiKeyScope!]!) {
  createApiKey(name: $name, scopes: $scopes) { secret apiKey { ${API_KEY} } }
}`;

export const REVOKE_API_KEY = `
mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) { ${API_KEY} } }`;

export const CANCEL_ALL_ORDERS = `
mutation CancelAll($marketId: ID) { cancelAllOrders(marketId: $marketId) { id } }`;

export const AMEND_ORDER = `
mutation Amend($id: ID!, $priceCents: Int, $quantity: Int) {
  amendOrder(id: $id, priceCents: $priceCents, quantity: $quantity) { ${ORDER} }
}`;

/* Resolution a real event needs: scalar values, proposals, disputes, settlements. */
const RESOLUTION_RESULT = `totalPayoutCents winnersCount refundedCents market { id status }`;

export const RESOLVE_SCALAR = `
mutation ResolveScalar($id: ID!, $value: Float!) {
  resolveScalarMarket(id: $id, value: $value) { ${RESOLUTION_RESULT} }
}`;

export const UNRESOLVE = LIFECYCLE("unresolveMarket");

export const DISPUTE = `
mutation Dispute($id: ID!, $reason: String!) { disputeResolution(id: $id, reason: $reason) { id status } }`;

export const MY_SETTLEMENTS = `
query Settlements($first: Int, $after: String) {
  mySettlements(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      shares payoutCents costBasisCents realizedPnlCents settledAt
      market { id title status } outcome { id name }
    } }
  }
}`;
