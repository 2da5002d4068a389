-- Accounts and sessions: where a session was opened from, the security events of each
-- account, and the count of tasks each account holds (for MAX_TASKS_PER_USER).

-- The client address (after the trusted-proxy rule) and the User-Agent at signin.
ALTER TABLE sessions
    ADD COLUMN ip text CHECK (ip IS NULL OR char_length(ip) <= 64),
    ADD COLUMN user_agent text CHECK (user_agent IS NULL OR char_length(user_agent) <= 256);

-- A user's active sessions, newest first: the session list, and the oldest ended when a
-- signin goes beyond MAX_SESSIONS_PER_USER. Replaces the index on user_id alone.
CREATE INDEX sessions_user_active_newest ON sessions (user_id, created_at DESC, id DESC)
    WHERE ended_at IS NULL;
DROP INDEX sessions_user_active;
-- Retention: ended sessions by the time they ended (expired ones use sessions_expires_at).
CREATE INDEX sessions_ended_at ON sessions (ended_at) WHERE ended_at IS NOT NULL;

-- Security events, newest first per user; deleted with the account, and after
-- RETENTION_DAYS by the retention task.
CREATE TABLE security_events (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text        NOT NULL CHECK (kind IN ('signup', 'signin', 'signin_failed',
                               'signout', 'session_ended', 'password_changed',
                               'name_changed', 'rate_limited')),
    at         timestamptz NOT NULL,
    ip         text        CHECK (ip IS NULL OR char_length(ip) <= 64),
    user_agent text        CHECK (user_agent IS NULL OR char_length(user_agent) <= 256)
);
CREATE INDEX security_events_user_newest ON security_events (user_id, at DESC, id DESC);
CREATE INDEX security_events_at ON security_events (at);

-- How many tasks each account holds, kept by the statements that create and delete
-- tasks: a creation raises it only while it is under the limit, in the same statement,
-- so concurrent creations can never pass MAX_TASKS_PER_USER.
ALTER TABLE users ADD COLUMN task_count integer NOT NULL DEFAULT 0 CHECK (task_count >= 0);
UPDATE users SET task_count = counted.n
    FROM (SELECT user_id, count(*) AS n FROM tasks GROUP BY user_id) AS counted
    WHERE users.id = counted.user_id;
