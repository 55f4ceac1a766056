-- blackout state, schema 3: every document a run fetched, as evidence (issue 13): what was
-- asked, where it ended, every HTTP exchange on the way, and the body, kept as a file named by
-- its SHA-256 (beside the bodies kept for conditional GET: the same name is the same file).

CREATE TABLE captures (
    run        {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq        {int} NOT NULL,
    -- The address asked for, and the one the body came from after redirects.
    url        TEXT NOT NULL,
    final_url  TEXT NOT NULL,
    -- For a file read from disk: its path (no HTTP exchange then).
    file       TEXT,
    -- SHA-256 of the body as read (after content decoding), which names its file, and its length.
    digest     TEXT NOT NULL,
    length     {int} NOT NULL,
    -- 1 when the body was cut at the size cap.
    truncated  {int} NOT NULL,
    -- 1 for a `304 Not Modified`: the body is the one an earlier capture of the address holds.
    revisit    {int} NOT NULL,
    -- JSON: the exchanges, in order (url, request_headers, status, headers, started, ended, peer).
    exchanges  TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (run, seq)
);

CREATE INDEX captures_digest ON captures (digest);
