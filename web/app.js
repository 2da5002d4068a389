// Tessera's web app: sign up, sign in, tasks and account, on the JSON API only. Plain
// ES modules, no framework, no build step. This one is the entry point: it picks the
// page for the URL fragment and wires the top bar.

import { accountPage } from "./account.js";
import { api } from "./api.js";
import { forgotPasswordPage } from "./forgot.js";
import { currentRoute, go, startRouting } from "./nav.js";
import { resetPasswordPage } from "./reset.js";
import { forgetSession, token } from "./session.js";
import { signInPage } from "./signin.js";
import { signUpPage } from "./signup.js";
import { tasksPage } from "./tasks.js";
import { verifyEmailPage } from "./verify.js";

const SIGNED_OUT_ROUTES = ["#/signin", "#/signup"];

/// Pages for anyone, signed in or not: the pages mail links open (a link may be opened in
/// any browser), and asking for a reset link.
const OPEN_ROUTES = {
  "#/forgot-password": forgotPasswordPage,
  "#/reset-password": resetPasswordPage,
  "#/verify-email": verifyEmailPage,
};

function render() {
  const signedIn = Boolean(token());
  document.getElementById("nav").hidden = !signedIn;
  const route = currentRoute();
  const path = route.path || (signedIn ? "#/tasks" : "#/signin");
  if (Object.hasOwn(OPEN_ROUTES, path)) return OPEN_ROUTES[path](route);
  if (!signedIn && !SIGNED_OUT_ROUTES.includes(path)) return go("#/signin");
  if (signedIn && SIGNED_OUT_ROUTES.includes(path)) return go("#/tasks");
  if (path === "#/signup") return signUpPage();
  if (path === "#/account") return accountPage();
  if (path === "#/tasks") return tasksPage();
  return signInPage();
}

async function signOut() {
  try {
    await api("POST", "/api/auth/signout", {});
  } catch {
    // Signed out either way.
  }
  forgetSession();
  go("#/signin", "Signed out.");
}

document.getElementById("signout").addEventListener("click", signOut);
// The fragment names the page: the skip link moves the focus without changing it.
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  document.getElementById("main").focus();
});
startRouting(render);
