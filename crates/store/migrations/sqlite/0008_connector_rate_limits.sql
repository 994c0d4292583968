-- Connectors' rate budgets, shared by every process pulling from one tool, as the trackers'
-- are (rate_slots and integration_instances.blocked_until): replicas together stay under the
-- tool's documented limits, and a tool's "wait" (Retry-After, 429) holds every process.
-- Kept in step with the PostgreSQL file of the same name.

ALTER TABLE connectors ADD COLUMN blocked_until TEXT;
ALTER TABLE connectors ADD COLUMN blocked_reason TEXT;

CREATE TABLE connector_rate_slots (
    connector_id INTEGER NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    bucket       TEXT NOT NULL,
    slot_start   TEXT NOT NULL,
    used         INTEGER NOT NULL,
    PRIMARY KEY (connector_id, bucket, slot_start)
) STRICT;
