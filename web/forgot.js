// The "forgot password" page: asks for a link, sent by email, to choose a new password.

import { api } from "./api.js";
import { alertBox, el, field } from "./dom.js";
import { onSubmit } from "./forms.js";
import { setPage } from "./nav.js";

export function forgotPasswordPage() {
  const box = alertBox();
  const sent = el("p", { class: "notice", role: "status", hidden: true });
  const form = el(
    "form",
    { novalidate: true },
    el("p", { text: "Enter the email of your account: we will send a link to choose a new password." }),
    field("Email", "email", "email", { autocomplete: "email", required: true }),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Send reset link" })),
    sent,
  );
  onSubmit(form, box, async (data) => {
    sent.hidden = true;
    const { data: body } = await api("POST", "/api/auth/password/forgot", { email: data.get("email") });
    sent.textContent = body?.message ?? "If an account exists for this email, a reset link has been sent";
    sent.hidden = false;
  });
  setPage("Forgot password", form, el("p", {}, el("a", { href: "#/signin", text: "Back to sign in" })));
}
