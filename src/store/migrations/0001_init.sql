-- blackout state, schema 1, for SQLite and PostgreSQL alike: integer keys the database
-- assigns and 64-bit integers are written as placeholders in braces, which `migrate::render`
-- turns into each dialect's words.
-- Instants are RFC 3339 in UTC (`2017-05-06T21:30:00Z`), so they sort as text. Run ids in items, versions and findings are plain numbers, not references:
-- pruning old runs keeps the findings and versions that name them.

CREATE TABLE runs (
    id           {id},
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    evaluated_at TEXT NOT NULL,
    election     TEXT NOT NULL,
    rule_files   TEXT NOT NULL,  -- JSON: [{ "path", "sha256" }]
    options      TEXT NOT NULL,  -- JSON: the options that shape the verdicts
    outcome      TEXT            -- clean | findings | incomplete | nothing_checked
);

CREATE TABLE source_health (
    run       {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    source    TEXT NOT NULL,
    status    TEXT NOT NULL,     -- checked | incomplete | not_checked
    reason    TEXT,
    documents {int} NOT NULL,
    cached    {int} NOT NULL,
    failed    {int} NOT NULL,
    items     {int} NOT NULL,
    PRIMARY KEY (source, run)
);

CREATE TABLE items (
    id         {id},
    source     TEXT NOT NULL,
    url        TEXT NOT NULL,     -- the identity: normalised link, or feed#entry-digest
    guid       TEXT,              -- the feed's id of the entry as last read (recorded, not trusted)
    title      TEXT,
    first_run  {int} NOT NULL,
    first_seen TEXT NOT NULL,
    last_run   {int} NOT NULL,
    last_seen  TEXT NOT NULL,
    published  TEXT,              -- the publisher's dates as last read, as written
    modified   TEXT,
    UNIQUE (source, url)
);
CREATE INDEX items_last_seen ON items (last_seen);

CREATE TABLE versions (
    id         {id},
    item       {int} NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    digest     TEXT NOT NULL,
    first_run  {int} NOT NULL,
    first_seen TEXT NOT NULL,
    UNIQUE (item, digest)
);

CREATE TABLE findings (
    id             TEXT PRIMARY KEY,  -- the short id reports show (from the key)
    rule           TEXT NOT NULL,
    source         TEXT NOT NULL,
    url            TEXT NOT NULL,
    materials      TEXT NOT NULL,     -- sorted ids, comma-separated
    status         TEXT NOT NULL,     -- new | open | resolved
    resolution     TEXT,              -- when resolved: no_longer_matching | no_longer_listed
    first_run      {int} NOT NULL,
    first_reported TEXT NOT NULL,
    last_run       {int} NOT NULL,
    last_reported  TEXT NOT NULL,
    version        TEXT NOT NULL,     -- digest of the item's version it was found in
    UNIQUE (rule, source, url, materials)
);
CREATE INDEX findings_source_status ON findings (source, status);

-- Problems met, by source, address and code, over an unbroken series of runs of the source:
-- what `--new-only` tells apart from last night's.
CREATE TABLE problems (
    source    TEXT NOT NULL,
    url       TEXT NOT NULL,
    code      TEXT NOT NULL,
    first_run {int} NOT NULL,
    last_run  {int} NOT NULL,
    PRIMARY KEY (source, url, code)
);

CREATE TABLE reviews (
    id       {id},
    finding  TEXT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    verdict  TEXT NOT NULL CHECK (verdict IN ('false_positive', 'confirmed')),
    note     TEXT,
    reviewer TEXT NOT NULL,
    at       TEXT NOT NULL,
    version  TEXT NOT NULL            -- the finding's version when it was reviewed
);
CREATE INDEX reviews_finding ON reviews (finding);
