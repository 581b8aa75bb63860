-- A device's last fetch is read from fetch_log (its newest row there) instead of being copied
-- onto the device row by every batch of fetch records: that copy rewrote a page of the devices
-- table per phone per batch, a third of what recording a fetch cost.
ALTER TABLE devices DROP COLUMN last_fetch_at;
ALTER TABLE devices DROP COLUMN last_fetch_ip;
ALTER TABLE devices DROP COLUMN last_fetch_ua;
ALTER TABLE devices DROP COLUMN last_fetch_file;
ALTER TABLE devices DROP COLUMN last_fetch_model;
ALTER TABLE devices DROP COLUMN last_fetch_firmware;
