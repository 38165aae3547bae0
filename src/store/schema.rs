//! Schema migrations, applied in order; `PRAGMA user_version` holds how many have run.
//! Never edit a released migration: append a new one.

/// The migrations, oldest first.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: advisories, their indexes, per-source state, and the monitor's tables.
    r#"
    CREATE TABLE sources (
        source        TEXT PRIMARY KEY,
        records       INTEGER NOT NULL DEFAULT 0,  -- kept by each sync, so no scan counts rows
        cursor        TEXT,
        etag          TEXT,
        last_modified TEXT,
        last_attempt  TEXT,
        last_success  TEXT,
        last_error    TEXT
    );
    CREATE TABLE advisories (               -- a rowid table: records are large (SQLite advises
        rowid     INTEGER PRIMARY KEY,      -- WITHOUT ROWID only for small rows)
        source    TEXT NOT NULL,
        id        TEXT NOT NULL,
        modified  TEXT NOT NULL,
        withdrawn INTEGER NOT NULL,
        record    TEXT NOT NULL,            -- the OSV record as JSON
        UNIQUE (source, id)
    );
    CREATE TABLE affected (
        ecosystem TEXT NOT NULL,            -- OSV spelling: crates.io, PyPI
        name      TEXT NOT NULL,            -- normalised (PEP 503 for PyPI)
        source    TEXT NOT NULL,
        id        TEXT NOT NULL,
        PRIMARY KEY (ecosystem, name, source, id),
        FOREIGN KEY (source, id) REFERENCES advisories (source, id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE INDEX affected_by_record ON affected (source, id);
    CREATE TABLE aliases (
        alias  TEXT NOT NULL,               -- every id of a record, its own included
        source TEXT NOT NULL,
        id     TEXT NOT NULL,
        PRIMARY KEY (alias, source, id),
        FOREIGN KEY (source, id) REFERENCES advisories (source, id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE INDEX aliases_by_record ON aliases (source, id);
    CREATE TABLE load_errors (
        source  TEXT NOT NULL,
        file    TEXT NOT NULL,
        id      TEXT,
        message TEXT NOT NULL
    );
    CREATE TABLE http_cache (                -- conditional requests and small cached bodies
        url           TEXT PRIMARY KEY,
        etag          TEXT,
        last_modified TEXT,
        fetched_at    TEXT NOT NULL,
        body          BLOB
    );
    CREATE TABLE crate_index (               -- yanked flags from the crates.io sparse index
        name       TEXT PRIMARY KEY,
        etag       TEXT,
        fetched_at TEXT NOT NULL,
        yanked     TEXT NOT NULL             -- JSON array of yanked versions
    );
    CREATE TABLE findings_seen (             -- the monitor's memory, per project
        project     TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        first_seen  TEXT NOT NULL,
        last_seen   TEXT NOT NULL,
        resolved_at TEXT,
        state       TEXT NOT NULL,           -- JSON: severity, fix, deadlines notified
        PRIMARY KEY (project, fingerprint)
    ) WITHOUT ROWID;
    CREATE TABLE outbox (                    -- notifications: written before sending
        id           INTEGER PRIMARY KEY,
        project      TEXT NOT NULL,
        channel      TEXT NOT NULL,
        event        TEXT NOT NULL,
        payload      TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT,
        sent_at      TEXT,
        last_error   TEXT
    );
    CREATE INDEX outbox_pending ON outbox (sent_at, next_attempt);
    "#,
    // 2: give up on a notification after too many failures; the runs the monitor made.
    r#"
    ALTER TABLE outbox ADD COLUMN gave_up_at TEXT;
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        outcome     TEXT,                    -- ok | partial | failed
        summary     TEXT                     -- JSON
    );
    "#,
    // 3: health of feeds, projects and channels across runs (alerts after repeated failures).
    r#"
    CREATE TABLE health (
        component       TEXT PRIMARY KEY,    -- feed:NAME, project:NAME, channel:slack|email
        failures        INTEGER NOT NULL DEFAULT 0, -- consecutive failed runs (0: healthy)
        first_failed_at TEXT,                -- RFC 3339, first failure of the current streak
        last_error      TEXT,                -- scrubbed of secrets by the caller
        alerted_at      TEXT                 -- RFC 3339 when a failing alert was queued
    );
    "#,
    // 4: records as an older depwatch converted them are read again. The store keeps converted
    // records (RustSec TOML and GitHub REST to OSV) and skips a record whose `modified` has not
    // changed, so a conversion fix (RustSec `unaffected` bounds that are not fixes, GitHub REST
    // `< x` as a last known end, not a fix; a record once dropped over one unreadable version)
    // would never reach a store until the source edits each record. Every source is marked
    // `resync` and loses what lets its next sync skip work (fingerprint, cursor, ETag), so that
    // sync fetches everything and rewrites every record; until then scans say the store is
    // stale. A later conversion change appends a migration with the same UPDATE.
    r#"
    ALTER TABLE sources ADD COLUMN resync INTEGER NOT NULL DEFAULT 0;
    UPDATE sources SET resync = 1, cursor = NULL, etag = NULL, last_modified = NULL;
    "#,
    // 5: exploit intelligence (CISA KEV, FIRST EPSS). Not advisories: facts about CVE ids, one
    // data set of each kind (the last synced), replaced whole by a sync. The source that wrote
    // a set keeps its row in `sources` (sync times, errors); `records` there counts its rows.
    r#"
    CREATE TABLE IF NOT EXISTS signal_sets (
        kind    TEXT PRIMARY KEY,            -- kev | epss
        source  TEXT NOT NULL,               -- the source that wrote the set
        version TEXT,                        -- KEV catalogVersion, EPSS model_version
        dated   TEXT,                        -- KEV dateReleased, EPSS score date (YYYY-MM-DD)
        rows    INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS kev (
        cve            TEXT PRIMARY KEY,
        date_added     TEXT NOT NULL,        -- YYYY-MM-DD
        due_date       TEXT NOT NULL,        -- YYYY-MM-DD
        ransomware     TEXT NOT NULL,        -- knownRansomwareCampaignUse: Known | Unknown
        vendor_project TEXT NOT NULL,
        product        TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS epss (
        cve        TEXT PRIMARY KEY,
        score      REAL NOT NULL,
        percentile REAL NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 6: events held for a project's digest (`[notify] digest`), and when each project's last
    // digest was queued. Held items are written with the run's memory and deleted in the
    // transaction that queues the digest, so an event is in one of the two, never neither.
    // `IF NOT EXISTS`: a store an older depwatch downgraded re-runs this migration harmlessly.
    r#"
    CREATE TABLE IF NOT EXISTS digest_held (
        id       INTEGER PRIMARY KEY,
        project  TEXT NOT NULL,
        event    TEXT NOT NULL,              -- event kind name, for status and logs
        item     TEXT NOT NULL,              -- JSON: the event, why it was held, the run time
        held_at  TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS digest_held_by_project ON digest_held (project, id);
    CREATE TABLE IF NOT EXISTS digest_sent (
        project   TEXT PRIMARY KEY,
        queued_at TEXT NOT NULL              -- RFC 3339: when the last digest was queued
    );
    "#,
    // 7: work that scales with change. Every sync that writes or removes records bumps one
    // store-wide generation and stamps each (ecosystem, normalised package) it touched with it;
    // KEV/EPSS replacements stamp `everything` (they can change any project's findings). A
    // project remembers the hash of its inputs, the generation it was scanned at and its
    // packages, so an unchanged project with no changed package is not rescanned.
    r#"
    CREATE TABLE IF NOT EXISTS change_generation (
        kind       TEXT PRIMARY KEY,         -- current | everything
        generation INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS package_changes (
        ecosystem  TEXT NOT NULL,
        name       TEXT NOT NULL,            -- normalised
        generation INTEGER NOT NULL,         -- of its last change
        PRIMARY KEY (ecosystem, name)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS project_inputs (
        project    TEXT PRIMARY KEY,
        hash       TEXT NOT NULL,            -- SHA-256 of the project's inputs
        generation INTEGER NOT NULL,         -- the store generation it was scanned at
        packages   TEXT NOT NULL             -- JSON [[ecosystem, normalised name], ...]
    );
    "#,
    // 8: API tokens of `depwatch serve` (`depwatch token`). Only each token's SHA-256 is kept:
    // the token itself is shown once, when created. A revoked token stays listed.
    r#"
    CREATE TABLE IF NOT EXISTS api_tokens (
        id         INTEGER PRIMARY KEY,
        project    TEXT NOT NULL,             -- the project it may submit for; '*' for read tokens
        scope      TEXT NOT NULL,             -- 'submit' or 'read'
        hash       BLOB NOT NULL UNIQUE,      -- SHA-256 of the token
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    "#,
    // 9: the dashboard's history: each project's open findings per day by severity, written
    // in the transaction of the run's memory (the last run of a day wins), and its current
    // summary for the overview.
    r#"
    CREATE TABLE IF NOT EXISTS daily_open (
        project  TEXT NOT NULL,
        day      TEXT NOT NULL,              -- YYYY-MM-DD (UTC)
        severity TEXT NOT NULL,              -- critical, high, medium, low, unknown
        open     INTEGER NOT NULL,
        PRIMARY KEY (project, day, severity)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS daily_open_by_day ON daily_open (day);
    -- Each project's open findings as the overview shows them, written with its memory.
    CREATE TABLE IF NOT EXISTS project_summary (
        project TEXT PRIMARY KEY,
        summary TEXT NOT NULL                -- JSON: monitor::OpenSummary
    );
    "#,
];
