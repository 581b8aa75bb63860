-- A fetch identical to the device's previous fetch of the same file (same status, config version,
-- address and User-Agent) within a minute of that row is counted on it instead of adding a row:
-- a phone polling every few seconds, or caught in a reboot loop, leaves a row a minute per file.
-- repeats: how many such fetches followed the row's own; last_at: when the last of them was (NULL: none).
ALTER TABLE fetch_log ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fetch_log ADD COLUMN last_at INTEGER;
