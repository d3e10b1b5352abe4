-- The competition server's schema (Postgres). Times are Unix milliseconds.
CREATE TABLE competition (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    gt_sha256 TEXT NOT NULL,
    public_ids TEXT NOT NULL,
    gt_cxrs BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    bytes BYTEA NOT NULL
);
CREATE TABLE teams (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_submit_at BIGINT
);
CREATE TABLE submissions (
    id BIGSERIAL PRIMARY KEY,
    team_id BIGINT NOT NULL REFERENCES teams(id),
    seg_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    maps_sha256 TEXT REFERENCES blobs(sha256),
    note TEXT,
    submitted_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    problems TEXT,
    public_scores TEXT,
    private_scores TEXT,
    selected BIGINT NOT NULL DEFAULT 0,
    scored_at BIGINT,
    scoring_ms BIGINT
);
CREATE INDEX submissions_team ON submissions(team_id, id);
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    submission_id BIGINT NOT NULL REFERENCES submissions(id),
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_version BIGINT NOT NULL DEFAULT 0,
    lease_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX jobs_state ON jobs(state, id);
