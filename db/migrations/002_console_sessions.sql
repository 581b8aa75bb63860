-- Admin web console sign-ins. Only a SHA-256 hash of the session id (the cookie value) is
-- stored, so a copy of the database cannot be used to sign in. Times are epoch milliseconds.
CREATE TABLE console_sessions (
  id_hash    TEXT PRIMARY KEY,
  actor_name TEXT NOT NULL,
  actor_role TEXT NOT NULL CHECK (actor_role IN ('admin', 'pbx', 'readonly')),
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);
