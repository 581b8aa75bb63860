-- Download auth: every password a phone may still hold after rotations, not just one.
-- A phone's fetch of a rotated config can be lost before it is recorded (a crash within the
-- fetch log's write-behind), and the next rotation then cannot tell whether the phone holds the
-- current password or the previous one. So both stay accepted, newest first, until the phone is
-- known to hold the current one (server/services/download-auth.ts caps the list).
ALTER TABLE device_download_auth ADD COLUMN prev_passwords TEXT NOT NULL DEFAULT '[]';
UPDATE device_download_auth SET prev_passwords = json_array(prev_password) WHERE prev_password IS NOT NULL;
ALTER TABLE device_download_auth DROP COLUMN prev_password;
