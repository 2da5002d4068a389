ALTER TABLE users DROP COLUMN task_count;
DROP TABLE security_events;
DROP INDEX sessions_ended_at;
CREATE INDEX sessions_user_active ON sessions (user_id) WHERE ended_at IS NULL;
DROP INDEX sessions_user_active_newest;
ALTER TABLE sessions DROP COLUMN user_agent, DROP COLUMN ip;
