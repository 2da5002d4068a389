// The signed-in person as the API knows them now (`GET /api/auth/me`), kept as the
// stored user: the email and whether it is verified may have changed in another browser.

import { api } from "./api.js";
import { token, updateStoredUser } from "./session.js";

let pending = null;

/// Asks the API for the signed-in user and stores the answer; requests made while one is
/// on its way share its answer. Rejects with the API's error (a 401 has signed out).
export function refreshUser() {
  if (!pending) {
    const sent = token();
    pending = api("GET", "/api/auth/me")
      .then(({ data }) => {
        // Stored only if the same person is still signed in.
        if (token() === sent) updateStoredUser(data.user);
        return data.user;
      })
      .finally(() => {
        pending = null;
      });
  }
  return pending;
}
