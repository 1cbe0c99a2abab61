-- Retention (store_purge()). A purged submission's row and its test cases are deleted (so
-- that whole pages are freed and given back) and a tombstone of a few bytes is kept in
-- purged_submissions, so that its token reads as gone, not as unknown.
-- payload_bytes is the size of a submission's stored inputs and outputs (its tests'
-- included), kept up to date by create and finish: the by-size policy sums it instead of
-- reading every blob.
ALTER TABLE submissions ADD COLUMN payload_bytes INTEGER NOT NULL DEFAULT 0;

UPDATE submissions SET payload_bytes =
        coalesce(length(source_code), 0) + coalesce(length(stdin), 0) +
        coalesce(length(expected_output), 0) + coalesce(length(compiler_options), 0) +
        coalesce(length(command_line_arguments), 0) + coalesce(length(additional_files), 0) +
        coalesce(length(callback_url), 0) + coalesce(length(stdout), 0) +
        coalesce(length(stderr), 0) + coalesce(length(compile_output), 0) +
        coalesce(length(message), 0) +
        coalesce((SELECT sum(coalesce(length(t.stdin), 0) + coalesce(length(t.expected_output), 0) +
                        coalesce(length(t.stdout), 0) + coalesce(length(t.stderr), 0) +
                        coalesce(length(t.message), 0))
                FROM submission_tests t WHERE t.submission_id = submissions.id), 0);

-- What the purger walks, oldest finished first; and what the by-size policy sums.
CREATE INDEX submissions_purgeable ON submissions (finished_at_usec, id, payload_bytes) WHERE status_id >= 3;
CREATE INDEX submissions_payload ON submissions (payload_bytes);

CREATE TABLE purged_submissions (
        token TEXT PRIMARY KEY CHECK (length(token) = 36),
        status_id INTEGER NOT NULL,
        language_id INTEGER NOT NULL,
        created_at_usec INTEGER NOT NULL,
        finished_at_usec INTEGER,
        purged_at_usec INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
