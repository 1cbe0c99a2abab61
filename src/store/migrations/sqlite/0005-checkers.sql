-- Checkers and interactors (testlib's conventions), per-test points and a score. A
-- checker or interactor whose language_id is 0 is none; its source is a BLOB like the
-- submission's.
ALTER TABLE submissions ADD COLUMN checker_source_code BLOB;
ALTER TABLE submissions ADD COLUMN checker_language_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN checker_cpu_time_limit_usec INTEGER NOT NULL DEFAULT 5000000;
ALTER TABLE submissions ADD COLUMN checker_wall_time_limit_usec INTEGER NOT NULL DEFAULT 10000000;
ALTER TABLE submissions ADD COLUMN checker_memory_limit_kib INTEGER NOT NULL DEFAULT 256000;
ALTER TABLE submissions ADD COLUMN interactor_source_code BLOB;
ALTER TABLE submissions ADD COLUMN interactor_language_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN interactor_cpu_time_limit_usec INTEGER NOT NULL DEFAULT 5000000;
ALTER TABLE submissions ADD COLUMN interactor_wall_time_limit_usec INTEGER NOT NULL DEFAULT 10000000;
ALTER TABLE submissions ADD COLUMN interactor_memory_limit_kib INTEGER NOT NULL DEFAULT 256000;
-- NULL until judged (and for the submissions judged before this migration).
ALTER TABLE submissions ADD COLUMN score REAL;
ALTER TABLE submission_tests ADD COLUMN points REAL;
