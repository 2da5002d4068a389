DROP TABLE account_throttle;
DROP TABLE rate_limits;
