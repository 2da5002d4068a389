-- Sessions: one per issued token (id = the token's jti). The guard reads one by its
-- primary key on every request; signout ends one, or all active ones of a user.
CREATE TABLE sessions (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    ended_at   timestamptz,
    CHECK (expires_at > created_at)
);

CREATE INDEX sessions_user_active ON sessions (user_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
