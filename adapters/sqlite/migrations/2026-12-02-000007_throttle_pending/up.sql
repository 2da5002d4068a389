-- Only failed password checks count against an account. Attempts being checked are
-- pending: they hold later attempts back (never refuse them) until the first failures
-- are known. A pending mark stops counting at pending_until (microseconds since the
-- epoch), so that a process that stopped mid-check holds nothing back for long.
-- lock_reported (0 or 1): the current lock's first refusal was recorded as a security
-- event (one event per wait).
ALTER TABLE account_throttle ADD COLUMN pending INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0);
ALTER TABLE account_throttle ADD COLUMN pending_until INTEGER;
ALTER TABLE account_throttle ADD COLUMN lock_reported INTEGER NOT NULL DEFAULT 0
    CHECK (lock_reported IN (0, 1));
