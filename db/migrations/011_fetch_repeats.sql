-- Repeated fetches folded into one fetch-log row (server/services/fetch-folds.ts): the same file
-- asked again with the same answer within provisioning.fetchLogRepeatWindow adds no row; the
-- first fetch's row counts the others (repeat_count) and keeps the newest one's time
-- (last_repeat_at, null while there is none). Adding columns rewrites nothing, however long the
-- log. (Not the names the retired 008 used: a database that ran it has those two already.)
ALTER TABLE fetch_log ADD COLUMN repeat_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fetch_log ADD COLUMN last_repeat_at INTEGER;
