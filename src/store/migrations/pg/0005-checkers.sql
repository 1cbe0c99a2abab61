-- Checkers and interactors (testlib's conventions), per-test points and a score. A
-- checker or interactor whose language_id is 0 is none.
ALTER TABLE submissions
        ADD COLUMN checker_source_code bytea,
        ADD COLUMN checker_language_id integer NOT NULL DEFAULT 0,
        ADD COLUMN checker_cpu_time_limit_usec bigint NOT NULL DEFAULT 5000000,
        ADD COLUMN checker_wall_time_limit_usec bigint NOT NULL DEFAULT 10000000,
        ADD COLUMN checker_memory_limit_kib bigint NOT NULL DEFAULT 256000,
        ADD COLUMN interactor_source_code bytea,
        ADD COLUMN interactor_language_id integer NOT NULL DEFAULT 0,
        ADD COLUMN interactor_cpu_time_limit_usec bigint NOT NULL DEFAULT 5000000,
        ADD COLUMN interactor_wall_time_limit_usec bigint NOT NULL DEFAULT 10000000,
        ADD COLUMN interactor_memory_limit_kib bigint NOT NULL DEFAULT 256000,
        -- NULL until judged (and for the submissions judged before this migration)
        ADD COLUMN score double precision;
ALTER TABLE submission_tests ADD COLUMN points double precision;
