// A small graphql-transport-ws client (the protocol of the `graphql-ws`
// library): one WebSocket for every subscription, connection_init carrying
// {"authorization": "Bearer <token>"}, ping/pong, reconnect with exponential
// backoff and jitter, and every active subscription re-sent after a
// reconnect. The server sends the current state first on each subscribe,
// so a reconnect also heals whatever was missed while the socket was down.

const PROTOCOL = "graphql-transport-ws";
const MAX_DELAY_MS = 30_000;
const AUTH_REJECTED = new Set([4401, 4403]);

export class LiveClient {
  /**
   * @param {string} url ws:// or wss:// URL of /graphql
   * @param {() => string|null} getToken the current access token, if any
   * @param {() => void} onAuthRejected called when the server refuses the token
   */
  constructor(url, getToken, onAuthRejected = () => {}) {
    this.url = url;
    this.getToken = getToken;
    this.onAuthRejected = onAuthRejected;
    this.subs = new Map();
    this.nextId = 1;
    this.ws = null;
    this.acked = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.status = "idle";
    this.statusListeners = new Set();
    window.addEventListener("online", () => this.retryNow());
  }

  /**
   * Subscribe; `handlers.next(data)` gets each result's data,
   * `handlers.error(err)` gets {message, code}. Returns an unsubscribe function.
   */
  subscribe(query, variables, handlers) {
    const id = String(this.nextId++);
    this.subs.set(id, { query, variables, ...handlers });
    if (this.acked) this.sendSubscribe(id);
    else if (!this.ws && !this.retryTimer) this.open();
    return () => {
      if (this.subs.delete(id) && this.acked) this.send({ id, type: "complete" });
    };
  }

  /** The token changed (log in / log out): start a fresh connection. */
  restart() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.attempt = 0;
    const old = this.ws;
    this.ws = null;
    this.acked = false;
    if (old) old.close(1000, "re-authenticating");
    if (this.subs.size) this.open();
    else this.setStatus("idle");
  }

  onStatus(fn) {
    this.statusListeners.add(fn);
    fn(this.status);
    return () => this.statusListeners.delete(fn);
  }

  setStatus(status) {
    this.status = status;
    for (const fn of this.statusListeners) fn(status);
  }

  open() {
    const ws = new WebSocket(this.url, PROTOCOL);
    this.ws = ws;
    this.acked = false;
    this.setStatus(this.attempt ? "reconnecting" : "connecting");
    ws.onopen = () => {
      const token = this.getToken();
      const payload = token ? { authorization: `Bearer ${token}` } : {};
      ws.send(JSON.stringify({ type: "connection_init", payload }));
    };
    ws.onmessage = (event) => {
      if (ws === this.ws) this.receive(JSON.parse(event.data));
    };
    ws.onclose = (event) => this.closed(ws, event);
  }

  receive(message) {
    const sub = message.id ? this.subs.get(message.id) : null;
    switch (message.type) {
      case "connection_ack":
        this.acked = true;
        this.attempt = 0;
        this.setStatus("live");
        for (const id of this.subs.keys()) this.sendSubscribe(id);
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "next":
        if (!sub) break;
        if (message.payload.errors && message.payload.errors.length) {
          sub.error && sub.error(toError(message.payload.errors[0]));
        } else {
          sub.next(message.payload.data);
        }
        break;
      case "error":
        this.subs.delete(message.id);
        if (sub && sub.error) sub.error(toError((message.payload || [])[0] || {}));
        break;
      case "complete":
        this.subs.delete(message.id);
        break;
      default:
        break;
    }
  }

  closed(ws, event) {
    if (ws !== this.ws) return; // replaced on purpose by restart()
    this.ws = null;
    this.acked = false;
    if (AUTH_REJECTED.has(event.code) && this.getToken()) {
      this.onAuthRejected(); // signs out, which calls restart()
      if (this.ws) return;
    }
    if (!this.subs.size) {
      this.setStatus("idle");
      return;
    }
    const base = Math.min(MAX_DELAY_MS, 500 * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    this.setStatus("reconnecting");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }

  retryNow() {
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.open();
  }

  sendSubscribe(id) {
    const { query, variables } = this.subs.get(id);
    this.send({ id, type: "subscribe", payload: { query, variables } });
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }
}

function toError(graphqlError) {
  const code = (graphqlError.extensions && graphqlError.extensions.code) || "ERROR";
  return { message: graphqlError.message || "Subscription failed", code };
}

/** The /graphql WebSocket URL for this page (ws:// or wss://). */
export function liveUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/graphql`;
}
