-- Only failed password checks count against an account. Attempts being checked are
-- pending: they hold later attempts back (never refuse them) until the first failures
-- are known. A pending mark stops counting at pending_until, so that an instance that
-- stopped mid-check holds nothing back for long. lock_reported: the current lock's first
-- refusal was recorded as a security event (one event per wait).
ALTER TABLE account_throttle
    ADD COLUMN pending       integer     NOT NULL DEFAULT 0 CHECK (pending >= 0),
    ADD COLUMN pending_until timestamptz,
    ADD COLUMN lock_reported boolean     NOT NULL DEFAULT false;
