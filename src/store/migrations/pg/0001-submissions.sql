-- Submissions and their test cases (PostgreSQL). Every Bytes field of the model is a
-- bytea: plain bytes, NULL apart from empty. Times are microseconds, sizes KiB.
CREATE TABLE submissions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- breaks ties of created_at
        token uuid NOT NULL UNIQUE,

        -- input
        source_code bytea,
        language_id integer NOT NULL,
        stdin bytea,
        expected_output bytea,
        compiler_options bytea,
        command_line_arguments bytea,
        additional_files bytea,
        callback_url bytea,
        number_of_runs integer NOT NULL,
        cpu_time_limit_usec bigint NOT NULL,
        cpu_extra_time_usec bigint NOT NULL,
        wall_time_limit_usec bigint NOT NULL,
        memory_limit_kib bigint NOT NULL,
        stack_limit_kib bigint NOT NULL,
        max_processes_and_or_threads integer NOT NULL,
        enable_per_process_and_thread_time_limit boolean NOT NULL,
        enable_per_process_and_thread_memory_limit boolean NOT NULL,
        max_file_size_kib bigint NOT NULL,
        redirect_stderr_to_stdout boolean NOT NULL,
        enable_network boolean NOT NULL,
        compare integer NOT NULL,
        tolerance double precision NOT NULL,
        stop_on_failure boolean NOT NULL,

        -- result
        status_id integer NOT NULL DEFAULT 1 CHECK (status_id BETWEEN 1 AND 14),
        stdout bytea,
        stderr bytea,
        compile_output bytea,
        message bytea,
        time_usec bigint,
        wall_time_usec bigint,
        memory_kib bigint,
        exit_code integer,
        exit_signal integer,
        memory_limit_exceeded boolean NOT NULL DEFAULT false,

        -- bookkeeping
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        finished_at timestamptz,
        attempts integer NOT NULL DEFAULT 0
);

-- GET /submissions: newest first.
CREATE INDEX submissions_by_created_at ON submissions (created_at, id);
-- Re-queued at start-up: only the few rows not final yet.
CREATE INDEX submissions_unfinished ON submissions (created_at, id) WHERE status_id IN (1, 2);

-- The many-test-cases extension: one row per test case, in order.
CREATE TABLE submission_tests (
        submission_id bigint NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
        ordinal integer NOT NULL, -- 0, 1, 2...

        -- input
        stdin bytea,
        expected_output bytea,

        -- result
        status_id integer NOT NULL DEFAULT 1,
        stdout bytea,
        stderr bytea,
        message bytea,
        time_usec bigint,
        wall_time_usec bigint,
        memory_kib bigint,
        exit_code integer,
        exit_signal integer,
        memory_limit_exceeded boolean NOT NULL DEFAULT false,

        PRIMARY KEY (submission_id, ordinal)
);
