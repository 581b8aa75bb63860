-- Rows a phone worker caches (server/cluster/worker.ts): the stores that write device and
-- download-auth rows note each change here, after the statement that makes it and in the same
-- transaction when there is one. A worker reads the notes after every commit by another
-- connection and drops what they name ('*': everything). The primary trims the table; a worker
-- that finds a gap drops everything.
CREATE TABLE device_changes (
  seq INTEGER PRIMARY KEY,
  mac TEXT NOT NULL
) STRICT;
