-- Mail, as in PostgreSQL's migration of the same name: whether an account's address is
-- proven (0 or 1), the one-time links (only the SHA-256 of each token), the queue of mail
-- to send, and when each account was sent mail (the per-account quota). Instants are
-- microseconds since the epoch.
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0
    CHECK (email_verified IN (0, 1));

CREATE TABLE mail_links (
    digest     BLOB    PRIMARY KEY NOT NULL CHECK (length(digest) = 32),
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('verify_email', 'reset_password',
                           'confirm_email_change')),
    email      TEXT    NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    expires_at INTEGER NOT NULL
);
CREATE INDEX mail_links_user_purpose ON mail_links (user_id, purpose);
CREATE INDEX mail_links_expires_at ON mail_links (expires_at);

CREATE TABLE mail_outbox (
    id            TEXT    PRIMARY KEY NOT NULL,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL CHECK (kind IN ('verify_email', 'reset_password',
                              'confirm_email_change', 'email_changed', 'password_changed',
                              'mfa_disabled', 'passkey_added')),
    recipient     TEXT    NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254),
    sealed        BLOB,
    queued_at     INTEGER NOT NULL,
    due_at        INTEGER NOT NULL,
    failures      INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    claim         TEXT,
    claimed_until INTEGER
);
CREATE INDEX mail_outbox_due_at ON mail_outbox (due_at);
CREATE INDEX mail_outbox_user ON mail_outbox (user_id);

CREATE TABLE mail_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX mail_log_user_at ON mail_log (user_id, at);
CREATE INDEX mail_log_at ON mail_log (at);

-- The security events of contract v4 (mail, two-factor sign-in, passkeys). SQLite cannot
-- change a CHECK: the table is rebuilt with the new one, its rows and indexes kept.
CREATE TABLE security_events_v4 (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN (
    'signup', 'signin', 'signin_failed', 'signout', 'session_ended', 'password_changed',
    'name_changed', 'rate_limited', 'password_reset_requested', 'password_reset',
    'email_verified', 'email_change_requested', 'email_changed', 'mfa_enabled', 'mfa_disabled',
    'mfa_failed', 'recovery_code_used', 'recovery_codes_regenerated', 'passkey_added',
    'passkey_removed')),
    at         INTEGER NOT NULL,
    ip         TEXT    CHECK (ip IS NULL OR length(ip) <= 64),
    user_agent TEXT    CHECK (user_agent IS NULL OR length(user_agent) <= 256)
);
INSERT INTO security_events_v4 (id, user_id, kind, at, ip, user_agent)
    SELECT id, user_id, kind, at, ip, user_agent FROM security_events;
DROP TABLE security_events;
ALTER TABLE security_events_v4 RENAME TO security_events;
CREATE INDEX security_events_user_newest ON security_events (user_id, at DESC, id DESC);
CREATE INDEX security_events_at ON security_events (at);
