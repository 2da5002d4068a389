// The JSON API: one fetch wrapper, and the error it throws with the API's message.

import { go } from "./nav.js";
import { forgetSession, token } from "./session.js";

/// The message shown when the API gives none.
export const GENERIC = "Something went wrong, please try again";

/// A refusal: the API's `error` as the message, its `code` and `fields`, the response's
/// headers, and `Retry-After` (seconds, as sent) when there is one.
export class ApiError extends Error {
  constructor(status, body, headers = new Headers()) {
    super(body?.error ?? GENERIC);
    this.status = status;
    this.code = body?.code ?? "";
    this.fields = body?.fields ?? {};
    this.headers = headers;
    this.retryAfter = headers.get("Retry-After");
  }
}

/// Sends one request with the stored token; answers `{ data, headers }` or throws an
/// `ApiError`. A 401 signs the person out and opens the sign-in page.
export async function api(method, path, body) {
  const headers = {};
  const sent = token();
  if (sent) headers.Authorization = `Bearer ${sent}`;
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
  const data = parseJson(await response.text());
  if (!response.ok) {
    // Only the first 401 of requests sent together signs out and says so.
    if (response.status === 401 && sent && token()) {
      forgetSession();
      go("#/signin", "Your session has ended. Please sign in again.");
    }
    throw new ApiError(response.status, data, response.headers);
  }
  return { data, headers: response.headers };
}

/// The body as JSON, or null when it is empty or not JSON (a proxy's error page: the
/// generic message is shown).
function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}
