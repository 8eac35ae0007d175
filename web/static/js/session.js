// The signed-in session: the access token (kept in localStorage so a reload
// stays signed in), its expiry, and the user. Views listen for changes.

const STORAGE_KEY = "bellwether.session";
const listeners = new Set();
let expiryTimer = null;

export const session = {
  token: null,
  expiresAt: null,
  user: null,
  /** Why the last sign-out happened, shown once by the shell ("expired"). */
  notice: null,
};

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit() {
  for (const fn of [...listeners]) fn(session);
}

/** Restore a stored, unexpired token (the user is fetched by the caller). */
export function restoreSession() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    if (saved && saved.token && new Date(saved.expiresAt).getTime() > Date.now()) {
      session.token = saved.token;
      session.expiresAt = saved.expiresAt;
      scheduleExpiry();
    } else if (saved) {
      localStorage.removeItem(STORAGE_KEY);
    }
  } catch {
    localStorage.removeItem(STORAGE_KEY);
  }
  return session.token !== null;
}

/** Store the login payload { accessToken, expiresAt, user }. */
export function signIn(payload) {
  session.token = payload.accessToken;
  session.expiresAt = payload.expiresAt;
  session.user = payload.user;
  session.notice = null;
  localStorage.setItem(
    STORAGE_KEY,
    JSON.stringify({ token: session.token, expiresAt: session.expiresAt })
  );
  scheduleExpiry();
  emit();
}

export function setUser(user) {
  session.user = user;
  emit();
}

/** Forget the token. `notice` explains why (e.g. the session expired). */
export function signOut(notice = null) {
  const wasSignedIn = session.token !== null;
  session.token = null;
  session.expiresAt = null;
  session.user = null;
  session.notice = notice;
  clearTimeout(expiryTimer);
  localStorage.removeItem(STORAGE_KEY);
  if (wasSignedIn) emit();
}

function scheduleExpiry() {
  clearTimeout(expiryTimer);
  const ms = new Date(session.expiresAt).getTime() - Date.now();
  // setTimeout overflows above ~24.8 days; tokens live minutes to hours.
  if (ms < 2 ** 31 - 1) {
    expiryTimer = setTimeout(
      () => signOut("Your session expired. Please log in again."),
      Math.max(0, ms)
    );
  }
}

// Another tab signed in or out: follow it.
window.addEventListener("storage", (event) => {
  if (event.key !== STORAGE_KEY) return;
  if (!event.newValue) signOut();
  else location.reload();
});

restoreSession();
