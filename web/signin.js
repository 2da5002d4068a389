// The sign-in page, and what signing in does with the API's answer.

import { api } from "./api.js";
import { alertBox, checkbox, el, field } from "./dom.js";
import { onSubmit } from "./forms.js";
import { go, setPage } from "./nav.js";
import { saveSession } from "./session.js";

export function signInPage() {
  const box = alertBox();
  const form = el(
    "form",
    { novalidate: true },
    field("Email", "email", "email", { autocomplete: "email", required: true }),
    field("Password", "password", "password", { autocomplete: "current-password", required: true }),
    checkbox("Keep me signed in", "keep"),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Sign in" })),
  );
  onSubmit(form, box, signIn);
  setPage(
    "Sign in",
    form,
    el("p", {}, el("a", { href: "#/forgot-password", text: "Forgot password?" })),
    el("p", {}, "New here? ", el("a", { href: "#/signup", text: "Create an account" })),
  );
}

async function signIn(data) {
  const { data: auth } = await api("POST", "/api/auth/signin", {
    email: data.get("email"),
    password: data.get("password"),
  });
  startSession(auth, data.get("keep") === "on");
}

/// Keeps the signin body's token and user (`keep`: past this tab) and opens the tasks.
export function startSession(auth, keep) {
  saveSession(auth, keep);
  go("#/tasks");
}
