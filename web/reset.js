// The page a password-reset mail links to (`#/reset-password?token=...`): a new password,
// then the person is signed in as at the sign-in page.

import { api } from "./api.js";
import { alertBox, checkbox, el, field } from "./dom.js";
import { onSubmit } from "./forms.js";
import { dropLinkToken, go, setPage, takeLinkToken } from "./nav.js";
import { startSession } from "./signin.js";

export function resetPasswordPage(route) {
  const linkToken = takeLinkToken(route);
  const newLink = el("p", {}, "Link expired? ", el("a", { href: "#/forgot-password", text: "Ask for a new link" }));
  if (!linkToken) {
    setPage("Choose a new password", el("p", { text: "Open the link from your email to choose a new password." }), newLink);
    return;
  }
  const box = alertBox();
  const form = el(
    "form",
    { novalidate: true },
    field("New password", "new_password", "password", { autocomplete: "new-password", required: true }),
    el("p", { class: "muted", text: "At least 8 characters; not a common password." }),
    checkbox("Keep me signed in", "keep"),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Set new password" })),
  );
  onSubmit(form, box, async (data) => {
    let auth;
    try {
      ({ data: auth } = await api("POST", "/api/auth/password/reset", {
        token: linkToken,
        new_password: data.get("new_password"),
      }));
    } catch (error) {
      // A link the API refused stays refused: a reload need not try it again.
      if (error.code === "invalid_link") dropLinkToken();
      throw error;
    }
    dropLinkToken();
    if (!auth?.token) {
      // Two-factor sign-in is on: the password is changed, and signing in asks for a code.
      go("#/signin", "Your password has been changed. Sign in with your new password.");
      return;
    }
    startSession(auth, data.get("keep") === "on");
  });
  setPage("Choose a new password", form, newLink);
}
