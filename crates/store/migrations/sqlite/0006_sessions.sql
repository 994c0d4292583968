-- Web UI sessions, kept server-side so that logout (and deactivating a user) ends them at once.
-- The browser holds a random session id; only its SHA-256 is stored here, so a copy of the
-- database cannot be replayed as a login. Kept in step with the PostgreSQL file of the same name.

CREATE TABLE ui_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Sent back with every form and htmx request (CSRF); random, per session.
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;
CREATE INDEX ui_sessions_user ON ui_sessions (user_id);
CREATE INDEX ui_sessions_expires ON ui_sessions (expires_at);
