-- Tessera's schema in SQLite's dialect: the same tables and rules as PostgreSQL's
-- migrations. Ids are text (UUIDs) or integers; instants are integers, microseconds
-- since the Unix epoch (UTC), so that they sort and compare exactly.

CREATE TABLE users (
    id            TEXT    PRIMARY KEY NOT NULL,
    email         TEXT    NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    password_hash TEXT    NOT NULL CHECK (password_hash <> ''),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    task_count    INTEGER NOT NULL DEFAULT 0 CHECK (task_count >= 0)
);
-- Stored addresses are normalised (lower case) by the service; lower() here makes the
-- database refuse an address differing only in (ASCII) letter case too.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- AUTOINCREMENT: ids are never reused after a delete, as with PostgreSQL's identity.
CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description TEXT    CHECK (description IS NULL OR length(description) BETWEEN 1 AND 1000),
    completed   INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK (updated_at >= created_at)
);
CREATE INDEX tasks_user_newest ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX tasks_user_completed_newest ON tasks (user_id, completed, created_at DESC, id DESC);

CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at   INTEGER,
    ip         TEXT    CHECK (ip IS NULL OR length(ip) <= 64),
    user_agent TEXT    CHECK (user_agent IS NULL OR length(user_agent) <= 256),
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_active_newest ON sessions (user_id, created_at DESC, id DESC)
    WHERE ended_at IS NULL;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_ended_at ON sessions (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('signup', 'signin', 'signin_failed',
                           'signout', 'session_ended', 'password_changed',
                           'name_changed', 'rate_limited')),
    at         INTEGER NOT NULL,
    ip         TEXT    CHECK (ip IS NULL OR length(ip) <= 64),
    user_agent TEXT    CHECK (user_agent IS NULL OR length(user_agent) <= 256)
);
CREATE INDEX security_events_user_newest ON security_events (user_id, at DESC, id DESC);
CREATE INDEX security_events_at ON security_events (at);

CREATE TABLE rate_limits (
    key TEXT    PRIMARY KEY NOT NULL CHECK (length(key) <= 300),
    tat INTEGER NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);

CREATE TABLE account_throttle (
    key          TEXT    PRIMARY KEY NOT NULL CHECK (length(key) <= 300),
    failures     INTEGER NOT NULL CHECK (failures >= 0),
    locked_until INTEGER,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX account_throttle_expires_at ON account_throttle (expires_at);
