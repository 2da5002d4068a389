// Tessera's web app: sign up, sign in, tasks and account, on the JSON API only.
// Plain ES module, no framework. Text from the API or the user is only ever set with
// textContent, never parsed as HTML.

const PAGE_SIZE = 10;
/// The task list's filter and page, kept while moving between pages of the app.
const tasksView = { status: "all", offset: 0 };
const TOKEN = "tessera.token";
const USER = "tessera.user";

// ---- Session: sessionStorage, or localStorage with "keep me signed in". ----

function stored(key) {
  return sessionStorage.getItem(key) ?? localStorage.getItem(key);
}

function saveSession(auth, keep) {
  forgetSession();
  const store = keep ? localStorage : sessionStorage;
  store.setItem(TOKEN, auth.token);
  store.setItem(USER, JSON.stringify(auth.user));
}

function forgetSession() {
  for (const store of [sessionStorage, localStorage]) {
    store.removeItem(TOKEN);
    store.removeItem(USER);
  }
  // The next person starts on the first page of all tasks.
  tasksView.status = "all";
  tasksView.offset = 0;
}

function currentUser() {
  try {
    return JSON.parse(stored(USER) ?? "null");
  } catch {
    return null;
  }
}

function updateStoredUser(user) {
  const store = localStorage.getItem(TOKEN) ? localStorage : sessionStorage;
  store.setItem(USER, JSON.stringify(user));
}

function replaceToken(auth) {
  const keep = Boolean(localStorage.getItem(TOKEN));
  saveSession(auth, keep);
}

// ---- The API. ----

class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(body?.error ?? "Something went wrong, please try again");
    this.status = status;
    this.code = body?.code;
    this.fields = body?.fields ?? {};
    this.retryAfter = retryAfter;
  }
}

async function api(method, path, body) {
  const headers = {};
  const token = stored(TOKEN);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { error: "The service cannot be reached, please try again" });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not the API's JSON (a proxy's error page): the generic message is shown.
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data, response.headers.get("Retry-After"));
    // Only the first 401 of requests sent together signs out and says so.
    if (response.status === 401 && token && stored(TOKEN)) {
      forgetSession();
      go("#/signin", "Your session has ended. Please sign in again.");
    }
    throw error;
  }
  return { data, headers: response.headers };
}

// ---- Small DOM helpers. ----

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

let counter = 0;

/// A labelled input with its field message slot below it.
function field(label, name, type = "text", attributes = {}) {
  const id = `f-${name}-${++counter}`;
  const error = el("p", { class: "error", id: `${id}-error`, "data-error-for": name });
  const input =
    type === "textarea"
      ? el("textarea", { id, name, "aria-describedby": error.id, ...attributes })
      : el("input", { id, name, type, "aria-describedby": error.id, ...attributes });
  return el("div", { class: "field" }, el("label", { for: id, text: label }), input, error);
}

function checkbox(label, name) {
  const id = `f-${name}-${++counter}`;
  return el("div", { class: "check" }, el("input", { id, name, type: "checkbox" }), el("label", { for: id, text: label }));
}

function alertBox() {
  return el("div", { class: "alert", role: "alert", hidden: true });
}

function showError(form, box, error) {
  let message = error.message;
  if (error.retryAfter && (error.status === 429 || error.status === 503)) {
    message += ` (wait ${error.retryAfter} s)`;
  }
  const fields = Object.entries(error.fields ?? {});
  for (const [name, text] of fields) {
    const slot = form.querySelector(`[data-error-for="${name}"]`);
    if (slot) {
      slot.textContent = text;
      form.querySelector(`[name="${name}"]`)?.setAttribute("aria-invalid", "true");
    }
  }
  const shownByFields = fields.length > 0 && fields.every(([name]) => form.querySelector(`[data-error-for="${name}"]`));
  box.textContent = shownByFields ? "" : message;
  box.hidden = shownByFields;
  const firstInvalid = form.querySelector("[aria-invalid]");
  (firstInvalid ?? box).focus?.();
}

function clearError(form, box) {
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  box.hidden = true;
  box.textContent = "";
}

/// Runs `work` for a form submit: the button is disabled meanwhile, API errors shown.
function onSubmit(form, box, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    clearError(form, box);
    try {
      await work(new FormData(form));
    } catch (error) {
      if (error instanceof ApiError) {
        if (error.status !== 401) showError(form, box, error);
      } else {
        throw error;
      }
    } finally {
      if (button) button.disabled = false;
    }
  });
}

function formatTime(text) {
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? text : at.toLocaleString();
}

// ---- Routing. ----

let flash = "";

function go(hash, message = "") {
  flash = message;
  if (location.hash === hash) render();
  else location.hash = hash;
}

function setPage(title, ...content) {
  const main = document.getElementById("main");
  document.title = `${title} · Tessera`;
  const heading = el("h1", { text: title });
  const notice = flash ? el("p", { class: "notice", role: "status", text: flash }) : null;
  flash = "";
  main.replaceChildren(heading, ...(notice ? [notice] : []), ...content);
  main.focus({ preventScroll: true });
}

function render() {
  const signedIn = Boolean(stored(TOKEN));
  document.getElementById("nav").hidden = !signedIn;
  const route = location.hash || (signedIn ? "#/tasks" : "#/signin");
  if (!signedIn && !["#/signin", "#/signup"].includes(route)) return go("#/signin");
  if (signedIn && ["#/signin", "#/signup", ""].includes(route)) return go("#/tasks");
  if (route === "#/signup") return signUpPage();
  if (route === "#/account") return accountPage();
  if (route === "#/tasks") return tasksPage();
  return signInPage();
}

// ---- Sign up and sign in. ----

function signInPage() {
  const box = alertBox();
  const form = el(
    "form",
    { novalidate: true },
    field("Email", "email", "email", { autocomplete: "email", required: true }),
    field("Password", "password", "password", { autocomplete: "current-password", required: true }),
    checkbox("Keep me signed in", "keep"),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Sign in" })),
  );
  onSubmit(form, box, async (data) => {
    const { data: auth } = await api("POST", "/api/auth/signin", {
      email: data.get("email"),
      password: data.get("password"),
    });
    saveSession(auth, data.get("keep") === "on");
    go("#/tasks");
  });
  setPage("Sign in", form, el("p", {}, "New here? ", el("a", { href: "#/signup", text: "Create an account" })));
}

function signUpPage() {
  const box = alertBox();
  const form = el(
    "form",
    { novalidate: true },
    field("Name", "name", "text", { autocomplete: "name", required: true }),
    field("Email", "email", "email", { autocomplete: "email", required: true }),
    field("Password", "password", "password", { autocomplete: "new-password", required: true }),
    el("p", { class: "muted", text: "At least 8 characters; not a common password." }),
    checkbox("Keep me signed in", "keep"),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Create account" })),
  );
  onSubmit(form, box, async (data) => {
    const { data: auth } = await api("POST", "/api/auth/signup", {
      name: data.get("name"),
      email: data.get("email"),
      password: data.get("password"),
    });
    saveSession(auth, data.get("keep") === "on");
    go("#/tasks");
  });
  setPage("Create an account", form, el("p", {}, "Have an account? ", el("a", { href: "#/signin", text: "Sign in" })));
}

// ---- Tasks. ----


function tasksPage() {
  const user = currentUser();
  const box = alertBox();
  const create = el(
    "form",
    { novalidate: true },
    field("New task", "title", "text", { required: true, maxlength: 200 }),
    field("Description (optional)", "description", "textarea", { maxlength: 1000 }),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Add task" })),
  );
  const filterId = `f-status-${++counter}`;
  const filter = el(
    "select",
    { id: filterId, name: "status" },
    ...[["all", "All"], ["pending", "Pending"], ["completed", "Completed"]].map(([value, label]) =>
      el("option", { value, selected: value === tasksView.status, text: label }),
    ),
  );
  const list = el("ul", { class: "list", "aria-live": "polite", "aria-busy": "true" });
  const status = el("p", { class: "muted", role: "status", text: "Loading tasks…" });
  const previous = el("button", { type: "button", class: "secondary", text: "Previous page" });
  const next = el("button", { type: "button", class: "secondary", text: "Next page" });
  const pager = el("div", { class: "pager" }, previous, status, next);

  async function load() {
    list.setAttribute("aria-busy", "true");
    const query = `status=${tasksView.status}&limit=${PAGE_SIZE}&offset=${tasksView.offset}`;
    try {
      const { data, headers } = await api("GET", `/api/${user.id}/tasks?${query}`);
      const total = Number(headers.get("X-Total-Count") ?? data.length);
      if (data.length === 0 && tasksView.offset > 0 && total > 0) {
        // The page emptied (its last task deleted): the last page that has tasks.
        tasksView.offset = Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE;
        return load();
      }
      list.replaceChildren(...data.map(taskItem));
      if (total === 0) {
        status.textContent = tasksView.status === "all" ? "No tasks yet. Add one above." : "No tasks here.";
      } else {
        status.textContent = `${tasksView.offset + 1}–${tasksView.offset + data.length} of ${total}`;
      }
      previous.disabled = tasksView.offset === 0;
      next.disabled = tasksView.offset + data.length >= total;
    } catch (error) {
      if (error instanceof ApiError && error.status !== 401) status.textContent = error.message;
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  function taskItem(task) {
    const errorBox = alertBox();
    const item = el("li", { class: task.completed ? "item done" : "item", "data-task-id": task.id });
    const view = el(
      "div",
      {},
      el("p", { class: "title", text: task.title }),
      task.description ? el("p", { class: "description", text: task.description }) : null,
      el("p", { class: "meta", text: `${task.completed ? "Done" : "Pending"} · updated ${formatTime(task.updated_at)}` }),
    );
    const toggle = el("button", {
      type: "button",
      class: "secondary",
      text: task.completed ? "Reopen" : "Complete",
      "aria-label": `${task.completed ? "Reopen" : "Complete"} “${task.title}”`,
      onclick: () => act(() => api("PATCH", `/api/${user.id}/tasks/${task.id}/complete`)),
    });
    const edit = el("button", {
      type: "button",
      class: "secondary",
      text: "Edit",
      "aria-label": `Edit “${task.title}”`,
      onclick: () => editForm(),
    });
    const remove = el("button", {
      type: "button",
      class: "danger",
      text: "Delete",
      "aria-label": `Delete “${task.title}”`,
      onclick: () => confirmDelete(),
    });
    const actions = el("div", { class: "actions" }, toggle, edit, remove);
    item.append(view, actions, errorBox);

    async function act(work) {
      try {
        await work();
        await load();
      } catch (error) {
        if (error instanceof ApiError && error.status !== 401) {
          errorBox.textContent = error.message;
          errorBox.hidden = false;
        }
      }
    }

    function confirmDelete() {
      const yes = el("button", { type: "button", class: "danger", text: "Yes, delete" });
      const no = el("button", { type: "button", class: "secondary", text: "Cancel" });
      const question = el("div", { class: "actions", role: "group", "aria-label": "Confirm delete" },
        el("span", { text: `Delete “${task.title}”?` }), yes, no);
      actions.replaceWith(question);
      no.addEventListener("click", () => { question.replaceWith(actions); remove.focus(); });
      yes.addEventListener("click", () => act(() => api("DELETE", `/api/${user.id}/tasks/${task.id}`)));
      no.focus();
    }

    function editForm() {
      const box = alertBox();
      const form = el(
        "form",
        { novalidate: true },
        field("Title", "title", "text", { required: true, maxlength: 200 }),
        field("Description", "description", "textarea", { maxlength: 1000 }),
        box,
        el("div", { class: "actions" },
          el("button", { type: "submit", text: "Save" }),
          el("button", {
            type: "button",
            class: "secondary",
            text: "Cancel",
            onclick: () => {
              form.replaceWith(view);
              actions.hidden = false;
            },
          })),
      );
      form.elements.title.value = task.title;
      form.elements.description.value = task.description ?? "";
      onSubmit(form, box, async (data) => {
        await api("PATCH", `/api/${user.id}/tasks/${task.id}`, {
          title: data.get("title"),
          description: data.get("description") || null,
        });
        await load();
      });
      view.replaceWith(form);
      actions.hidden = true;
      form.elements.title.focus();
    }
    return item;
  }

  onSubmit(create, box, async (data) => {
    await api("POST", `/api/${user.id}/tasks`, {
      title: data.get("title"),
      description: data.get("description") || null,
    });
    create.reset();
    tasksView.offset = 0;
    await load();
    create.elements.title.focus();
  });
  filter.addEventListener("change", () => {
    tasksView.status = filter.value;
    tasksView.offset = 0;
    load();
  });
  previous.addEventListener("click", () => {
    tasksView.offset = Math.max(0, tasksView.offset - PAGE_SIZE);
    load();
  });
  next.addEventListener("click", () => {
    tasksView.offset += PAGE_SIZE;
    load();
  });

  setPage(
    "Tasks",
    create,
    el("div", { class: "toolbar" },
      el("div", { class: "field" }, el("label", { for: filterId, text: "Show" }), filter)),
    list,
    pager,
  );
  load();
}

// ---- Account. ----

function accountPage() {
  const user = currentUser();

  const nameBox = alertBox();
  const nameForm = el(
    "form",
    { novalidate: true },
    field("Name", "name", "text", { autocomplete: "name", required: true, maxlength: 100 }),
    nameBox,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Save name" })),
  );
  nameForm.elements.name.value = user?.name ?? "";
  onSubmit(nameForm, nameBox, async (data) => {
    const { data: body } = await api("PATCH", "/api/auth/me", { name: data.get("name") });
    updateStoredUser(body.user);
    go("#/account", "Name saved.");
  });

  const passwordBox = alertBox();
  const passwordForm = el(
    "form",
    { novalidate: true },
    field("Current password", "current_password", "password", { autocomplete: "current-password" }),
    field("New password", "new_password", "password", { autocomplete: "new-password" }),
    passwordBox,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Change password" })),
  );
  onSubmit(passwordForm, passwordBox, async (data) => {
    const { data: auth } = await api("POST", "/api/auth/password", {
      current_password: data.get("current_password"),
      new_password: data.get("new_password"),
    });
    replaceToken(auth);
    go("#/account", "Password changed. Every other session has been signed out.");
  });

  const sessions = el("ul", { class: "list", "aria-busy": "true" });
  const events = el("ul", { class: "list", "aria-busy": "true" });
  const everywhere = el("button", { type: "button", class: "secondary", text: "Sign out everywhere" });
  everywhere.addEventListener("click", async () => {
    try {
      await api("POST", "/api/auth/signout", { scope: "global" });
    } finally {
      forgetSession();
      go("#/signin", "Signed out on every device.");
    }
  });

  async function loadSessions() {
    const { data } = await api("GET", "/api/auth/sessions");
    sessions.replaceChildren(
      ...data.sessions.map((session) => {
        const end = el("button", {
          type: "button",
          class: "secondary",
          text: session.current ? "End (this device)" : "End",
          "aria-label": session.current ? "End this session" : `End the session from ${session.ip ?? "an unknown address"}`,
        });
        end.addEventListener("click", async () => {
          await api("DELETE", `/api/auth/sessions/${session.id}`);
          if (session.current) {
            forgetSession();
            go("#/signin", "This session has ended.");
          } else {
            await loadSessions();
          }
        });
        return el(
          "li",
          { class: "item", "data-session-id": session.id },
          el("div", {},
            el("p", { class: "title" }, session.user_agent ?? "Unknown browser",
              session.current ? el("span", { class: "badge", text: " This device" }) : null),
            el("p", { class: "meta", text: `${session.ip ?? "unknown address"} · since ${formatTime(session.created_at)}` })),
          end,
        );
      }),
    );
    sessions.setAttribute("aria-busy", "false");
  }

  async function loadEvents() {
    const { data } = await api("GET", "/api/auth/events?limit=20");
    events.replaceChildren(
      ...(data.events.length === 0
        ? [el("li", { class: "muted", text: "No events yet." })]
        : data.events.map((event) =>
            el("li", { class: "item" },
              el("div", {},
                el("p", { class: "title", text: event.type.replace(/_/g, " ") }),
                el("p", { class: "meta", text: `${formatTime(event.at)} · ${event.ip ?? "unknown address"}` })),
            ),
          )),
    );
    events.setAttribute("aria-busy", "false");
  }

  const deleteBox = alertBox();
  const deleteForm = el(
    "form",
    { novalidate: true },
    el("p", { text: "This deletes your account, your tasks and your sessions. It cannot be undone." }),
    field("Password", "password", "password", { autocomplete: "current-password" }),
    deleteBox,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "danger", text: "Delete my account" })),
  );
  onSubmit(deleteForm, deleteBox, async (data) => {
    await api("DELETE", "/api/auth/me", { password: data.get("password") });
    forgetSession();
    go("#/signup", "Your account has been deleted.");
  });

  setPage(
    "Account",
    el("p", { class: "muted", text: user?.email ?? "" }),
    el("section", { class: "card", "aria-labelledby": "h-name" }, el("h2", { id: "h-name", text: "Your name" }), nameForm),
    el("section", { class: "card", "aria-labelledby": "h-password" }, el("h2", { id: "h-password", text: "Change password" }), passwordForm),
    el("section", { class: "card", "aria-labelledby": "h-sessions" },
      el("h2", { id: "h-sessions", text: "Active sessions" }), sessions, el("div", { class: "actions" }, everywhere)),
    el("section", { class: "card", "aria-labelledby": "h-events" }, el("h2", { id: "h-events", text: "Recent security events" }), events),
    el("section", { class: "card", "aria-labelledby": "h-delete" }, el("h2", { id: "h-delete", text: "Delete account" }), deleteForm),
  );
  loadSessions().catch(() => {});
  loadEvents().catch(() => {});
}

// ---- Start. ----

window.addEventListener("hashchange", render);
document.getElementById("signout").addEventListener("click", async () => {
  try {
    await api("POST", "/api/auth/signout", {});
  } catch {
    // Signed out either way.
  }
  forgetSession();
  go("#/signin", "Signed out.");
});
render();
