-- store_health()'s probe: one row rewritten to learn whether the database takes writes
-- again after a write failed (a full disk, a read-only standby).
CREATE TABLE store_probe (
        id integer PRIMARY KEY CHECK (id = 1),
        at timestamptz NOT NULL,
        pad bytea
);
