-- store_health()'s probe: one row rewritten to learn whether the database takes writes
-- again after a write failed (a full disk, a read-only file system).
CREATE TABLE store_probe (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at_usec INTEGER NOT NULL,
        pad BLOB
) STRICT;
