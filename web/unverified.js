// The notice shown while the signed-in person's email is not verified, with a button that
// sends the verification link again.

import { ApiError, api } from "./api.js";
import { el, uniqueId } from "./dom.js";
import { showFailure } from "./forms.js";
import { refreshUser } from "./me.js";
import { currentUser, updateStoredUser } from "./session.js";

/// Only a user object that says so is unverified (not one from a server without mail).
function unverified(user) {
  return user?.email_verified === false;
}

/// "Try again in 42 seconds", from a `Retry-After` in seconds; "" if it is not one.
export function waitText(retryAfter) {
  const seconds = Number.parseInt(retryAfter ?? "", 10);
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  return `Try again in ${seconds} ${seconds === 1 ? "second" : "seconds"}`;
}

/// The notice, hidden while the stored user is verified. It asks the API for the user
/// (the address may have been verified in another browser) and hides itself if so.
export function unverifiedNotice() {
  const id = uniqueId("unverified");
  const result = el("p", { role: "status", hidden: true });
  const resend = el("button", { type: "button", class: "secondary", text: "Resend" });
  const notice = el(
    "section",
    { class: "warning", "aria-labelledby": id, hidden: !unverified(currentUser()) },
    el("p", { id, class: "title", text: "Your email is not verified" }),
    el("p", { text: "Open the link we sent to your email. No mail? We can send it again." }),
    el("div", { class: "actions" }, resend),
    result,
  );
  resend.addEventListener("click", () => resendLink(notice, resend, result));
  refreshUser().then(
    (user) => {
      notice.hidden = !unverified(user);
    },
    (error) => {
      // The stored user stands; a 401 has already signed out.
      if (!(error instanceof ApiError)) console.error(error);
    },
  );
  return notice;
}

async function resendLink(notice, button, result) {
  button.disabled = true;
  result.hidden = true;
  try {
    const { data } = await api("POST", "/api/auth/email/verification", {});
    say(result, "notice", data?.message ?? "Verification email sent");
  } catch (error) {
    if (error instanceof ApiError && error.code === "already_verified") {
      await alreadyVerified();
      notice.replaceWith(el("p", { class: "notice", role: "status", text: error.message }));
      return;
    }
    const wait = error instanceof ApiError && error.status === 429 ? waitText(error.retryAfter) : "";
    if (wait) say(result, "alert", `${error.message}. ${wait}.`);
    else {
      result.className = "alert";
      showFailure(result, error);
    }
  } finally {
    button.disabled = false;
  }
}

function say(result, kind, text) {
  result.className = kind;
  result.textContent = text;
  result.hidden = false;
}

/// The API says the address is verified: the stored user learns it, from the API if it
/// answers, else from that answer.
async function alreadyVerified() {
  try {
    await refreshUser();
  } catch {
    const user = currentUser();
    if (user) updateStoredUser({ ...user, email_verified: true });
  }
}
