DROP TABLE mail_log;
DROP TABLE mail_outbox;
DROP TABLE mail_links;
ALTER TABLE users DROP COLUMN email_verified;
