-- blackout state, schema 3: what each run rests on, as evidence (issue 13).
--
-- Every document a run fetched: its capture (canonical JSON: what was asked, where it ended,
-- status, headers, every HTTP exchange with the peer's address, instants, or why it failed),
-- and its body, kept as a blob named by its SHA-256 beside the store.
CREATE TABLE captures (
    run    {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq    {int} NOT NULL,
    url    TEXT NOT NULL,
    -- The body's SHA-256 in hex (its blob's name); NULL for a failed fetch.
    body   TEXT,
    record TEXT NOT NULL,
    PRIMARY KEY (run, seq)
);
CREATE INDEX captures_body ON captures (body);
CREATE INDEX captures_url ON captures (url);

-- Each run's manifest (canonical JSON) and its SHA-256, which the next run's names: a chain
-- in which an altered or removed run shows. `token` is an RFC 3161 timestamp token over the
-- digest, when a TSA gave one; `token_error` says why not, when one was asked and did not.
CREATE TABLE manifests (
    run         {int} PRIMARY KEY REFERENCES runs (id),
    digest      TEXT NOT NULL UNIQUE,
    previous    TEXT,
    manifest    TEXT NOT NULL,
    token       TEXT,
    token_error TEXT
);

-- What `state prune` took from the chain: the first manifest left names the last one pruned.
CREATE TABLE pruned_manifests (
    through_run {int} NOT NULL,
    last_digest TEXT NOT NULL,
    pruned_at   TEXT NOT NULL
);

-- Every other blob a run names (its record, the files it read its rules from, the texts it
-- judged): what `state prune` keeps while the run is there.
CREATE TABLE run_blobs (
    run    {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (run, digest)
);
CREATE INDEX run_blobs_digest ON run_blobs (digest);
