// What the server would refuse, checked in the browser before a request, so the
// message is in the person's words and units, next to the field it is about.
// The numbers mirror domain/money.py and domain/markets.py; the server checks
// everything again (and its messages are translated by plainMessage in ui.js).

import { ApiError } from "./api.js";
import { money, count } from "./format.js";

export const LIMITS = {
  maxAmount: 1_000_000_000 - 1, // cents or shares in one request (domain/money.py MAX_AMOUNT - 1)
  minLiquidity: 0.01, // b in shares (domain/markets.py)
  maxLiquidity: 1_000_000,
  maxFeePercent: 10, // 1000 basis points
  titleMin: 10,
  titleMax: 200,
  outcomeMax: 100,
};

/** An ApiError about one field, raised before anything is sent. */
export function refuse(message, code = "BAD_USER_INPUT") {
  return new ApiError(message, code);
}

/** Dollars a person can spend: an amount in cents within the API's range and their cash. */
export function checkSpend(cents, available, what = "Spend") {
  if (cents === null) throw refuse(`${what}: enter a dollar amount, like 10 or 2.50.`, "INVALID_AMOUNT");
  if (cents < 1) throw refuse(`${what}: enter at least $0.01.`, "INVALID_AMOUNT");
  if (cents > LIMITS.maxAmount) throw refuse(`${what}: at most ${money(LIMITS.maxAmount)}.`, "INVALID_AMOUNT");
  if (available !== null && cents > available) {
    throw refuse(`You have ${money(available)} available; ${what.toLowerCase()} at most that.`, "INSUFFICIENT_BALANCE");
  }
  return cents;
}

/** A whole number of shares (or sets) from 1 to the API's ceiling. */
export function checkShares(n, what = "Shares") {
  if (n === null) throw refuse(`${what}: enter a whole number, like 10.`, "INVALID_AMOUNT");
  if (n < 1) throw refuse(`${what}: enter at least 1.`, "INVALID_AMOUNT");
  if (n > LIMITS.maxAmount) throw refuse(`${what}: at most ${count(LIMITS.maxAmount)}.`, "INVALID_AMOUNT");
  return n;
}

/** A sale of `n` shares of `name` when `held` are held (null: unknown, signed out). */
export function checkHolding(n, held, name) {
  if (held === null) return;
  if (held === 0) throw refuse(`You hold no ${name} shares to sell.`, "INSUFFICIENT_SHARES");
  if (n !== null && n > held) {
    throw refuse(`You hold ${count(held)} ${name} shares; you can sell at most ${count(held)}.`, "INSUFFICIENT_SHARES");
  }
}
