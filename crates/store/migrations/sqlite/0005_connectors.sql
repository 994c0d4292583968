-- Connectors: scanners pulled through their APIs. Their Records (projects, sites, accounts…)
-- mapped to Products, and the log of Discover and Sync operations. Kept in step with the
-- PostgreSQL file of the same name.

CREATE TABLE connectors (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tool             TEXT NOT NULL CHECK (tool IN ('aws_security_hub', 'burp_suite', 'checkmarx_one', 'dependency_track',
                                                   'probely', 'semgrep', 'sonarqube', 'snyk', 'tenable')),
    label            TEXT NOT NULL,
    location         TEXT NOT NULL,
    -- Sealed (encrypted) JSON of the tool's secrets.
    secrets          TEXT NOT NULL,
    settings         TEXT NOT NULL DEFAULT '{}',
    -- When each scheduled operation is next due (NULL: by hand only). A replica takes a due
    -- schedule by moving it forward in one statement, so each run happens once.
    next_discover_at TEXT,
    next_sync_at     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX connectors_label ON connectors (lower(label));

CREATE TABLE connector_records (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    connector_id        INTEGER NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    external_id         TEXT NOT NULL,
    name                TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('new', 'good', 'ignored', 'stale', 'missing')),
    -- A deleted Product leaves its Records stale (the state follows at the next Discover or Sync).
    product_id          INTEGER REFERENCES products (id) ON DELETE SET NULL,
    metadata            TEXT NOT NULL DEFAULT '{}',
    first_discovered_at TEXT NOT NULL,
    last_discovered_at  TEXT NOT NULL,
    finalized_by        TEXT,
    finalized_at        TEXT,
    syncs               INTEGER NOT NULL DEFAULT 0,
    sync_cursor         TEXT,
    last_synced_at      TEXT,
    UNIQUE (connector_id, external_id)
) STRICT;
CREATE INDEX connector_records_product ON connector_records (product_id) WHERE product_id IS NOT NULL;

CREATE TABLE connector_operations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    connector_id INTEGER NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('discover', 'sync')),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    trigger      TEXT NOT NULL CHECK (trigger IN ('scheduled', 'manual')),
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT,
    duration_ms  INTEGER,
    counts       TEXT NOT NULL DEFAULT '{}',
    error        TEXT
) STRICT;
CREATE INDEX connector_operations_connector ON connector_operations (connector_id, id);
-- At most one operation of a kind runs per connector at a time.
CREATE UNIQUE INDEX connector_operations_running ON connector_operations (connector_id, kind) WHERE status = 'running';
