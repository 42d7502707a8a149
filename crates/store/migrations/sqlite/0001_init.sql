-- restore-doctor case history, SQLite schema version 1.
-- Times are Unix milliseconds (UTC). Booleans are 0/1.
CREATE TABLE device (
    id            INTEGER PRIMARY KEY,
    label         TEXT    NOT NULL,            -- what the person typed (name or product type)
    product_type  TEXT,                        -- resolved through the knowledge base, when known
    name          TEXT,
    ecid          TEXT,
    serial        TEXT,
    imei          TEXT,
    created_at    INTEGER NOT NULL
);
CREATE TABLE station (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);
CREATE TABLE cable (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);
CREATE TABLE port (
    id          INTEGER PRIMARY KEY,
    station_id  INTEGER NOT NULL REFERENCES station(id),
    name        TEXT    NOT NULL,
    UNIQUE (station_id, name)
);
CREATE TABLE cases (
    id            INTEGER PRIMARY KEY,
    device_id     INTEGER NOT NULL REFERENCES device(id),
    ticket        TEXT,
    customer      TEXT,
    error_code    INTEGER,
    opened_at     INTEGER NOT NULL,
    closed_at     INTEGER,
    closed_cause  TEXT,
    verdict       TEXT                          -- JSON of the latest recommendation
);
CREATE INDEX cases_open ON cases(closed_at);
CREATE TABLE attempt (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id),
    device_id    INTEGER NOT NULL REFERENCES device(id),
    at           INTEGER NOT NULL,
    station_id   INTEGER NOT NULL REFERENCES station(id),
    host_os      TEXT,
    app_version  TEXT,
    cable_id     INTEGER REFERENCES cable(id),
    port_id      INTEGER REFERENCES port(id),
    hub          INTEGER NOT NULL DEFAULT 0,
    tool         TEXT,
    mode         TEXT,
    kind         TEXT,
    ok           INTEGER NOT NULL,
    error_code   INTEGER,
    stage        TEXT,
    operation    INTEGER,
    checkpoint   TEXT,
    progress     INTEGER,
    log          BLOB,
    log_sha256   TEXT
);
CREATE INDEX attempt_case ON attempt(case_id);
CREATE TABLE step (
    id       INTEGER PRIMARY KEY,
    case_id  INTEGER NOT NULL REFERENCES cases(id),
    at       INTEGER NOT NULL,
    action   TEXT    NOT NULL,
    outcome  TEXT    NOT NULL,
    who      TEXT
);
CREATE INDEX step_case ON step(case_id);
CREATE TABLE note (
    id       INTEGER PRIMARY KEY,
    case_id  INTEGER NOT NULL REFERENCES cases(id),
    at       INTEGER NOT NULL,
    author   TEXT,
    body     TEXT    NOT NULL
);
CREATE INDEX note_case ON note(case_id);
CREATE TABLE recommendation (
    id             INTEGER PRIMARY KEY,
    case_id        INTEGER NOT NULL REFERENCES cases(id),
    at             INTEGER NOT NULL,
    next_action    TEXT,
    verdict_cause  TEXT,
    body           TEXT    NOT NULL             -- the full diagnose JSON
);
CREATE INDEX recommendation_case ON recommendation(case_id);
