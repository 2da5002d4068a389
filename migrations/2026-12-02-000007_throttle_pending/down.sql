ALTER TABLE account_throttle
    DROP COLUMN lock_reported,
    DROP COLUMN pending_until,
    DROP COLUMN pending;
