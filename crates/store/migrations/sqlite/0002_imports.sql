-- Report imports: what each import or reimport did, and the fingerprint that lets an
-- unchanged reimport skip a finding without reading it.

-- Hash of the fields the scanner owns (EPSS, fix, occurrences, endpoints…) as last imported:
-- equal on reimport means nothing to update.
ALTER TABLE findings ADD COLUMN scanner_fingerprint TEXT;

-- When the test's latest import finished: the last_seen of every finding it listed.
ALTER TABLE tests ADD COLUMN last_import_at TEXT;

CREATE TABLE test_imports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    test_id       INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
    engagement_id INTEGER NOT NULL REFERENCES engagements (id) ON DELETE CASCADE,
    product_id    INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('import', 'reimport')),
    scan_type     TEXT NOT NULL,
    file_name     TEXT,
    actor         TEXT NOT NULL,
    options       TEXT NOT NULL DEFAULT '{}',
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL,
    -- Per outcome (created, duplicate, closed, reactivated, updated, untouched): the count,
    -- and the finding ids as [first, last] ranges (an unchanged reimport of 100,000 findings
    -- is a few ranges, not 100,000 numbers).
    counts        TEXT NOT NULL,
    findings      TEXT NOT NULL,
    statistics    TEXT NOT NULL
) STRICT;
CREATE INDEX test_imports_test ON test_imports (test_id, id);
CREATE INDEX test_imports_product ON test_imports (product_id, id);
