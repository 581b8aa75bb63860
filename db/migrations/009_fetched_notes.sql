-- (008 is retired: it was repeat counting on the fetch log, since reverted. A database that
-- ran it keeps its version row and two unused fetch_log columns, so the number is not reused.)
-- A device change note that says only "this phone fetched a new config version": the row's
-- fetched_version moved and nothing a render depends on did. A phone worker re-reads the
-- device's head for it but keeps the device's cached renders and download-auth row, which a
-- full note drops. Every fetch at a new version writes one, so after a change that reaches every
-- phone (a template save) there is one per phone: treated as a full note, each sent that phone's
-- next files to SQLite again.
ALTER TABLE device_changes ADD COLUMN fetched INTEGER NOT NULL DEFAULT 0;
