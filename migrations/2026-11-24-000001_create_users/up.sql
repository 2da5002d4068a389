-- Accounts. The email is stored trimmed and lower-cased by the service; the unique
-- index on lower(email) makes uniqueness case-insensitive in the database itself, so
-- two concurrent signups with one address cannot both succeed.
CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    password_hash text        NOT NULL CHECK (password_hash <> ''),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
