// Moving between pages: the URL fragment names the page, `go` moves to one with an
// optional notice, `setPage` puts a page on screen.

import { el } from "./dom.js";

let flash = "";
let render = () => {};

/// Renders the page of the current fragment now and whenever it changes.
export function startRouting(renderRoute) {
  render = renderRoute;
  window.addEventListener("hashchange", render);
  render();
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
