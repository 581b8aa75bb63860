-- deskprov initial schema. Times are integer milliseconds since the Unix epoch (UTC).
-- Migrations are append-only: never edit a released file, add the next number.

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
  extension        TEXT PRIMARY KEY,
  display_name     TEXT NOT NULL,
  sip_username     TEXT NOT NULL,
  sip_password     TEXT NOT NULL,          -- phones need it in clear in their config
  pin_hash         TEXT,                    -- scrypt, never reversible
  hotdesk_allowed  INTEGER NOT NULL DEFAULT 1 CHECK (hotdesk_allowed IN (0, 1)),
  email            TEXT,
  pin_failures     INTEGER NOT NULL DEFAULT 0,
  pin_locked_until INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE locations (
  id                INTEGER PRIMARY KEY,
  name              TEXT NOT NULL UNIQUE,
  address           TEXT,
  emergency_numbers TEXT NOT NULL DEFAULT '["911"]',   -- JSON array of dial strings
  callback_number   TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE devices (
  mac              TEXT PRIMARY KEY CHECK (length(mac) = 12),
  vendor           TEXT NOT NULL,
  model            TEXT,
  label            TEXT,
  owner_extension  TEXT REFERENCES users(extension),
  hotdesk_enabled  INTEGER NOT NULL DEFAULT 0 CHECK (hotdesk_enabled IN (0, 1)),
  location_id      INTEGER REFERENCES locations(id),
  sip_contact      TEXT,
  session_timeout  TEXT,                   -- per-device override of hotdesk.sessionTimeout
  config_version   INTEGER NOT NULL DEFAULT 1,   -- bumped by every change that affects what the phone should get
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  -- last config fetch, denormalised for the device list
  last_fetch_at      INTEGER,
  last_fetch_ip      TEXT,
  last_fetch_ua      TEXT,
  last_fetch_file    TEXT,
  last_fetch_model   TEXT,
  last_fetch_firmware TEXT,
  fetched_version    INTEGER,              -- config_version served by the last device-file fetch
  fetched_line_user  TEXT,                 -- SIP auth user of the line the phone last fetched (for NOTIFY digest)
  fetched_extension  TEXT
) STRICT;
CREATE INDEX devices_owner ON devices(owner_extension);
CREATE INDEX devices_location ON devices(location_id);
CREATE INDEX devices_vendor ON devices(vendor, model);

CREATE TABLE sessions (
  id          INTEGER PRIMARY KEY,
  mac         TEXT NOT NULL,
  extension   TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  ends_at     INTEGER,                      -- null: no timeout
  ended_at    INTEGER,
  end_reason  TEXT CHECK (end_reason IN ('logout','timeout','daily','displaced','admin','owner','user-deleted','device-deleted')),
  CHECK ((ended_at IS NULL) = (end_reason IS NULL))
) STRICT;
CREATE UNIQUE INDEX sessions_one_active_per_device ON sessions(mac) WHERE ended_at IS NULL;
CREATE INDEX sessions_active_by_user ON sessions(extension) WHERE ended_at IS NULL;
CREATE INDEX sessions_active_by_end ON sessions(ends_at) WHERE ended_at IS NULL;
CREATE INDEX sessions_history ON sessions(started_at);

CREATE TABLE fetch_log (
  id             INTEGER PRIMARY KEY,
  mac            TEXT NOT NULL,
  at             INTEGER NOT NULL,
  ip             TEXT NOT NULL,
  user_agent     TEXT,
  model          TEXT,
  firmware       TEXT,
  file           TEXT NOT NULL,
  status         INTEGER NOT NULL,
  config_version INTEGER
) STRICT;
CREATE INDEX fetch_log_by_device ON fetch_log(mac, id);

CREATE TABLE device_files (
  mac        TEXT NOT NULL,
  slot       TEXT NOT NULL,                -- "phone.cfg", "directory.xml", "app.log" ...
  content    BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (mac, slot)
) STRICT;

-- Operator template overrides, every version kept. body NULL = "back to the shipped default".
CREATE TABLE templates (
  vendor     TEXT NOT NULL,
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  body       TEXT,
  author     TEXT,
  comment    TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (vendor, name, version)
) STRICT;

-- Durable resync queue: at most one pending NOTIFY per device (duplicates collapse).
CREATE TABLE outbox (
  mac         TEXT PRIMARY KEY,
  reason      TEXT NOT NULL,
  queued_at   INTEGER NOT NULL,
  not_before  INTEGER NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox(not_before);

CREATE TABLE notify_log (
  id            INTEGER PRIMARY KEY,
  mac           TEXT NOT NULL,
  at            INTEGER NOT NULL,
  event         TEXT NOT NULL,
  target        TEXT NOT NULL,
  status        INTEGER NOT NULL,
  reason        TEXT NOT NULL,
  transmissions INTEGER NOT NULL,
  elapsed_ms    INTEGER NOT NULL,
  config_version INTEGER
) STRICT;
CREATE INDEX notify_log_by_device ON notify_log(mac, id);
