-- restore-doctor case history, SQLite schema version 2: what `watch` sees beside the log.
-- duration_ms: how long the restore tool ran (milliseconds), NULL when not measured.
-- usb_events: the USB timeline during the attempt, a JSON array of
--   {"at": RFC 3339 UTC, "kind", "mode", "text", "product_type", "ecid", "alarm"}
--   (ECIDs stored raw like the device table; redacted on output). NULL: USB not watched.
-- interrupted: 1 when the attempt was stopped (Ctrl-C, a kill signal), not failed by the device.
ALTER TABLE attempt ADD COLUMN duration_ms INTEGER;
ALTER TABLE attempt ADD COLUMN usb_events TEXT;
ALTER TABLE attempt ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
