// The sign-up page.

import { api } from "./api.js";
import { alertBox, checkbox, el, field } from "./dom.js";
import { onSubmit } from "./forms.js";
import { go, setPage } from "./nav.js";
import { startSession } from "./signin.js";

export function signUpPage() {
  const box = alertBox();
  const form = el(
    "form",
    { novalidate: true },
    field("Name", "name", "text", { autocomplete: "name", required: true }),
    field("Email", "email", "email", { autocomplete: "email", required: true }),
    field("Password", "password", "password", { autocomplete: "new-password", required: true }),
    el("p", { class: "muted", text: "At least 8 characters; not a common password." }),
    checkbox("Keep me signed in", "keep"),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Create account" })),
  );
  onSubmit(form, box, signUp);
  setPage("Create an account", form, el("p", {}, "Have an account? ", el("a", { href: "#/signin", text: "Sign in" })));
}

async function signUp(data) {
  const { data: auth } = await api("POST", "/api/auth/signup", {
    name: data.get("name"),
    email: data.get("email"),
    password: data.get("password"),
  });
  if (auth.verification_required || !auth.token) {
    // The service signs in only verified addresses: the account exists, no session yet.
    go("#/signin", "Check your email to verify your address, then sign in.");
    return;
  }
  startSession(auth, data.get("keep") === "on");
}
