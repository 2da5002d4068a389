// The account page's email section: the current address and whether it is verified, and
// changing it (the new address is confirmed from a link sent to it).

import { ApiError, api } from "./api.js";
import { alertBox, card, el, field } from "./dom.js";
import { onSubmit } from "./forms.js";
import { refreshUser } from "./me.js";

export function emailCard(user) {
  const current = el("p", { class: "current-email" });
  showCurrent(current, user);
  refreshUser().then(
    (fresh) => showCurrent(current, fresh),
    (error) => {
      // The stored user stands; a 401 has already signed out.
      if (!(error instanceof ApiError)) console.error(error);
    },
  );
  const box = alertBox();
  const sent = el("p", { class: "notice", role: "status", hidden: true });
  const form = el(
    "form",
    { novalidate: true },
    field("New email", "new_email", "email", { autocomplete: "email", required: true }),
    field("Your password", "password", "password", { autocomplete: "current-password", required: true }),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Change email" })),
    sent,
  );
  onSubmit(form, box, async (data) => {
    sent.hidden = true;
    const { data: body } = await api("POST", "/api/auth/email", {
      new_email: data.get("new_email"),
      password: data.get("password"),
    });
    form.reset();
    sent.textContent = body?.message ?? "Check your new email to confirm the change";
    sent.hidden = false;
  });
  return card("h-email", "Email", current, form);
}

/// "alice@example.com Verified" (or "Not verified"; no word from a server that does not say).
function showCurrent(current, user) {
  const verified = user?.email_verified;
  const badge =
    verified === undefined
      ? null
      : el("span", { class: verified ? "badge ok" : "badge warn", text: verified ? "Verified" : "Not verified" });
  current.replaceChildren(el("strong", { text: user?.email ?? "" }), " ", badge ?? "");
}
