-- Mail: whether an account's address is proven, the one-time links (only the SHA-256 of
-- each token), the queue of mail to send, and when each account was sent mail (the
-- per-account quota). All of an account's rows go with it.
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;

CREATE TABLE mail_links (
    digest     bytea       PRIMARY KEY CHECK (octet_length(digest) = 32),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('verify_email', 'reset_password',
                               'confirm_email_change')),
    email      text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    expires_at timestamptz NOT NULL
);
CREATE INDEX mail_links_user_purpose ON mail_links (user_id, purpose);
CREATE INDEX mail_links_expires_at ON mail_links (expires_at);

-- A mail is due at due_at; a sender holds it while claimed_until is ahead. sealed is the
-- link's token encrypted under a key derived from the token secret (NULL for notices).
CREATE TABLE mail_outbox (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text        NOT NULL CHECK (kind IN ('verify_email', 'reset_password',
                                  'confirm_email_change', 'email_changed', 'password_changed',
                                  'mfa_disabled', 'passkey_added')),
    recipient     text        NOT NULL CHECK (char_length(recipient) BETWEEN 3 AND 254),
    sealed        bytea,
    queued_at     timestamptz NOT NULL,
    due_at        timestamptz NOT NULL,
    failures      integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
    claim         uuid,
    claimed_until timestamptz
);
CREATE INDEX mail_outbox_due_at ON mail_outbox (due_at);
CREATE INDEX mail_outbox_user ON mail_outbox (user_id);

CREATE TABLE mail_log (
    id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    text        NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX mail_log_user_at ON mail_log (user_id, at);
CREATE INDEX mail_log_at ON mail_log (at);

-- The security events of contract v4 (mail, two-factor sign-in, passkeys).
ALTER TABLE security_events DROP CONSTRAINT security_events_kind_check;
ALTER TABLE security_events ADD CONSTRAINT security_events_kind_check CHECK (kind IN (
    'signup', 'signin', 'signin_failed', 'signout', 'session_ended', 'password_changed',
    'name_changed', 'rate_limited', 'password_reset_requested', 'password_reset',
    'email_verified', 'email_change_requested', 'email_changed', 'mfa_enabled', 'mfa_disabled',
    'mfa_failed', 'recovery_code_used', 'recovery_codes_regenerated', 'passkey_added',
    'passkey_removed'));
