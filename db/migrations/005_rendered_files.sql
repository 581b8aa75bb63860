-- Phone config files as last rendered, so a freshly started process answers a device's first
-- fetch without rendering. A row is served only while its stamp (template text and origin,
-- render-relevant config, code version) and config_version are the ones the device has now;
-- anything else renders again. The body carries the SIP password in clear, exactly as the
-- phone receives it (like users.sip_password).
CREATE TABLE rendered_files (
  mac            TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,
  template       TEXT NOT NULL,          -- the requested template name ("device", "master", ...)
  stamp          TEXT NOT NULL,          -- equal only when the bytes would be identical (see render-stamp.ts)
  config_version INTEGER NOT NULL,       -- devices.config_version the render was made from
  body           BLOB NOT NULL,
  etag           TEXT NOT NULL,
  content_type   TEXT NOT NULL,
  line_user      TEXT,                   -- SIP auth user of the line in the file (for the fetch record)
  extension      TEXT,
  rendered_at    INTEGER NOT NULL,
  PRIMARY KEY (mac, template)
) STRICT;
