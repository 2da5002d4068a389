// The task list: add a task, filter by status, move between pages; complete, edit or
// delete each task.

import { api } from "./api.js";
import { alertBox, el, field, formatTime, uniqueId } from "./dom.js";
import { onSubmit, showFailure, whileLoading } from "./forms.js";
import { setPage } from "./nav.js";
import { currentUser, tasksView } from "./session.js";
import { unverifiedNotice } from "./unverified.js";

const PAGE_SIZE = 10;

export function tasksPage() {
  const tasks = {
    user: currentUser(),
    list: el("ul", { class: "list", "aria-live": "polite", "aria-busy": "true" }),
    status: el("p", { class: "muted", role: "status", text: "Loading tasks…" }),
    previous: el("button", { type: "button", class: "secondary", text: "Previous page" }),
    next: el("button", { type: "button", class: "secondary", text: "Next page" }),
  };
  tasks.previous.addEventListener("click", () => {
    tasksView.offset = Math.max(0, tasksView.offset - PAGE_SIZE);
    loadTasks(tasks);
  });
  tasks.next.addEventListener("click", () => {
    tasksView.offset += PAGE_SIZE;
    loadTasks(tasks);
  });
  setPage(
    "Tasks",
    unverifiedNotice(),
    createForm(tasks),
    statusFilter(tasks),
    tasks.list,
    el("div", { class: "pager" }, tasks.previous, tasks.status, tasks.next),
  );
  loadTasks(tasks);
}

function tasksPath(tasks) {
  return `/api/${tasks.user.id}/tasks`;
}

function createForm(tasks) {
  const box = alertBox();
  const form = el(
    "form",
    { novalidate: true },
    field("New task", "title", "text", { required: true, maxlength: 200 }),
    field("Description (optional)", "description", "textarea", { maxlength: 1000 }),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Add task" })),
  );
  onSubmit(form, box, async (data) => {
    await api("POST", tasksPath(tasks), {
      title: data.get("title"),
      description: data.get("description") || null,
    });
    form.reset();
    tasksView.offset = 0;
    await loadTasks(tasks);
    form.elements.title.focus();
  });
  return form;
}

function statusFilter(tasks) {
  const id = uniqueId("status");
  const filter = el(
    "select",
    { id, name: "status" },
    ...[["all", "All"], ["pending", "Pending"], ["completed", "Completed"]].map(([value, label]) =>
      el("option", { value, selected: value === tasksView.status, text: label }),
    ),
  );
  filter.addEventListener("change", () => {
    tasksView.status = filter.value;
    tasksView.offset = 0;
    loadTasks(tasks);
  });
  return el("div", { class: "toolbar" }, el("div", { class: "field" }, el("label", { for: id, text: "Show" }), filter));
}

/// Shows the current page of tasks; a failure is shown in the status line.
function loadTasks(tasks) {
  return whileLoading(tasks.list, tasks.status, () => showTasks(tasks));
}

async function showTasks(tasks) {
  const query = `status=${tasksView.status}&limit=${PAGE_SIZE}&offset=${tasksView.offset}`;
  const { data, headers } = await api("GET", `${tasksPath(tasks)}?${query}`);
  const total = Number(headers.get("X-Total-Count") ?? data.length);
  if (data.length === 0 && tasksView.offset > 0 && total > 0) {
    // The page emptied (its last task deleted): the last page that has tasks.
    tasksView.offset = Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE;
    return showTasks(tasks);
  }
  tasks.list.replaceChildren(...data.map((task) => taskItem(tasks, task)));
  if (total === 0) {
    tasks.status.textContent = tasksView.status === "all" ? "No tasks yet. Add one above." : "No tasks here.";
  } else {
    tasks.status.textContent = `${tasksView.offset + 1}–${tasksView.offset + data.length} of ${total}`;
  }
  tasks.previous.disabled = tasksView.offset === 0;
  tasks.next.disabled = tasksView.offset + data.length >= total;
}

/// One task: its text, and its buttons, which `item.actions` holds.
function taskItem(tasks, task) {
  const state = task.completed ? "Reopen" : "Complete";
  const meta = `${task.completed ? "Done" : "Pending"} · updated ${formatTime(task.updated_at)}`;
  const item = {
    view: el(
      "div",
      {},
      el("p", { class: "title", text: task.title }),
      task.description ? el("p", { class: "description", text: task.description }) : null,
      el("p", { class: "meta", text: meta }),
    ),
    errorBox: alertBox(),
    remove: el("button", {
      type: "button",
      class: "danger",
      text: "Delete",
      "aria-label": `Delete “${task.title}”`,
      onclick: () => confirmDelete(tasks, task, item),
    }),
  };
  item.actions = el(
    "div",
    { class: "actions" },
    el("button", {
      type: "button",
      class: "secondary",
      text: state,
      "aria-label": `${state} “${task.title}”`,
      onclick: () => act(tasks, item, () => api("PATCH", `${tasksPath(tasks)}/${task.id}/complete`)),
    }),
    el("button", {
      type: "button",
      class: "secondary",
      text: "Edit",
      "aria-label": `Edit “${task.title}”`,
      onclick: () => editTask(tasks, task, item),
    }),
    item.remove,
  );
  return el(
    "li",
    { class: task.completed ? "item done" : "item", "data-task-id": task.id },
    item.view,
    item.actions,
    item.errorBox,
  );
}

/// Runs one change to a task, then reloads the page; a failure is shown on the task.
async function act(tasks, item, work) {
  try {
    await work();
  } catch (error) {
    showFailure(item.errorBox, error);
    return;
  }
  await loadTasks(tasks);
}

function confirmDelete(tasks, task, item) {
  const yes = el("button", { type: "button", class: "danger", text: "Yes, delete" });
  const no = el("button", { type: "button", class: "secondary", text: "Cancel" });
  const question = el(
    "div",
    { class: "actions", role: "group", "aria-label": "Confirm delete" },
    el("span", { text: `Delete “${task.title}”?` }),
    yes,
    no,
  );
  item.actions.replaceWith(question);
  no.addEventListener("click", () => {
    question.replaceWith(item.actions);
    item.remove.focus();
  });
  yes.addEventListener("click", () => act(tasks, item, () => api("DELETE", `${tasksPath(tasks)}/${task.id}`)));
  no.focus();
}

function editTask(tasks, task, item) {
  const box = alertBox();
  const cancel = el("button", { type: "button", class: "secondary", text: "Cancel" });
  const form = el(
    "form",
    { novalidate: true },
    field("Title", "title", "text", { required: true, maxlength: 200 }),
    field("Description", "description", "textarea", { maxlength: 1000 }),
    box,
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Save" }), cancel),
  );
  form.elements.title.value = task.title;
  form.elements.description.value = task.description ?? "";
  cancel.addEventListener("click", () => {
    form.replaceWith(item.view);
    item.actions.hidden = false;
  });
  onSubmit(form, box, async (data) => {
    await api("PATCH", `${tasksPath(tasks)}/${task.id}`, {
      title: data.get("title"),
      description: data.get("description") || null,
    });
    await loadTasks(tasks);
  });
  item.view.replaceWith(form);
  item.actions.hidden = true;
  form.elements.title.focus();
}
