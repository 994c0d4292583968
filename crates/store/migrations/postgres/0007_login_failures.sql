-- Failed web logins per username (as typed, lower-cased; known or not), for throttling
-- password guessing: after too many failures in a window, that username's logins are refused
-- until the window ends (see store::sessions::LoginThrottle). In the database rather than in
-- memory so that every replica counts the same failures. Kept in step with the SQLite file of
-- the same name.

CREATE TABLE login_failures (
    username     TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_window ON login_failures (window_start);
