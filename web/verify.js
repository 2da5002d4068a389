// The page a verification mail links to (`#/verify-email?token=...`), for a new account's
// address or a new address: it sends the token to the API on opening. It works signed in
// or not (the link may be opened in another browser).

import { ApiError, api } from "./api.js";
import { el } from "./dom.js";
import { showFailure } from "./forms.js";
import { dropLinkToken, setPage, takeLinkToken } from "./nav.js";
import { currentUser, token, updateStoredUser } from "./session.js";

export function verifyEmailPage(route) {
  const linkToken = takeLinkToken(route);
  const result = el("div", {});
  setPage("Verify your email", result);
  if (!linkToken) {
    result.replaceChildren(el("p", { text: "Open the link from your email to verify your address." }), onwards());
    return;
  }
  result.replaceChildren(el("p", { class: "muted", role: "status", text: "Checking your link…" }));
  verify(linkToken, result);
}

async function verify(linkToken, result) {
  const before = token() ? currentUser() : null;
  let user;
  try {
    ({
      data: { user },
    } = await api("POST", "/api/auth/email/verify", { token: linkToken }));
  } catch (error) {
    // A refused link stays refused; after a failure to reach the API a reload tries again.
    if (error instanceof ApiError && error.status === 400) dropLinkToken();
    const box = el("p", { class: "alert", role: "alert" });
    showFailure(box, error);
    result.replaceChildren(box, onwards());
    return;
  }
  dropLinkToken();
  const mine = before !== null && before.id === user.id;
  if (mine) updateStoredUser(user);
  const text =
    mine && before.email !== user.email
      ? `Your email is now ${user.email}.`
      : `Your email ${user.email} is verified.`;
  result.replaceChildren(el("p", { class: "notice", role: "status", text }), onwards());
}

/// Where to go next: the tasks when signed in, else the sign-in page.
function onwards() {
  return token()
    ? el("p", {}, el("a", { href: "#/tasks", text: "Go to your tasks" }))
    : el("p", {}, el("a", { href: "#/signin", text: "Sign in" }));
}
