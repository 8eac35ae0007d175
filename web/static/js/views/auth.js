// Register, log in. The token is kept by session.js (localStorage).

import { h, mount, field } from "../dom.js";
import { gql } from "../api.js";
import { signIn } from "../session.js";
import { LOGIN, REGISTER } from "../queries.js";
import { errorBox, busy } from "../ui.js";

function goNext(query) {
  const next = query.next && query.next.startsWith("/") ? query.next : "/";
  location.hash = `#${next}`;
}

async function logIn(username, password) {
  const data = await gql(LOGIN, { username, password });
  signIn(data.login);
}

export function loginView(container, query) {
  const error = errorBox("login-error");
  const username = h("input", { id: "login-username", name: "username", autocomplete: "username", required: true });
  const password = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary block" }, "Log in");
  const form = h("form", { class: "auth-form", novalidate: true, "aria-describedby": "login-error" },
    field("Username", username).wrap, field("Password", password).wrap, error, submit,
    h("p", { class: "muted small" }, "No account yet? ",
      h("a", { href: `#/register${query.next ? `?next=${encodeURIComponent(query.next)}` : ""}` }, "Sign up")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(submit, error, async () => {
      await logIn(username.value.trim(), password.value);
      goNext(query);
    });
  });
  mount(container, h("div", { class: "panel auth" }, h("h1", { tabindex: "-1" }, "Log in"), form));
  return () => {};
}

export function registerView(container, query) {
  const error = errorBox("register-error");
  const username = h("input", { id: "register-username", name: "username", autocomplete: "username",
    required: true, minlength: "3", maxlength: "50", pattern: "[A-Za-z0-9_.\\-]+" });
  const email = h("input", { id: "register-email", name: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", { id: "register-password", name: "password", type: "password",
    autocomplete: "new-password", required: true, minlength: "8", maxlength: "128" });
  const submit = h("button", { type: "submit", class: "primary block" }, "Create account");
  const form = h("form", { class: "auth-form", novalidate: true },
    field("Username", username, "3–50 letters, digits, dots, dashes or underscores.").wrap,
    field("Email", email).wrap,
    field("Password", password, "At least 8 characters.").wrap,
    error, submit,
    h("p", { class: "muted small" }, "Already have an account? ",
      h("a", { href: `#/login${query.next ? `?next=${encodeURIComponent(query.next)}` : ""}` }, "Log in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(submit, error, async () => {
      await gql(REGISTER, {
        input: { username: username.value.trim(), email: email.value.trim(), password: password.value },
      });
      await logIn(username.value.trim(), password.value);
      goNext(query);
    });
  });
  mount(container, h("div", { class: "panel auth" },
    h("h1", { tabindex: "-1" }, "Create your account"),
    h("p", { class: "muted" }, "You start with play money to trade with."),
    form));
  return () => {};
}
