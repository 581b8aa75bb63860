-- Security: per-device download authentication and allowlists, named admin API tokens, and an
-- append-only audit log.

-- One row per device that has download credentials or its own security settings.
-- password is stored in clear like users.sip_password: the phone must be told it in its config.
CREATE TABLE device_download_auth (
  mac            TEXT PRIMARY KEY REFERENCES devices(mac) ON DELETE CASCADE,
  mode           TEXT CHECK (mode IN ('off', 'provision', 'enforce')),   -- NULL: the site default
  username       TEXT NOT NULL,
  password       TEXT NOT NULL,
  prev_password  TEXT,                   -- still accepted until the phone fetched the rotated one
  creds_version  INTEGER NOT NULL,       -- config_version of the first config carrying these credentials
  allowlist      TEXT,                   -- JSON array of CIDRs; NULL: no per-device restriction
  open_until     INTEGER,                -- enrolment window: enforce is relaxed until then
  updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE api_tokens (
  name         TEXT PRIMARY KEY,
  role         TEXT NOT NULL CHECK (role IN ('admin', 'pbx', 'readonly')),
  token_hash   TEXT NOT NULL UNIQUE,      -- SHA-256 of the 256-bit random token
  created_at   INTEGER NOT NULL,
  rotated_at   INTEGER,
  last_used_at INTEGER
) STRICT;

CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  actor   TEXT NOT NULL,
  role    TEXT NOT NULL,
  action  TEXT NOT NULL,
  target  TEXT NOT NULL,
  before  TEXT,                           -- JSON, secrets masked
  after   TEXT
) STRICT;
CREATE INDEX audit_log_by_target ON audit_log(target, id);
CREATE INDEX audit_log_by_actor ON audit_log(actor, id);
CREATE INDEX audit_log_by_at ON audit_log(at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
