// The account page: the name, the email, the password, the active sessions, the recent
// security events, and deleting the account.

import { emailCard } from "./account-email.js";
import { api } from "./api.js";
import { alertBox, card, el, field } from "./dom.js";
import { onSubmit, showFailure, whileLoading } from "./forms.js";
import { go, setPage } from "./nav.js";
import { currentUser, forgetSession, replaceToken, updateStoredUser } from "./session.js";
import { timeAgo } from "./time.js";
import { unverifiedNotice } from "./unverified.js";
import { describeUserAgent } from "./useragent.js";

export function accountPage() {
  const user = currentUser();
  const sessions = { list: el("ul", { class: "list", "aria-busy": "true" }), box: alertBox() };
  const events = { list: el("ul", { class: "list", "aria-busy": "true" }), box: alertBox() };
  const everywhere = el("button", { type: "button", class: "secondary", text: "Sign out everywhere" });
  everywhere.addEventListener("click", signOutEverywhere);
  setPage(
    "Account",
    unverifiedNotice(),
    card("h-name", "Your name", nameForm(user)),
    emailCard(user),
    card("h-password", "Change password", passwordForm()),
    card("h-sessions", "Active sessions", sessions.list, sessions.box, el("div", { class: "actions" }, everywhere)),
    card("h-events", "Recent security events", events.list, events.box),
    card("h-delete", "Delete account", deleteForm()),
  );
  loadSessions(sessions);
  loadEvents(events);
}

function nameForm(user) {
  const box = alertBox();
  const form = el(
    "form",
    { novalidate: true },
    field("Name", "name", "text", { autocomplete: "name", required: true, maxlength: 100 }),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Save name" })),
  );
  form.elements.name.value = user?.name ?? "";
  onSubmit(form, box, async (data) => {
    const { data: body } = await api("PATCH", "/api/auth/me", { name: data.get("name") });
    updateStoredUser(body.user);
    go("#/account", "Name saved.");
  });
  return form;
}

function passwordForm() {
  const box = alertBox();
  const form = el(
    "form",
    { novalidate: true },
    field("Current password", "current_password", "password", { autocomplete: "current-password" }),
    field("New password", "new_password", "password", { autocomplete: "new-password" }),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Change password" })),
  );
  onSubmit(form, box, async (data) => {
    const { data: auth } = await api("POST", "/api/auth/password", {
      current_password: data.get("current_password"),
      new_password: data.get("new_password"),
    });
    replaceToken(auth);
    go("#/account", "Password changed. Every other session has been signed out.");
  });
  return form;
}

function deleteForm() {
  const box = alertBox();
  const form = el(
    "form",
    { novalidate: true },
    el("p", { text: "This deletes your account, your tasks and your sessions. It cannot be undone." }),
    field("Password", "password", "password", { autocomplete: "current-password" }),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "danger", text: "Delete my account" })),
  );
  onSubmit(form, box, async (data) => {
    await api("DELETE", "/api/auth/me", { password: data.get("password") });
    forgetSession();
    go("#/signup", "Your account has been deleted.");
  });
  return form;
}

/// Signs out on every device; this one forgets its token even if the request fails.
async function signOutEverywhere() {
  try {
    await api("POST", "/api/auth/signout", { scope: "global" });
  } finally {
    forgetSession();
    go("#/signin", "Signed out on every device.");
  }
}

function loadSessions(sessions) {
  sessions.box.hidden = true;
  return whileLoading(sessions.list, sessions.box, async () => {
    const { data } = await api("GET", "/api/auth/sessions");
    sessions.list.replaceChildren(...data.sessions.map((session) => sessionItem(sessions, session)));
  });
}

function sessionItem(sessions, session) {
  return el(
    "li",
    { class: "item", "data-session-id": session.id },
    el(
      "div",
      {},
      el(
        "p",
        { class: "title" },
        describeUserAgent(session.user_agent),
        session.current ? el("span", { class: "badge", text: " This device" }) : null,
      ),
      el(
        "p",
        { class: "meta" },
        `${session.ip ?? "unknown address"} · signed in `,
        timeAgo(session.created_at),
        session.last_active_at ? [" · last active ", timeAgo(session.last_active_at)] : null,
      ),
    ),
    el("button", {
      type: "button",
      class: "secondary",
      text: session.current ? "End (this device)" : "End",
      "aria-label": session.current ? "End this session" : `End the session from ${session.ip ?? "an unknown address"}`,
      onclick: () => endSession(sessions, session),
    }),
  );
}

async function endSession(sessions, session) {
  try {
    await api("DELETE", `/api/auth/sessions/${session.id}`);
  } catch (error) {
    showFailure(sessions.box, error);
    return;
  }
  if (session.current) {
    forgetSession();
    go("#/signin", "This session has ended.");
  } else {
    await loadSessions(sessions);
  }
}

function loadEvents(events) {
  events.box.hidden = true;
  return whileLoading(events.list, events.box, async () => {
    const { data } = await api("GET", "/api/auth/events?limit=20");
    const none = [el("li", { class: "muted", text: "No events yet." })];
    events.list.replaceChildren(...(data.events.length === 0 ? none : data.events.map(eventItem)));
  });
}

function eventItem(event) {
  return el(
    "li",
    { class: "item" },
    el(
      "div",
      {},
      el("p", { class: "title", text: event.type.replace(/_/g, " ") }),
      el(
        "p",
        { class: "meta" },
        timeAgo(event.at),
        ` · ${describeUserAgent(event.user_agent)} · ${event.ip ?? "unknown address"}`,
      ),
    ),
  );
}
