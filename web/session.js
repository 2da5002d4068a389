// The signed-in person: the token and user in sessionStorage, or in localStorage when
// they ticked "keep me signed in". Never in a cookie.

const TOKEN = "tessera.token";
const USER = "tessera.user";

/// The task list's filter and page: kept while moving between pages of the app, reset
/// at sign-out so that the next person starts on the first page of all tasks.
export const tasksView = { status: "all", offset: 0 };

function stored(key) {
  return sessionStorage.getItem(key) ?? localStorage.getItem(key);
}

export function token() {
  return stored(TOKEN);
}

export function saveSession(auth, keep) {
  forgetSession();
  const store = keep ? localStorage : sessionStorage;
  store.setItem(TOKEN, auth.token);
  store.setItem(USER, JSON.stringify(auth.user));
}

export function forgetSession() {
  for (const store of [sessionStorage, localStorage]) {
    store.removeItem(TOKEN);
    store.removeItem(USER);
  }
  tasksView.status = "all";
  tasksView.offset = 0;
}

export function currentUser() {
  try {
    return JSON.parse(stored(USER) ?? "null");
  } catch {
    return null;
  }
}

export function updateStoredUser(user) {
  const store = localStorage.getItem(TOKEN) ? localStorage : sessionStorage;
  store.setItem(USER, JSON.stringify(user));
}

/// A new token for the same person (after a password change), kept where the old one was.
export function replaceToken(auth) {
  saveSession(auth, Boolean(localStorage.getItem(TOKEN)));
}
