// GraphQL over HTTP: POST /graphql with the bearer token. Errors become
// ApiError with the API's message and extensions.code; UNAUTHENTICATED on a
// request that carried a token means it expired or was revoked: sign out.

import { session, signOut, setUser } from "./session.js";

export const ENDPOINT = "/graphql";

export class ApiError extends Error {
  constructor(message, code = "ERROR", path = null) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.path = path;
  }
}

const CODE_TITLES = {
  UNAUTHENTICATED: "Please log in",
  FORBIDDEN: "Not allowed",
  NOT_FOUND: "Not found",
  BAD_USER_INPUT: "Check your input",
  INVALID_AMOUNT: "Invalid amount",
  INSUFFICIENT_BALANCE: "Not enough cash",
  INSUFFICIENT_SHARES: "Not enough shares",
  MARKET_PAUSED: "Market paused",
  MARKET_CLOSED: "Market closed",
  MARKET_RESOLVED: "Market settled",
  WRONG_MARKET_TYPE: "Wrong market type",
  PRICE_LIMIT_EXCEEDED: "Price limit exceeded",
  ORDER_NOT_CANCELLABLE: "Order can't be cancelled",
  USERNAME_TAKEN: "Name taken",
  RATE_LIMITED: "Too many attempts",
  QUERY_TOO_COMPLEX: "Request too large",
  INTERNAL_SERVER_ERROR: "Server error",
  NETWORK: "Connection problem",
};

/** A short title for an error code, e.g. "Not enough cash". */
export function errorTitle(code) {
  return CODE_TITLES[code] || "Something went wrong";
}

/** Run a query or mutation; resolves to `data`, rejects with ApiError. */
export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("Could not reach the server. Check your connection and try again.", "NETWORK");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without a readable body.`, "NETWORK");
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    const code = (first.extensions && first.extensions.code) || "ERROR";
    if (code === "UNAUTHENTICATED" && token && token === session.token) {
      signOut("Your session has ended. Please log in again.");
    }
    throw new ApiError(first.message, code, first.path || null);
  }
  return body.data;
}

export const USER_FIELDS = `id username email balanceCents bonusBalanceCents reservedCents isAdmin isActive createdAt`;

/** Re-read the signed-in user (balance etc.) and publish it. */
export async function refreshMe() {
  if (!session.token) return null;
  const data = await gql(`query Me { me { ${USER_FIELDS} } }`);
  if (!data.me) {
    signOut("Your session has ended. Please log in again.");
    return null;
  }
  setUser(data.me);
  return data.me;
}
