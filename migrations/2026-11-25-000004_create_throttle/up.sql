-- The counts behind the per-address rate limit and the per-account throttle, shared by
-- every instance on this database. Both are UNLOGGED: they are rewritten on every
-- attempt and worth nothing after a crash (the counts start again, which is safe).

-- Per-address budget: one GCRA theoretical arrival time per key (`ip:203.0.113.7`,
-- `ip:2001:db8:1:2::/64`). A row whose time has passed limits nothing and is pruned.
CREATE UNLOGGED TABLE rate_limits (
    key text        PRIMARY KEY CHECK (char_length(key) <= 300),
    tat timestamptz NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);

-- Per-account throttle: failed password checks for one normalised email.
CREATE UNLOGGED TABLE account_throttle (
    key          text        PRIMARY KEY CHECK (char_length(key) <= 300),
    failures     integer     NOT NULL CHECK (failures >= 0),
    locked_until timestamptz,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX account_throttle_expires_at ON account_throttle (expires_at);
