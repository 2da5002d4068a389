DELETE FROM security_events WHERE kind NOT IN ('signup', 'signin', 'signin_failed',
    'signout', 'session_ended', 'password_changed', 'name_changed', 'rate_limited');
ALTER TABLE security_events DROP CONSTRAINT security_events_kind_check;
ALTER TABLE security_events ADD CONSTRAINT security_events_kind_check CHECK (kind IN (
    'signup', 'signin', 'signin_failed', 'signout', 'session_ended', 'password_changed',
    'name_changed', 'rate_limited'));
DROP TABLE mail_log;
DROP TABLE mail_outbox;
DROP TABLE mail_links;
ALTER TABLE users DROP COLUMN email_verified;
