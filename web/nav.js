// Moving between pages: the URL fragment names the page (`#/reset-password?token=...`:
// a path and a query), `go` moves to one with an optional notice, `setPage` puts a page
// on screen.

import { el } from "./dom.js";

let flash = "";
let render = () => {};

/// Renders the page of the current fragment now and whenever it changes.
export function startRouting(renderRoute) {
  render = renderRoute;
  window.addEventListener("hashchange", render);
  render();
}

/// The fragment as `{ path, params }`: `#/verify-email?token=x` is the path
/// `#/verify-email` and the params `token=x`.
export function currentRoute() {
  const hash = location.hash;
  const mark = hash.indexOf("?");
  if (mark < 0) return { path: hash, params: new URLSearchParams() };
  return { path: hash.slice(0, mark), params: new URLSearchParams(hash.slice(mark + 1)) };
}

/// The token of the mail link that opened `route`. It is taken out of the address bar
/// (not shown, not in the history's addresses) and kept in this history entry's state
/// instead, so that a reload of the page still has it. Only the API ever receives it.
export function takeLinkToken(route) {
  const linkToken = route.params.get("token") ?? history.state?.linkToken ?? "";
  history.replaceState(linkToken ? { linkToken } : null, "", `${location.pathname}${location.search}${route.path}`);
  return linkToken;
}

/// Forgets the link token of this history entry (once the API has used or refused it).
export function dropLinkToken() {
  history.replaceState(null, "", location.href);
}

/// Moves to `hash`, showing `message` on the page it opens.
export function go(hash, message = "") {
  flash = message;
  if (location.hash === hash) render();
  else location.hash = hash;
}

export function setPage(title, ...content) {
  const main = document.getElementById("main");
  document.title = `${title} · Tessera`;
  const heading = el("h1", { text: title });
  const notice = flash ? el("p", { class: "notice", role: "status", text: flash }) : null;
  flash = "";
  main.replaceChildren(heading, ...(notice ? [notice] : []), ...content);
  main.focus({ preventScroll: true });
}
