-- restore-doctor case history, PostgreSQL schema version 2: what `watch` sees beside the log.
-- duration_ms: how long the restore tool ran (milliseconds), NULL when not measured.
-- usb_events: the USB timeline during the attempt, a JSON array (as TEXT, like SQLite) of
--   {"at": RFC 3339 UTC, "kind", "mode", "text", "product_type", "ecid", "alarm"}
--   (ECIDs stored raw like the device table; redacted on output). NULL: USB not watched.
-- interrupted: TRUE when the attempt was stopped (Ctrl-C, a kill signal), not failed by the device.
-- Adding columns with a constant default is a catalog-only change: no table rewrite.
ALTER TABLE attempt ADD COLUMN duration_ms BIGINT;
ALTER TABLE attempt ADD COLUMN usb_events TEXT;
ALTER TABLE attempt ADD COLUMN interrupted BOOLEAN NOT NULL DEFAULT FALSE;
