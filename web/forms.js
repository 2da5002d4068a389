// Forms and lists that wait on the API: busy while they wait, the API's errors shown
// (field messages next to their fields), never swallowed.

import { ApiError, GENERIC } from "./api.js";

function messageOf(error) {
  let message = error.message;
  if (error.retryAfter && (error.status === 429 || error.status === 503)) {
    message += ` (wait ${error.retryAfter} s)`;
  }
  return message;
}

function showError(form, box, error) {
  const fields = Object.entries(error.fields ?? {});
  for (const [name, text] of fields) {
    const slot = form.querySelector(`[data-error-for="${name}"]`);
    if (slot) {
      slot.textContent = text;
      form.querySelector(`[name="${name}"]`)?.setAttribute("aria-invalid", "true");
    }
  }
  const shownByFields = fields.length > 0 && fields.every(([name]) => form.querySelector(`[data-error-for="${name}"]`));
  box.textContent = shownByFields ? "" : messageOf(error);
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
export function onSubmit(form, box, work) {
  form.addEventListener("submit", (event) => submit(event, form, box, work));
}

async function submit(event, form, box, work) {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  clearError(form, box);
  try {
    await work(new FormData(form));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status !== 401) showError(form, box, error);
  } finally {
    if (button) button.disabled = false;
  }
}

/// Shows why a request failed in `region` (a status line or an alert box). A 401 has
/// already opened the sign-in page and says so there.
export function showFailure(region, error) {
  if (error instanceof ApiError && error.status === 401) return;
  if (!(error instanceof ApiError)) console.error(error);
  region.textContent = error instanceof ApiError ? messageOf(error) : GENERIC;
  region.hidden = false;
}

/// Runs `work`, which fills `list`: `aria-busy` while it runs, and cleared however it
/// ends; a failure is shown in `region`.
export async function whileLoading(list, region, work) {
  list.setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (error) {
    showFailure(region, error);
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}
