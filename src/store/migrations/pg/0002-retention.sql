-- Retention (store_purge()). A purged submission's row and its test cases are deleted and
-- a tombstone of a few bytes is kept in purged_submissions, so that its token reads as
-- gone, not as unknown.
-- payload_bytes is the size of a submission's stored inputs and outputs (its tests'
-- included), kept up to date by create and finish: the by-size policy sums it instead of
-- reading every blob.
ALTER TABLE submissions ADD COLUMN payload_bytes bigint NOT NULL DEFAULT 0;

UPDATE submissions SET payload_bytes =
        coalesce(octet_length(source_code), 0) + coalesce(octet_length(stdin), 0) +
        coalesce(octet_length(expected_output), 0) + coalesce(octet_length(compiler_options), 0) +
        coalesce(octet_length(command_line_arguments), 0) + coalesce(octet_length(additional_files), 0) +
        coalesce(octet_length(callback_url), 0) + coalesce(octet_length(stdout), 0) +
        coalesce(octet_length(stderr), 0) + coalesce(octet_length(compile_output), 0) +
        coalesce(octet_length(message), 0) +
        coalesce((SELECT sum(coalesce(octet_length(t.stdin), 0) + coalesce(octet_length(t.expected_output), 0) +
                        coalesce(octet_length(t.stdout), 0) + coalesce(octet_length(t.stderr), 0) +
                        coalesce(octet_length(t.message), 0))
                FROM submission_tests t WHERE t.submission_id = submissions.id), 0);

-- What the purger walks, oldest finished first; and what the by-size policy sums.
CREATE INDEX submissions_purgeable ON submissions (finished_at, id) INCLUDE (payload_bytes)
        WHERE status_id >= 3;
CREATE INDEX submissions_payload ON submissions (payload_bytes);

CREATE TABLE purged_submissions (
        token uuid PRIMARY KEY,
        status_id integer NOT NULL,
        language_id integer NOT NULL,
        created_at timestamptz NOT NULL,
        finished_at timestamptz,
        purged_at timestamptz NOT NULL
);
