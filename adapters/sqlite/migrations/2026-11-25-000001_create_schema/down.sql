DROP TABLE account_throttle;
DROP TABLE rate_limits;
DROP TABLE security_events;
DROP TABLE sessions;
DROP TABLE tasks;
DROP TABLE users;
