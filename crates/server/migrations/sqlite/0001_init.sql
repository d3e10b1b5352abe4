-- The competition server's schema (SQLite). Times are Unix milliseconds.
CREATE TABLE competition (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    gt_sha256 TEXT NOT NULL,
    public_ids TEXT NOT NULL,
    gt_cxrs INTEGER NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    bytes BLOB NOT NULL
);
CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    token_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_submit_at INTEGER
);
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    seg_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    maps_sha256 TEXT REFERENCES blobs(sha256),
    note TEXT,
    submitted_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    problems TEXT,
    public_scores TEXT,
    private_scores TEXT,
    selected INTEGER NOT NULL DEFAULT 0,
    scored_at INTEGER,
    scoring_ms INTEGER
);
CREATE INDEX submissions_team ON submissions(team_id, id);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_version INTEGER NOT NULL DEFAULT 0,
    lease_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX jobs_state ON jobs(state, id);
