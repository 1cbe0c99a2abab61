-- The worker registry: each worker pool's record (its counters and the languages it
-- serves, as text the model defines), refreshed by its heartbeat. The heartbeat time is
-- the database server's clock, the one clock every node of a cluster shares.
CREATE TABLE workers (
        id text PRIMARY KEY,
        info text NOT NULL,
        heartbeat_at timestamptz NOT NULL
);
