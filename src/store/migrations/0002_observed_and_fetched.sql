-- blackout state, schema 2: what the runs observed themselves, as evidence beside the
-- publishers' dates (README, "Observed timing"), and what they fetched, for conditional GET.

-- The blackout that made the run: the digests of two captures are compared only when the same
-- extraction made them, so an upgrade does not pass for a change of every page.
ALTER TABLE runs ADD COLUMN tool TEXT;

-- A source's problems this run by stage (`{"fetch": 2, "date": 1}`): where its health failed.
ALTER TABLE source_health ADD COLUMN stages TEXT;

-- The last whole read of each feed and sitemap: an item that a later read lists was not
-- there then (a read cut short or failed proves nothing and is not recorded here).
CREATE TABLE listings (
    source    TEXT NOT NULL,
    url       TEXT NOT NULL,
    last_run  {int} NOT NULL,
    last_read TEXT NOT NULL,
    PRIMARY KEY (source, url)
);

-- When an item was first seen, the last whole read before that of a listing that listed it:
-- the item appeared after `absent_at` and by `first_seen`. NULL when no earlier read exists
-- (and for items first seen under schema 1).
ALTER TABLE items ADD COLUMN absent_at TEXT;

-- The digests of the item's feed entries as last read (title, summary, content, dates),
-- comma-separated: an entry read again unchanged, whose page an earlier run read, need not be
-- fetched again when it is dated before the windows.
ALTER TABLE items ADD COLUMN entries TEXT;

-- The item's content as last captured: its version digest, when and by which run it was last
-- seen so, and whether its page was read (a capture from the feed alone is compared only
-- with another from the feed alone); and, when a run saw it change into this content, the
-- interval of the change: after the last capture of the content before, by the first of this.
ALTER TABLE items ADD COLUMN capture TEXT;
ALTER TABLE items ADD COLUMN capture_at TEXT;
ALTER TABLE items ADD COLUMN capture_run {int};
ALTER TABLE items ADD COLUMN capture_page {int};
ALTER TABLE items ADD COLUMN changed_after TEXT;
ALTER TABLE items ADD COLUMN changed_by TEXT;

-- What was fetched, for conditional GET: the validators of the last body fetched whole from
-- each address, and the body's SHA-256 and length. Bodies are files, named by their digest,
-- beside a SQLite store (`<store>.bodies/`) or in each machine's data directory for a
-- PostgreSQL one: a night of a large outlet is gigabytes of HTML, which would swell the
-- database and every backup of it. A machine that does not have a body sends no validators
-- for it.
CREATE TABLE documents (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    content_type  TEXT,
    digest        TEXT NOT NULL,
    length        {int} NOT NULL,
    run           {int} NOT NULL,
    fetched_at    TEXT NOT NULL
);
CREATE INDEX documents_digest ON documents (digest);

-- Who holds each run lock of a PostgreSQL store (a SQLite store locks a file beside it and
-- leaves this table empty). The lock
-- itself is a session advisory lock, which the server releases when its holder's connection
-- ends however it ends; this row names the holder for a run that waits, and is deleted on a
-- clean release, so one found when the lock is free was left by a run that died.
CREATE TABLE run_locks (
    name  TEXT PRIMARY KEY,
    pid   {int} NOT NULL,
    host  TEXT NOT NULL,
    since TEXT NOT NULL
);
