// Display formatting. Money arrives as integer cents and is shown in dollars;
// what the user types in dollars is turned back into integer cents exactly.

const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const compact = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  notation: "compact",
  maximumFractionDigits: 1,
});
const integer = new Intl.NumberFormat("en-US");

/** 123456 -> "$1,234.56" */
export function money(cents) {
  return dollars.format(Number(cents) / 100);
}

/** Volume style: 123456789 -> "$1.2M"; small amounts in full. */
export function moneyShort(cents) {
  return Math.abs(cents) >= 1_000_000 ? compact.format(cents / 100) : money(cents);
}

/** Signed money for P&L: "+$1.20" / "−$0.40". */
export function moneySigned(cents) {
  const rounded = Math.round(cents);
  if (rounded === 0) return money(0);
  return (rounded > 0 ? "+" : "−") + money(Math.abs(rounded));
}

/**
 * Parse a dollar amount typed by a person ("12", "12.3", "$1,234.56") into
 * integer cents without floating-point error; null when it isn't one.
 */
export function parseDollars(text) {
  const cleaned = String(text).trim().replace(/[$,\s]/g, "");
  const match = /^(\d+)(?:\.(\d{0,2}))?$/.exec(cleaned);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
}

/** Parse a positive whole number ("1,000" allowed); null otherwise. */
export function parseWhole(text) {
  const cleaned = String(text).trim().replace(/[,\s]/g, "");
  return /^\d+$/.test(cleaned) ? Number(cleaned) : null;
}

/** 0.537 -> "54%"; keeps tiny and near-certain values honest. */
export function percent(p) {
  const value = p * 100;
  if (value > 0 && value < 1) return "<1%";
  if (value < 100 && value > 99) return ">99%";
  return `${Math.round(value)}%`;
}

/** Probability in cents: 0.537 -> "53.7¢". */
export function priceCents(p) {
  return `${(p * 100).toFixed(1)}¢`;
}

export function count(n) {
  return integer.format(n);
}

/** "Dec 3, 2027, 14:05" in the viewer's time zone. */
export function dateTime(iso) {
  return new Date(iso).toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function time(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** "in 3 days", "in 5 hours", "2 hours ago". */
export function relative(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const units = [
    ["year", 31536000],
    ["month", 2592000],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(seconds, "second");
}

/** A value for <input type="datetime-local"> from a Date, in local time. */
export function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

export const STATUS_LABEL = {
  OPEN: "Open",
  PAUSED: "Paused",
  CLOSED: "Closed",
  RESOLVED: "Resolved",
  VOIDED: "Voided",
  RESOLUTION_PROPOSED: "Resolution proposed",
  DISPUTED: "Disputed",
};

/** An update of one of my orders, in words: "Your buy order for No is filled." */
export function orderNews(order) {
  const status = order.status.replace("_", " ").toLowerCase();
  return `Your ${order.side.toLowerCase()} order for ${order.outcome.name} is ${status}.`;
}

export const TYPE_LABEL = { LMSR: "Market maker", ORDER_BOOK: "Order book" };

/**
 * What a trade's taker did, in words: { side: "Buy" | "Sell", what: outcome words }.
 * An LMSR NO trade of outcome i is shares of every other outcome: on a binary
 * market that is the other outcome ("No"), otherwise "No · <name>".
 */
export function tradeWords(trade, outcomes) {
  const side = trade.takerSide === "BUY" ? "Buy" : "Sell";
  const no = trade.lmsrSide === "BUY_NO" || trade.lmsrSide === "SELL_NO";
  if (!no) return { side, what: trade.outcome.name };
  if (outcomes && outcomes.length === 2) {
    const other = outcomes.find((o) => o.id !== trade.outcome.id);
    return { side, what: other ? other.name : `No · ${trade.outcome.name}` };
  }
  return { side, what: `No · ${trade.outcome.name}` };
}
