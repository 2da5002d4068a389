// Tessera's web app: sign up, sign in, tasks and account, on the JSON API only. Plain
// ES modules, no framework, no build step. This one is the entry point: it picks the
// page for the URL fragment and wires the top bar.

import { accountPage } from "./account.js";
import { api } from "./api.js";
import { go, startRouting } from "./nav.js";
import { forgetSession, token } from "./session.js";
import { signInPage } from "./signin.js";
import { signUpPage } from "./signup.js";
import { tasksPage } from "./tasks.js";

const SIGNED_OUT_ROUTES = ["#/signin", "#/signup"];

function render() {
  const signedIn = Boolean(token());
  document.getElementById("nav").hidden = !signedIn;
  const route = location.hash || (signedIn ? "#/tasks" : "#/signin");
  if (!signedIn && !SIGNED_OUT_ROUTES.includes(route)) return go("#/signin");
  if (signedIn && SIGNED_OUT_ROUTES.includes(route)) return go("#/tasks");
  if (route === "#/signup") return signUpPage();
  if (route === "#/account") return accountPage();
  if (route === "#/tasks") return tasksPage();
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
startRouting(render);
