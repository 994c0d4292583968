-- vulnbridge foundation schema (SQLite). Kept in step with migrations/postgres/0001_foundation.sql:
-- same tables, columns and constraints; only the types differ. STRICT tables make SQLite refuse a
-- value of the wrong type, as PostgreSQL would. Booleans are INTEGER 0/1, timestamps RFC 3339 TEXT
-- (UTC, microseconds: they sort as text), JSON is TEXT.

CREATE TABLE product_types (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    critical    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE products (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT NOT NULL UNIQUE,
    description          TEXT,
    product_type_id      INTEGER REFERENCES product_types (id) ON DELETE SET NULL,
    business_criticality TEXT CHECK (business_criticality IN ('very_high', 'high', 'medium', 'low', 'very_low', 'none')),
    tags                 TEXT NOT NULL DEFAULT '[]',
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
) STRICT;
CREATE INDEX products_product_type ON products (product_type_id);

CREATE TABLE engagements (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id      INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    description     TEXT,
    engagement_type TEXT NOT NULL CHECK (engagement_type IN ('interactive', 'ci_cd')),
    status          TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'on_hold', 'completed', 'cancelled')),
    target_start    TEXT,
    target_end      TEXT,
    version         TEXT,
    build_id        TEXT,
    commit_hash     TEXT,
    branch_tag      TEXT,
    source_code_url TEXT,
    tags            TEXT NOT NULL DEFAULT '[]',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (product_id, name)
) STRICT;

CREATE TABLE tests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    engagement_id INTEGER NOT NULL REFERENCES engagements (id) ON DELETE CASCADE,
    product_id    INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    scan_type     TEXT NOT NULL,
    description   TEXT,
    version       TEXT,
    build_id      TEXT,
    commit_hash   TEXT,
    branch_tag    TEXT,
    environment   TEXT,
    tags          TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
CREATE INDEX tests_engagement ON tests (engagement_id);
CREATE INDEX tests_product ON tests (product_id);

CREATE TABLE finding_groups (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    test_id       INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
    engagement_id INTEGER NOT NULL REFERENCES engagements (id) ON DELETE CASCADE,
    product_id    INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    group_by      TEXT NOT NULL CHECK (group_by IN ('component_name', 'component_name_version', 'file_path', 'vulnerability_id', 'rule', 'title', 'custom')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (test_id, group_by, name)
) STRICT;
CREATE INDEX finding_groups_product ON finding_groups (product_id);

CREATE TABLE findings (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    test_id             INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
    engagement_id       INTEGER NOT NULL, -- = the test's (kept by the store; no FK: checking it per row halves insert speed)
    product_id          INTEGER NOT NULL, -- = the test's; deleting a product cascades through its tests
    finding_group_id    INTEGER REFERENCES finding_groups (id) ON DELETE SET NULL,
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    severity            INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 4),
    status              TEXT NOT NULL CHECK (status IN ('active', 'in_progress', 'awaiting_validation', 'closed', 'false_positive', 'risk_accepted', 'out_of_scope', 'duplicate')),
    verified            INTEGER NOT NULL DEFAULT 0,
    cwe                 INTEGER,
    cwes                TEXT NOT NULL DEFAULT '[]',
    cvss_v3_vector      TEXT,
    cvss_v3_score       REAL,
    cvss_v4_vector      TEXT,
    cvss_v4_score       REAL,
    epss_score          REAL,
    epss_percentile     REAL,
    known_exploited     INTEGER NOT NULL DEFAULT 0,
    severity_justification TEXT,
    publish_date        TEXT,
    component_name      TEXT,
    component_version   TEXT,
    component_purl      TEXT,
    file_path           TEXT,
    line                INTEGER,
    endpoints           TEXT NOT NULL DEFAULT '[]',
    service             TEXT,
    unique_id_from_tool TEXT,
    vuln_id_from_tool   TEXT,
    hash_code           TEXT,
    mitigation          TEXT,
    impact              TEXT,
    steps_to_reproduce  TEXT,
    refs                TEXT,
    param               TEXT,
    payload             TEXT,
    request_response    TEXT NOT NULL DEFAULT '[]',
    fix_available       INTEGER,
    fix_version         TEXT,
    static_finding      INTEGER NOT NULL DEFAULT 0,
    dynamic_finding     INTEGER NOT NULL DEFAULT 0,
    scanner_confidence  TEXT,
    tags                TEXT NOT NULL DEFAULT '[]',
    date                TEXT NOT NULL,
    first_seen          TEXT NOT NULL,
    -- NULL while the finding is listed by its test's latest import (read as tests.last_import_at):
    -- an unchanged reimport then writes no finding row. Set when an import stops listing it.
    last_seen           TEXT,
    mitigated_at        TEXT,
    mitigated_by        TEXT,
    duplicate_of        INTEGER REFERENCES findings (id) ON DELETE SET NULL,
    occurrences         INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;
CREATE INDEX findings_product_severity ON findings (product_id, severity DESC, id DESC);
CREATE INDEX findings_severity ON findings (severity DESC, id DESC);
CREATE INDEX findings_test ON findings (test_id);
CREATE INDEX findings_group ON findings (finding_group_id) WHERE finding_group_id IS NOT NULL;
CREATE INDEX findings_duplicate_of ON findings (duplicate_of) WHERE duplicate_of IS NOT NULL;

CREATE TABLE finding_vulnerability_ids (
    finding_id       INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    vulnerability_id TEXT NOT NULL,
    PRIMARY KEY (finding_id, vulnerability_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX finding_vulnerability_ids_id ON finding_vulnerability_ids (vulnerability_id);

CREATE TABLE finding_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    changes    TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX finding_history_finding ON finding_history (finding_id, id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL,
    display_name  TEXT,
    email         TEXT,
    password_hash TEXT,
    global_role   TEXT CHECK (global_role IN ('reader', 'writer', 'maintainer', 'admin')),
    is_active     INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    last_login_at TEXT
) STRICT;
CREATE UNIQUE INDEX users_username ON users (lower(username));

CREATE TABLE product_members (
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('reader', 'writer', 'maintainer', 'admin')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (product_id, user_id)
) STRICT;
CREATE INDEX product_members_user ON product_members (user_id);

CREATE TABLE api_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    token_hash     TEXT NOT NULL UNIQUE,
    display_prefix TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_used_at   TEXT,
    expires_at     TEXT
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The durable job queue: a lease (locked_by, locked_until) rather than a row lock held while a
-- job runs, because tracker calls may wait minutes on rate limits, and SQLite cannot hold a
-- write transaction that long without blocking every other writer.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    queue        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    dedupe_key   TEXT,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),
    priority     INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at       TEXT NOT NULL,
    locked_by    TEXT,
    locked_until TEXT,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    finished_at  TEXT
) STRICT;
CREATE INDEX jobs_claim ON jobs (queue, status, priority DESC, run_at, id);
CREATE INDEX jobs_finished ON jobs (status, finished_at);
-- At most one queued copy of a deduplicated job.
CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key) WHERE status = 'queued';
