-- The worker registry: each worker pool's record (its counters and the languages it
-- serves, as text the model defines), refreshed by its heartbeat.
CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        info TEXT NOT NULL,
        heartbeat_at_usec INTEGER NOT NULL
);
