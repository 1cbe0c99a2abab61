-- Submissions and their test cases (SQLite). Every Bytes field of the model is a BLOB:
-- plain bytes, NULL apart from empty. Times are microseconds, sizes KiB.
CREATE TABLE submissions (
        id INTEGER PRIMARY KEY, -- creation order, breaks ties of created_at_usec
        token TEXT NOT NULL UNIQUE CHECK (length(token) = 36),

        -- input
        source_code BLOB,
        language_id INTEGER NOT NULL,
        stdin BLOB,
        expected_output BLOB,
        compiler_options BLOB,
        command_line_arguments BLOB,
        additional_files BLOB,
        callback_url BLOB,
        number_of_runs INTEGER NOT NULL,
        cpu_time_limit_usec INTEGER NOT NULL,
        cpu_extra_time_usec INTEGER NOT NULL,
        wall_time_limit_usec INTEGER NOT NULL,
        memory_limit_kib INTEGER NOT NULL,
        stack_limit_kib INTEGER NOT NULL,
        max_processes_and_or_threads INTEGER NOT NULL,
        enable_per_process_and_thread_time_limit INTEGER NOT NULL CHECK (enable_per_process_and_thread_time_limit IN (0, 1)),
        enable_per_process_and_thread_memory_limit INTEGER NOT NULL CHECK (enable_per_process_and_thread_memory_limit IN (0, 1)),
        max_file_size_kib INTEGER NOT NULL,
        redirect_stderr_to_stdout INTEGER NOT NULL CHECK (redirect_stderr_to_stdout IN (0, 1)),
        enable_network INTEGER NOT NULL CHECK (enable_network IN (0, 1)),
        compare INTEGER NOT NULL,
        tolerance REAL NOT NULL,
        stop_on_failure INTEGER NOT NULL CHECK (stop_on_failure IN (0, 1)),

        -- result
        status_id INTEGER NOT NULL DEFAULT 1 CHECK (status_id BETWEEN 1 AND 14),
        stdout BLOB,
        stderr BLOB,
        compile_output BLOB,
        message BLOB,
        time_usec INTEGER,
        wall_time_usec INTEGER,
        memory_kib INTEGER,
        exit_code INTEGER,
        exit_signal INTEGER,
        memory_limit_exceeded INTEGER NOT NULL DEFAULT 0 CHECK (memory_limit_exceeded IN (0, 1)),

        -- bookkeeping
        created_at_usec INTEGER NOT NULL, -- since the epoch, UTC
        finished_at_usec INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0
) STRICT;

-- GET /submissions: newest first.
CREATE INDEX submissions_by_created_at ON submissions (created_at_usec, id);
-- Re-queued at start-up: only the few rows not final yet.
CREATE INDEX submissions_unfinished ON submissions (created_at_usec, id) WHERE status_id IN (1, 2);

-- The many-test-cases extension: one row per test case, in order.
CREATE TABLE submission_tests (
        submission_id INTEGER NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL, -- 0, 1, 2...

        -- input
        stdin BLOB,
        expected_output BLOB,

        -- result
        status_id INTEGER NOT NULL DEFAULT 1,
        stdout BLOB,
        stderr BLOB,
        message BLOB,
        time_usec INTEGER,
        wall_time_usec INTEGER,
        memory_kib INTEGER,
        exit_code INTEGER,
        exit_signal INTEGER,
        memory_limit_exceeded INTEGER NOT NULL DEFAULT 0 CHECK (memory_limit_exceeded IN (0, 1)),

        PRIMARY KEY (submission_id, ordinal)
) STRICT;
