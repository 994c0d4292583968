-- Integrators: instances, mappings and assignments; tickets with their changelog; the
-- per-mapping error table; rate-limit slots and blocks shared by every process pushing to an
-- instance; webhook deliveries already applied. Kept in step with the PostgreSQL file of the same name.

-- Small key/value facts about this installation (its id, written once).
CREATE TABLE installation (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE integration_instances (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    vendor         TEXT NOT NULL CHECK (vendor IN ('github', 'gitlab', 'jira', 'azure_devops', 'servicenow')),
    label          TEXT NOT NULL,
    location       TEXT NOT NULL,
    -- Sealed (encrypted) JSON of the credentials, and the sealed webhook secret.
    credentials    TEXT NOT NULL,
    webhook_secret TEXT NOT NULL,
    settings       TEXT NOT NULL DEFAULT '{}',
    -- The tracker account of the credentials, learnt by "check connection".
    account        TEXT,
    -- Set when the tracker said "stop until" (Retry-After, nothing remaining): every process
    -- waits until then.
    blocked_until  TEXT,
    blocked_reason TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX integration_instances_label ON integration_instances (lower(label));

CREATE TABLE tracker_mappings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id INTEGER NOT NULL REFERENCES integration_instances (id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    config      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX tracker_mappings_label ON tracker_mappings (instance_id, lower(label));

CREATE TABLE tracker_assignments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    mapping_id    INTEGER NOT NULL REFERENCES tracker_mappings (id) ON DELETE CASCADE,
    product_id    INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    engagement_id INTEGER REFERENCES engagements (id) ON DELETE CASCADE,
    push_mode     TEXT NOT NULL CHECK (push_mode IN ('explicit', 'link_new', 'update_existing', 'link_new_and_update')),
    filters       TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX tracker_assignments_product ON tracker_assignments (mapping_id, product_id) WHERE engagement_id IS NULL;
CREATE UNIQUE INDEX tracker_assignments_engagement ON tracker_assignments (mapping_id, engagement_id) WHERE engagement_id IS NOT NULL;
CREATE INDEX tracker_assignments_by_product ON tracker_assignments (product_id);

CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id    INTEGER NOT NULL REFERENCES integration_instances (id) ON DELETE CASCADE,
    mapping_id     INTEGER NOT NULL REFERENCES tracker_mappings (id) ON DELETE CASCADE,
    vendor         TEXT NOT NULL,
    finding_id     INTEGER REFERENCES findings (id) ON DELETE CASCADE,
    group_id       INTEGER REFERENCES finding_groups (id) ON DELETE CASCADE,
    link_state     TEXT NOT NULL CHECK (link_state IN ('creating', 'linked', 'deleted')),
    remote_id      TEXT,
    remote_key     TEXT,
    url            TEXT,
    remote_data    TEXT NOT NULL DEFAULT '{}',
    linked_at      TEXT,
    last_pushed_at TEXT,
    remote_state   TEXT,
    fingerprint    TEXT,
    -- The fields the ticket shows as far as we know (what we sent, plus tracker changes
    -- applied), and the fields of a push in flight: both make webhook echoes recognisable.
    last_sent      TEXT,
    sending        TEXT,
    -- The job pushing this ticket now: a ticket is pushed by one job at a time (the job's
    -- lease says whether that push is still alive).
    push_job       INTEGER,
    -- When the create now in doubt started: a marker search looks from here.
    creating_since TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CHECK ((finding_id IS NULL) <> (group_id IS NULL))
) STRICT;
-- Exactly one ticket per finding or group per mapping.
CREATE UNIQUE INDEX tickets_finding ON tickets (mapping_id, finding_id) WHERE finding_id IS NOT NULL;
CREATE UNIQUE INDEX tickets_group ON tickets (mapping_id, group_id) WHERE group_id IS NOT NULL;
CREATE UNIQUE INDEX tickets_remote ON tickets (instance_id, remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX tickets_by_finding ON tickets (finding_id) WHERE finding_id IS NOT NULL;
CREATE INDEX tickets_by_group ON tickets (group_id) WHERE group_id IS NOT NULL;

CREATE TABLE ticket_changes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    at        TEXT NOT NULL,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    actor     TEXT NOT NULL
) STRICT;
CREATE INDEX ticket_changes_ticket ON ticket_changes (ticket_id, id);

-- The error table of each mapping: one row per finding or group whose push fails, until a
-- push of it succeeds.
CREATE TABLE push_errors (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    mapping_id  INTEGER NOT NULL REFERENCES tracker_mappings (id) ON DELETE CASCADE,
    finding_id  INTEGER REFERENCES findings (id) ON DELETE CASCADE,
    group_id    INTEGER REFERENCES finding_groups (id) ON DELETE CASCADE,
    first_at    TEXT NOT NULL,
    last_at     TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    code        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    -- When the queue tries again on its own; NULL when it waits for a person.
    retry_at    TEXT,
    CHECK ((finding_id IS NULL) <> (group_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX push_errors_finding ON push_errors (mapping_id, finding_id) WHERE finding_id IS NOT NULL;
CREATE UNIQUE INDEX push_errors_group ON push_errors (mapping_id, group_id) WHERE group_id IS NOT NULL;

-- Requests made to an instance, counted in slots of a bucket's window (a sliding window kept
-- to a few rows): shared by every process, so replicas together stay under the tracker's limits.
CREATE TABLE rate_slots (
    instance_id INTEGER NOT NULL REFERENCES integration_instances (id) ON DELETE CASCADE,
    bucket      TEXT NOT NULL,
    slot_start  TEXT NOT NULL,
    used        INTEGER NOT NULL,
    PRIMARY KEY (instance_id, bucket, slot_start)
) STRICT;

-- Webhook deliveries already applied (trackers retry deliveries; one is applied once).
CREATE TABLE webhook_deliveries (
    instance_id INTEGER NOT NULL REFERENCES integration_instances (id) ON DELETE CASCADE,
    delivery    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (instance_id, delivery)
) STRICT;
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
