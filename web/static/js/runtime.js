// App-wide singletons: the live (WebSocket) client, restarted when the
// token changes so `myOrderUpdates` runs as the right user.

import { LiveClient, liveUrl } from "./live.js";
import { session, signOut, onSessionChange } from "./session.js";

export const live = new LiveClient(
  liveUrl(),
  () => session.token,
  () => signOut("Your session has ended. Please log in again.")
);

let lastToken = session.token;
onSessionChange(() => {
  if (session.token !== lastToken) {
    lastToken = session.token;
    live.restart();
  }
});

/** Subscribe and collect the unsubscribe function into `cleanups`. */
export function subscribe(cleanups, query, variables, handlers) {
  const stop = live.subscribe(query, variables, handlers);
  cleanups.push(stop);
  return stop;
}
