-- Which password of an account is in force: moved on by every password change (never by
-- a re-hash of the same password). A signin stores its session, and a password change
-- commits, only while the version its check read is still the account's.
ALTER TABLE users ADD COLUMN credential_version bigint NOT NULL DEFAULT 0;
