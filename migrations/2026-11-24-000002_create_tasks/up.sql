-- Tasks. Every query filters by user_id; the two indexes serve "this user's tasks,
-- newest first", with and without a completion filter.
CREATE TABLE tasks (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description text        CHECK (description IS NULL OR char_length(description) BETWEEN 1 AND 1000),
    completed   boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CHECK (updated_at >= created_at)
);

CREATE INDEX tasks_user_newest ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX tasks_user_completed_newest ON tasks (user_id, completed, created_at DESC, id DESC);
