-- Resync results: what deskprov did with each NOTIFY answer, and a time index for the dashboard.
--   ok         the phone answered 2xx; the outbox row is done
--   retry      408/503 (no answer, transport failure): the row stays queued with a backoff
--   gave-up    retryable failure after the last allowed attempt; the row is dropped
--   answered   the phone answered another final status (403, 404, 481 ...); not retried
--   no-target  no sipContact and no config fetch yet: nowhere to send it; the row is dropped
--   invalid    the request could not be built (bad event or user); the row is dropped
ALTER TABLE notify_log ADD COLUMN outcome TEXT;
CREATE INDEX notify_log_at ON notify_log(at);
