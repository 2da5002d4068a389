ALTER TABLE account_throttle DROP COLUMN lock_reported;
ALTER TABLE account_throttle DROP COLUMN pending_until;
ALTER TABLE account_throttle DROP COLUMN pending;
