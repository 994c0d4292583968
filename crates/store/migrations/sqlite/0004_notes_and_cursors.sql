-- Notes on findings (written here, or comments coming back from a tracker that syncs them),
-- and how far each polled mapping has been reconciled. Kept in step with the PostgreSQL file.

CREATE TABLE finding_notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    at         TEXT NOT NULL,
    author     TEXT NOT NULL,
    text       TEXT NOT NULL,
    -- 'vulnbridge' (written here) or 'tracker' (a comment made in a tracker)
    source     TEXT NOT NULL CHECK (source IN ('vulnbridge', 'tracker')),
    -- For a tracker's comment: the ticket it was made on.
    ticket_id  INTEGER REFERENCES tickets (id) ON DELETE SET NULL
) STRICT;
CREATE INDEX finding_notes_finding ON finding_notes (finding_id, id);

CREATE TABLE tracker_cursors (
    mapping_id   INTEGER PRIMARY KEY REFERENCES tracker_mappings (id) ON DELETE CASCADE,
    polled_until TEXT NOT NULL
) STRICT;
